// swift-tools-version:6.2
import PackageDescription

/// Every target of ours: Swift 6 language mode (strict concurrency) and no warnings.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "headway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "headway", targets: ["headway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        .target(
            name: "JSONRPC",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .target(
            name: "HeadwayCore",
            dependencies: [
                "JSONRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeadwayUpstream",
            dependencies: [
                "HeadwayCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeadwayStore",
            dependencies: ["HeadwayCore"],
            swiftSettings: strict
        ),
        .target(
            name: "HeadwayStoreSQLite",
            dependencies: [
                "HeadwayStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeadwayServer",
            dependencies: [
                "HeadwayCore",
                "HeadwayStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeadwayApp",
            dependencies: [
                "HeadwayCore",
                "HeadwayUpstream",
                "HeadwayStore",
                "HeadwayStoreSQLite",
                "HeadwayServer",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "headway",
            dependencies: [
                "HeadwayApp",
                "HeadwayServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "HeadwayTesting",
            dependencies: [
                "HeadwayCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Tests/HeadwayTesting",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "fakenode",
            dependencies: ["HeadwayTesting"],
            path: "Tests/FakeNodeServer",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "wsbench",
            dependencies: [
                "HeadwayCore",
                "HeadwayTesting",
                "CEpoll",
            ],
            path: "Tests/WebSocketBench",
            swiftSettings: strict
        ),
        .target(name: "CEpoll", path: "Tests/CEpoll"),
        .testTarget(name: "JSONRPCTests", dependencies: ["JSONRPC"], swiftSettings: strict),
        .testTarget(name: "HeadwayCoreTests", dependencies: ["HeadwayCore", "HeadwayTesting"], swiftSettings: strict),
        .testTarget(name: "HeadwayUpstreamTests", dependencies: ["HeadwayUpstream", "HeadwayTesting"], swiftSettings: strict),
        .testTarget(
            name: "HeadwayStoreTests",
            dependencies: ["HeadwayStore", "HeadwayStoreSQLite"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HeadwayServerTests",
            dependencies: [
                "HeadwayServer", "HeadwayCore",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HeadwayAppTests",
            dependencies: [
                "HeadwayApp", "HeadwayTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: strict
        ),
    ]
)
