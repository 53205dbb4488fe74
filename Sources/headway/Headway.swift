import ArgumentParser

@main
struct Headway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "headway",
        abstract: "A health-aware JSON-RPC gateway for your own Ethereum nodes.",
        subcommands: [Serve.self, Upstreams.self, CheckConfig.self])
}
