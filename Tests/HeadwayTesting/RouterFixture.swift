import HeadwayCore
import JSONRPC
import NIOCore

/// A network of scripted upstreams after one health round: the starting point of router tests.
public enum RouterFixture {
    /// A router named `main` (chain 1) with short timeouts, `configure` applied, the upstreams
    /// added and one health round run.
    public static func network(
        _ upstreams: [(String, UpstreamRole, ScriptedTransport)], configure: (inout NetworkConfig) -> Void = { _ in }
    ) async -> NetworkRouter {
        var config = NetworkConfig(name: "main", chainID: 1)
        config.health.timeout = .milliseconds(200)
        config.request.attemptTimeout = .milliseconds(300)
        configure(&config)
        let router = NetworkRouter(config: config)
        for (name, role, transport) in upstreams {
            router.add(UpstreamDefinition(name: name, network: "main", role: role, url: "http://\(name)"), transport: transport)
        }
        await HealthMonitor(router: router, clock: ContinuousClock()).runRound()
        return router
    }

    /// A request with raw `params`.
    public static func request(_ method: String, _ params: String = "[]", id: Int = 1) -> JSONRPCRequest {
        JSONRPCRequest(id: id, method: method, params: params)
    }

    /// Who answered, when someone did.
    public static func answeredBy(_ outcome: ForwardOutcome) -> String? {
        if case .answered(_, let upstream, _) = outcome { return upstream }
        return nil
    }

    /// The answer's body, when someone answered.
    public static func body(_ outcome: ForwardOutcome) -> String? {
        if case .answered(let response, _, _) = outcome { return String(buffer: response.body) }
        return nil
    }

    /// A script answering `method` with `answer` (raw JSON after `"id":ID,`) and the rest as a
    /// healthy node at `head`.
    public static func answering(
        _ method: String, with answer: String, name: String, head: UInt64 = 100
    ) -> ScriptedTransport.Script {
        let healthy = ScriptedTransport.healthy(name, head: head)
        return { requested, body throws(UpstreamFailure) in
            guard requested == method else { return try await healthy(requested, body) }
            return #"{"jsonrpc":"2.0","id":\#(ScriptedTransport.id(in: body)),\#(answer)}"#
        }
    }
}
