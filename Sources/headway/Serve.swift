import ArgumentParser
import Foundation
import HeadwayApp
import HeadwayCore
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway.")

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String = "headway.yaml"

    @Option(name: .long, help: "Override server.listen (host:port).")
    var listen: String?

    @Option(name: .customLong("admin-listen"), help: "Override admin.listen (host:port).")
    var adminListen: String?

    @Option(name: .long, help: "Override store (sqlite:PATH).")
    var store: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = LazyMetadataLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "headway")
        var loaded: ConfigLoader.Loaded
        do {
            loaded = try ConfigLoader.load(path: config)
        } catch let errors as ConfigErrors {
            for error in errors.errors { printError("\(config): \(error)") }
            throw ExitCode(1)
        }
        for name in loaded.missingVariables {
            logger.warning("environment variable referenced by the configuration is not set", metadata: ["variable": "\(name)"])
        }
        if let listen {
            guard let address = ListenAddress(parsing: listen) else { throw ValidationError("--listen: expected host:port") }
            loaded.config.server.listen = address
        }
        if let adminListen {
            guard let address = ListenAddress(parsing: adminListen) else { throw ValidationError("--admin-listen: expected host:port") }
            loaded.config.admin.listen = address
        }
        if let store { loaded.config.store = store }
        let application: HeadwayApplication
        do {
            application = try await HeadwayApplication(config: loaded.config, logger: logger)
        } catch let error as HeadwayApplication.StartError {
            logger.critical("\(error.description)")
            throw ExitCode(2)
        }
        try await application.run()
    }
}
