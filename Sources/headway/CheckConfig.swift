import ArgumentParser
import HeadwayApp

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate a configuration file; name the offending key and line on error.")

    @Argument(help: "The YAML configuration file.")
    var file: String

    func run() throws {
        do {
            let loaded = try ConfigLoader.load(path: file)
            for name in loaded.missingVariables {
                print("warning: environment variable \(name) is not set (it reads as an empty string)")
            }
            let upstreams = loaded.config.networks.map(\.upstreams.count).reduce(0, +)
            print("\(file): ok (\(loaded.config.networks.count) network(s), \(upstreams) upstream(s))")
        } catch let errors as ConfigErrors {
            for error in errors.errors { printError("\(file): \(error)") }
            throw ExitCode(1)
        }
    }
}
