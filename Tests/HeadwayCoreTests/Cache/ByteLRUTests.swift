import Testing

@testable import HeadwayCore

@Suite struct ByteLRUTests {
    @Test func theLeastRecentlyUsedGoFirstWhenTheBytesRunOut() {
        var lru = ByteLRU<Int>(capacity: 100)
        lru.set("a", 1, size: 40)
        lru.set("b", 2, size: 40)
        #expect(lru.value(for: "a") == 1, "a is now the most recently used")
        lru.set("c", 3, size: 40)
        #expect(lru.value(for: "b") == nil, "b was the least recently used")
        #expect(lru.value(for: "a") == 1 && lru.value(for: "c") == 3)
        #expect(lru.size == 80 && lru.count == 2)
    }

    @Test func replacingAKeyCountsItsNewSizeOnly() {
        var lru = ByteLRU<String>(capacity: 100)
        lru.set("a", "old", size: 60)
        lru.set("a", "new", size: 30)
        #expect(lru.size == 30 && lru.value(for: "a") == "new")
        lru.set("b", "b", size: 70)
        #expect(lru.count == 2 && lru.size == 100)
    }

    @Test func aValueLargerThanTheCapacityIsNotKept() {
        var lru = ByteLRU<Int>(capacity: 10)
        lru.set("a", 1, size: 5)
        lru.set("huge", 2, size: 11)
        #expect(lru.value(for: "huge") == nil && lru.value(for: "a") == 1)
    }

    @Test func manyEntriesStayWithinTheBound() {
        var lru = ByteLRU<Int>(capacity: 1000)
        for index in 0..<10_000 {
            lru.set("k\(index)", index, size: 1 + index % 7)
            #expect(lru.size <= 1000)
        }
        #expect(lru.value(for: "k9999") == 9999)
        lru.remove("k9999")
        #expect(lru.value(for: "k9999") == nil)
    }
}
