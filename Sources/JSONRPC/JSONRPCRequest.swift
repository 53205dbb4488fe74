import NIOCore

/// One valid JSON-RPC 2.0 request object, as scanned from a client body.
///
/// Only the envelope is decoded: `method` as a string; `id` and `params` stay raw bytes, and
/// ``body`` is the original request object, forwarded to the upstream unchanged.
public struct JSONRPCRequest: Sendable {
    /// The request id exactly as the client sent it; `nil` for a notification.
    public var id: RawJSON?
    public var method: String
    public var params: RawJSON?
    /// The original bytes of the request object.
    public var body: ByteBuffer

    public init(id: RawJSON?, method: String, params: RawJSON?, body: ByteBuffer) {
        self.id = id
        self.method = method
        self.params = params
        self.body = body
    }

    /// A request built by the gateway itself (health probes).
    public init(id: Int, method: String, params: String = "[]") {
        let text = #"{"jsonrpc":"2.0","id":\#(id),"method":\#(JSONString.quoted(method)),"params":\#(params)}"#
        self.init(id: RawJSON(String(id)), method: method, params: RawJSON(params), body: ByteBuffer(string: text))
    }

    public var isNotification: Bool { id == nil }
}

/// One element of a client body: a request, or an object that is not a valid request.
public enum JSONRPCItem: Sendable {
    case request(JSONRPCRequest)
    /// Not a valid request; answered with -32600 and the id when one could be read.
    case invalid(id: RawJSON?, error: JSONRPCError)
}

/// A parsed client body: one item or a non-empty batch.
public enum JSONRPCBody: Sendable {
    case single(JSONRPCItem)
    case batch([JSONRPCItem])

    /// Parses a client body. Throws ``JSONRPCError`` -32700 when it is not JSON,
    /// -32600 for an empty batch.
    public static func parse(_ buffer: ByteBuffer) throws(JSONRPCError) -> JSONRPCBody {
        let result: Result<JSONRPCBody, JSONRPCError> = buffer.withUnsafeReadableBytes { bytes in
            var scanner = JSONScanner(bytes)
            let document: JSONScanner.Value
            do {
                document = try scanner.scanDocument()
            } catch let error as JSONScanner.SyntaxError {
                return .failure(.parseError("\(error.reason) at byte \(error.offset)"))
            } catch {
                return .failure(.parseError("\(error)"))
            }
            switch document.kind {
            case .array:
                var items: [JSONRPCItem] = []
                scanner.forEachElement(ofArray: document.range) { element in
                    items.append(item(element, in: bytes, buffer: buffer))
                }
                if items.isEmpty { return .failure(.invalidRequest("empty batch")) }
                return .success(.batch(items))
            default:
                return .success(.single(item(document, in: bytes, buffer: buffer)))
            }
        }
        return try result.get()
    }

    static func item(_ value: JSONScanner.Value, in bytes: UnsafeRawBufferPointer, buffer: ByteBuffer) -> JSONRPCItem {
        guard value.kind == .object else {
            return .invalid(id: nil, error: .invalidRequest("a request must be a JSON object"))
        }
        var version: JSONScanner.Value?
        var id: JSONScanner.Value?
        var method: JSONScanner.Value?
        var params: JSONScanner.Value?
        JSONScanner(bytes).forEachMember(ofObject: value.range) { key, member in
            switch Member(key: key, in: bytes) {
            case .jsonrpc: version = member
            case .id: id = member
            case .method: method = member
            case .params: params = member
            case .result, .error, .other: break
            }
        }
        func slice(_ value: JSONScanner.Value) -> RawJSON {
            RawJSON(buffer.getSlice(at: buffer.readerIndex + value.range.lowerBound, length: value.range.count)!)
        }
        var rawID: RawJSON?
        if let id {
            switch id.kind {
            case .string, .number, .null: rawID = slice(id)
            default:
                return .invalid(id: nil, error: .invalidRequest("id must be a string, a number or null"))
            }
        }
        guard let version, version.kind == .string,
            decodeString(version, in: bytes) == "2.0"
        else {
            return .invalid(id: rawID, error: .invalidRequest(#"jsonrpc must be "2.0""#))
        }
        guard let method else {
            return .invalid(id: rawID, error: .invalidRequest("missing method"))
        }
        guard method.kind == .string else {
            return .invalid(id: rawID, error: .invalidRequest("method must be a string"))
        }
        let name = decodeString(method, in: bytes)
        guard !name.isEmpty else {
            return .invalid(id: rawID, error: .invalidRequest("method must not be empty"))
        }
        if let params, params.kind != .array, params.kind != .object {
            return .invalid(id: rawID, error: .invalidRequest("params must be an array or an object"))
        }
        let body = buffer.getSlice(at: buffer.readerIndex + value.range.lowerBound, length: value.range.count)!
        return .request(JSONRPCRequest(id: rawID, method: name, params: params.map(slice), body: body))
    }

    static func decodeString(_ value: JSONScanner.Value, in bytes: UnsafeRawBufferPointer) -> String {
        JSONString.decode(UnsafeRawBufferPointer(rebasing: bytes[value.range.lowerBound + 1..<value.range.upperBound - 1]))
    }
}

/// The envelope members the gateway cares about.
enum Member {
    case jsonrpc, id, method, params, result, error, other

    init(key: Range<Int>, in bytes: UnsafeRawBufferPointer) {
        let keyBytes = UnsafeRawBufferPointer(rebasing: bytes[key])
        let name: String
        if keyBytes.contains(UInt8(ascii: "\\")) {
            name = JSONString.decode(keyBytes)
        } else if keyBytes.count > 7 {
            self = .other
            return
        } else {
            name = String(decoding: keyBytes, as: UTF8.self)
        }
        switch name {
        case "jsonrpc": self = .jsonrpc
        case "id": self = .id
        case "method": self = .method
        case "params": self = .params
        case "result": self = .result
        case "error": self = .error
        default: self = .other
        }
    }
}
