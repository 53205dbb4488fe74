import NIOCore

/// An upstream's response object, scanned (not decoded): where its id, result and error are.
public struct JSONRPCResponse: Sendable {
    /// The response object's bytes, exactly as the upstream sent them.
    public var body: ByteBuffer
    var idRange: Range<Int>?
    var resultRange: Range<Int>?
    public internal(set) var resultKind: JSONScanner.Kind?
    /// The error's code and message when the upstream answered with an error.
    public var error: JSONRPCError?

    /// Scans an upstream body; `nil` when it is not a single JSON-RPC response object
    /// (garbage, HTML error pages, truncated bodies).
    public init?(scanning buffer: ByteBuffer) {
        var parsed: JSONRPCResponse?
        buffer.withUnsafeReadableBytes { bytes in
            var scanner = JSONScanner(bytes)
            var response = JSONRPCResponse(body: buffer)
            var hasResult = false
            var errorRange: Range<Int>?
            let document = try? scanner.scanObjectDocument { key, value in
                switch Member(key: key, in: bytes) {
                case .id: response.idRange = value.range
                case .result:
                    hasResult = true
                    response.resultRange = value.range
                    response.resultKind = value.kind
                case .error:
                    if value.kind == .object { errorRange = value.range }
                default: break
                }
            }
            guard document != nil else { return }
            if let errorRange {
                var code = -32603
                var message = ""
                scanner.forEachMember(ofObject: errorRange) { key, value in
                    let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[key]), as: UTF8.self)
                    if name == "code", value.kind == .number {
                        code = Int(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[value.range]), as: UTF8.self)) ?? code
                    } else if name == "message", value.kind == .string {
                        message = JSONString.decode(
                            UnsafeRawBufferPointer(rebasing: bytes[value.range.lowerBound + 1..<value.range.upperBound - 1]))
                    }
                }
                response.error = JSONRPCError(code: code, message: message)
            } else if !hasResult {
                return
            }
            parsed = response
        }
        guard let parsed else { return nil }
        self = parsed
    }

    init(body: ByteBuffer) {
        self.body = body
    }

    /// The `id` as raw bytes, when there is one.
    public var id: RawJSON? {
        idRange.map { RawJSON(body.getSlice(at: body.readerIndex + $0.lowerBound, length: $0.count)!) }
    }

    /// The `result` as raw bytes, when there is one.
    public var result: RawJSON? {
        resultRange.map { RawJSON(body.getSlice(at: body.readerIndex + $0.lowerBound, length: $0.count)!) }
    }

    /// The `result` decoded as a string, when it is one.
    public var resultString: String? {
        guard let range = resultRange, resultKind == .string else { return nil }
        return body.withUnsafeReadableBytes {
            JSONString.decode(UnsafeRawBufferPointer(rebasing: $0[range.lowerBound + 1..<range.upperBound - 1]))
        }
    }

    /// Whether the `result` is the literal `false`.
    public var resultIsFalse: Bool { resultKind == .false }

    /// The response bytes carrying the client's `id` exactly as the client wrote it.
    ///
    /// When the upstream echoed the id byte for byte (the usual case) the original buffer is
    /// returned untouched; otherwise the id is spliced in.
    public func body(withID id: RawJSON) -> ByteBuffer {
        guard let idRange else {
            return body
        }
        let start = body.readerIndex
        if body.getSlice(at: start + idRange.lowerBound, length: idRange.count) == id.bytes {
            return body
        }
        var output = ByteBuffer()
        output.reserveCapacity(body.readableBytes + id.bytes.readableBytes)
        var prefix = body.getSlice(at: start, length: idRange.lowerBound)!
        var suffix = body.getSlice(at: start + idRange.upperBound, length: body.readableBytes - idRange.upperBound)!
        var idBytes = id.bytes
        output.writeBuffer(&prefix)
        output.writeBuffer(&idBytes)
        output.writeBuffer(&suffix)
        return output
    }
}

extension JSONRPCResponse {
    /// A complete result response object answering the request with `id`; `result` is raw JSON.
    public static func resultBody(id: RawJSON?, result: String) -> ByteBuffer {
        var output = ByteBuffer()
        output.writeStaticString(#"{"jsonrpc":"2.0","id":"#)
        if let id { output.writeImmutableBuffer(id.bytes) } else { output.writeStaticString("null") }
        output.writeStaticString(#","result":"#)
        output.writeString(result)
        output.writeStaticString("}")
        return output
    }

    /// A response with the same id as `original` and `result` (raw JSON) as its result.
    public static func result(_ result: String, replacing original: JSONRPCResponse) -> JSONRPCResponse? {
        JSONRPCResponse(scanning: resultBody(id: original.id, result: result))
    }
}
