import ArgumentParser
import AsyncHTTPClient
import Foundation
import HeadwayServer
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Options shared by every `upstreams` subcommand.
struct AdminOptions: ParsableArguments {
    @Option(name: .long, help: "The admin API's base URL.")
    var admin: String = ProcessInfo.processInfo.environment["HEADWAY_ADMIN"] ?? "http://127.0.0.1:8550"

    @Option(name: .long, help: "Bearer token (default: $HEADWAY_ADMIN_TOKEN).")
    var token: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    /// Sends one request to the admin API; exits 1 with a clear message when it cannot be reached.
    func call(_ method: HTTPMethod, _ path: String, body: Data? = nil) async throws -> (status: Int, body: Data) {
        let base = admin.hasSuffix("/") ? String(admin.dropLast()) : admin
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token = token ?? ProcessInfo.processInfo.environment["HEADWAY_ADMIN_TOKEN"], !token.isEmpty {
            request.headers.add(name: "authorization", value: "Bearer \(token)")
        }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let client = HTTPClient.shared
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
            return (Int(response.status.code), Data(buffer: buffer))
        } catch {
            printError("error: cannot reach the Headway admin API at \(admin) (\(error)); is `headway serve` running? (--admin URL)")
            throw ExitCode(1)
        }
    }

    /// Prints the API's error message and exits 1 unless `status` is 2xx.
    func check(_ response: (status: Int, body: Data)) throws {
        guard (200..<300).contains(response.status) else {
            let message =
                (try? JSONDecoder().decode([String: String].self, from: response.body))?["error"]
                ?? String(decoding: response.body, as: UTF8.self)
            printError("error: HTTP \(response.status): \(message)")
            throw ExitCode(1)
        }
    }

    func show(_ views: [UpstreamView], raw: Data) {
        if json {
            print(String(decoding: raw, as: UTF8.self))
            return
        }
        let rows = views.map { view in
            [
                view.name, view.network, view.role, view.state, view.healthy ? "yes" : "no",
                view.head.map(String.init) ?? "-", view.lag.map(String.init) ?? "-",
                view.latencyMs.map { String(format: "%.1f", $0) } ?? "-", view.url,
            ]
        }
        print(table(["NAME", "NETWORK", "ROLE", "STATE", "IN ROTATION", "HEAD", "LAG", "LATENCY MS", "URL"], rows))
    }
}

struct Upstreams: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and change the upstreams of a running gateway (through its admin API).",
        subcommands: [List.self, Add.self, Remove.self, Disable.self, Enable.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List upstreams with their health.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let response = try await options.call(.GET, "/api/v1/upstreams")
            try options.check(response)
            let views = try UpstreamView.decoder.decode([UpstreamView].self, from: response.body)
            options.show(views, raw: response.body)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an upstream (it persists across restarts).")
        @Argument(help: "Unique name.") var name: String
        @Argument(help: "HTTP(S) JSON-RPC URL.") var url: String
        @Option(help: "WebSocket URL.") var ws: String?
        @Option(help: "primary or fallback.") var role: String?
        @Option(help: "Network (required when several are configured).") var network: String?
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let body = try JSONEncoder().encode(NewUpstream(name: name, url: url, ws: ws, role: role, network: network))
            let response = try await options.call(.POST, "/api/v1/upstreams", body: body)
            try options.check(response)
            let view = try UpstreamView.decoder.decode(UpstreamView.self, from: response.body)
            options.show([view], raw: response.body)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an upstream (it stays removed across restarts).")
        @Argument var name: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let response = try await options.call(.DELETE, "/api/v1/upstreams/\(Self.escape(name))")
            try options.check(response)
            print(options.json ? #"{"removed":\#(JSONEncoder.quote(name))}"# : "removed \(name)")
        }

        static func escape(_ name: String) -> String {
            name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? name
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take an upstream out of rotation.")
        @Argument var name: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await toggle(options, name, "disable")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put a disabled upstream back (it returns once healthy).")
        @Argument var name: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await toggle(options, name, "enable")
        }
    }

    static func toggle(_ options: AdminOptions, _ name: String, _ action: String) async throws {
        let response = try await options.call(.POST, "/api/v1/upstreams/\(Remove.escape(name))/\(action)")
        try options.check(response)
        let view = try UpstreamView.decoder.decode(UpstreamView.self, from: response.body)
        options.show([view], raw: response.body)
    }
}

extension JSONEncoder {
    static func quote(_ text: String) -> String {
        (try? String(decoding: JSONEncoder().encode(text), as: UTF8.self)) ?? "\"\""
    }
}
