/// Values by key, bounded by their total size: adding past `capacity` drops the least recently
/// used. Lookups and insertions are O(1) (a dictionary of slots in a doubly linked list kept in
/// an array). Not thread-safe: its owner locks.
struct ByteLRU<Value> {
    struct Slot {
        var key: String
        var value: Value
        var size: Int
        var newer: Int?
        var older: Int?
    }

    let capacity: Int
    private(set) var size = 0
    private var slots: [Slot?] = []
    private var free: [Int] = []
    private var index: [String: Int] = [:]
    /// The most and the least recently used slots.
    private var newest: Int?
    private var oldest: Int?

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { index.count }

    /// The value for `key`, which becomes the most recently used.
    mutating func value(for key: String) -> Value? {
        guard let slot = index[key] else { return nil }
        unlink(slot)
        link(slot)
        return slots[slot]?.value
    }

    /// Stores `value` (`size` bytes) for `key`, dropping the least recently used entries until it
    /// fits; a value larger than the whole capacity is not stored.
    mutating func set(_ key: String, _ value: Value, size: Int) {
        remove(key)
        guard size <= capacity else { return }
        while self.size + size > capacity, let oldest { remove(slots[oldest]!.key) }
        let slot = free.popLast() ?? slots.count
        let entry = Slot(key: key, value: value, size: size)
        if slot == slots.count { slots.append(entry) } else { slots[slot] = entry }
        index[key] = slot
        self.size += size
        link(slot)
    }

    mutating func remove(_ key: String) {
        guard let slot = index.removeValue(forKey: key) else { return }
        unlink(slot)
        size -= slots[slot]!.size
        slots[slot] = nil
        free.append(slot)
    }

    /// Makes `slot` the newest.
    private mutating func link(_ slot: Int) {
        slots[slot]!.older = newest
        slots[slot]!.newer = nil
        if let newest { slots[newest]!.newer = slot }
        newest = slot
        if oldest == nil { oldest = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let (newer, older) = (slots[slot]!.newer, slots[slot]!.older)
        if let newer { slots[newer]!.older = older } else { newest = older }
        if let older { slots[older]!.newer = newer } else { oldest = newer }
    }
}

extension ByteLRU: Sendable where Value: Sendable {}
extension ByteLRU.Slot: Sendable where Value: Sendable {}
