import HeadwayCore
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypesHTTP1
import Testing

@testable import HeadwayServer

/// Where ``RPCChannelHandler`` ends up in Hummingbird's HTTP/1 pipeline: the installer is added
/// where Hummingbird adds extra handlers (after the conversion to Swift HTTP Types) and must put
/// the handler before that conversion, then leave.
@Suite struct RPCChannelHandlerInstallerTests {
    func handler() -> RPCChannelHandler {
        RPCChannelHandler(gateway: Gateway(networks: [], server: ServerConfig()), maxBodyBytes: 1000)
    }

    @Test func theHandlerGoesRightBeforeTheHTTPTypesConversionAndTheInstallerLeaves() throws {
        let channel = EmbeddedChannel()
        let pipeline = channel.pipeline.syncOperations
        try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
        let codec = HTTP1ToHTTPServerCodec(secure: false)
        try pipeline.addHandler(codec)
        let rpc = handler()
        try pipeline.addHandler(RPCChannelHandler.Installer(rpc))

        #expect(throws: (any Error).self) { try pipeline.handler(type: RPCChannelHandler.Installer.self) }
        #expect(try pipeline.handler(type: RPCChannelHandler.self) === rpc)
        #expect(try pipeline.handler(type: HTTP1ToHTTPServerCodec.self) === codec)
        // The pipeline's description names its handlers head to tail.
        let order = ["ByteToMessageHandler<HTTPDecoder", "RPCChannelHandler", "HTTP1ToHTTPServerCodec"].map {
            channel.pipeline.debugDescription.range(of: $0)?.lowerBound
        }
        #expect(order.allSatisfy { $0 != nil } && order == order.sorted { $0! < $1! }, "\(channel.pipeline.debugDescription)")
        _ = try channel.finish()
    }

    @Test func withoutTheConversionTheHandlerStaysOutAndTheRoutesServe() throws {
        let channel = EmbeddedChannel()
        let pipeline = channel.pipeline.syncOperations
        try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
        try pipeline.addHandler(RPCChannelHandler.Installer(handler()))

        #expect(throws: (any Error).self) { try pipeline.handler(type: RPCChannelHandler.Installer.self) }
        #expect(throws: (any Error).self) { try pipeline.handler(type: RPCChannelHandler.self) }
        _ = try channel.finish()
    }
}
