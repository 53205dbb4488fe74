import Synchronization

extension Atomic where Value == UInt64 {
    /// Raises the value to `value` unless it is already at least that (a head that only moves up).
    func raise(to value: UInt64) {
        var current = load(ordering: .relaxed)
        while value > current {
            let (exchanged, original) = compareExchange(expected: current, desired: value, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}
