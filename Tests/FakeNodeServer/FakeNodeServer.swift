import Foundation
import HeadwayTesting

/// `fakenode PORT [HEAD] [CHAIN_ID]`: a fast fake Ethereum node for benchmarks (see bench/).
@main
struct FakeNodeServer {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2, let port = Int(arguments[1]) else {
            FileHandle.standardError.write(Data("usage: fakenode PORT [HEAD] [CHAIN_ID]\n".utf8))
            exit(2)
        }
        let head = arguments.count > 2 ? UInt64(arguments[2]) ?? 100 : 100
        let chainID = arguments.count > 3 ? UInt64(arguments[3]) ?? 1 : 1
        let node = try await FakeNode.start(name: "fake-\(port)", chainID: chainID, head: head, port: port)
        node.update { $0.fast = true }
        print("fakenode listening on \(node.url)")
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
