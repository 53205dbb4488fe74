import HeadwayCore
import Testing

@Suite struct URLRedactorTests {
    @Test(arguments: [
        ("https://mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161", "https://mainnet.infura.io/v3/***"),
        ("https://eth-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrSt-123", "https://eth-mainnet.g.alchemy.com/v2/***"),
        ("http://user:secret@10.0.0.5:8545", "http://***@10.0.0.5:8545"),
        ("https://rpc.example/?apikey=XYZ&x=1", "https://rpc.example/?***"),
        ("http://10.0.0.5:8545", "http://10.0.0.5:8545"),
        ("http://127.0.0.1:8545/rpc/mainnet", "http://127.0.0.1:8545/rpc/mainnet"),
        ("wss://node.example/ws/abcdef0123456789abcdef", "wss://node.example/ws/***"),
    ])
    func secretsAreHidden(url: String, expected: String) {
        #expect(URLRedactor.redact(url) == expected)
    }
}
