internal import CZlib

// The only file that calls zlib.

/// gzip (and zlib) decompression of whole in-memory buffers.
enum Gzip {
  /// Whether `bytes` starts with the gzip magic number 1f 8b.
  static func isCompressed(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
  }

  /// Decompresses one gzip member.
  ///
  /// - Parameters:
  ///   - compressed: the whole gzip file.
  ///   - file: the file's name, for errors.
  ///   - expectedSize: the likely decompressed size, to allocate once.
  /// - Throws: ``MNISTError/corruptGzip(file:message:)`` on bad headers, bad data, a bad
  ///   CRC or a stream that ends early.
  static func decompress(
    _ compressed: [UInt8],
    file: String,
    expectedSize: Int = 0
  )
    throws(MNISTError) -> [UInt8]
  {
    var stream = z_stream()
    // 15 + 32: maximal window, detect gzip or zlib headers automatically.
    guard dbal_inflateInit2(&stream, 15 + 32) == Z_OK else {
      throw .corruptGzip(file: file, message: "zlib could not start inflating")
    }
    defer { inflateEnd(&stream) }

    var output = [UInt8](repeating: 0, count: max(expectedSize, compressed.count * 4, 1024))
    var produced = 0
    var status = Z_OK
    compressed.withUnsafeBufferPointer { input in
      stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
      stream.avail_in = UInt32(input.count)
      while status == Z_OK {
        if produced == output.count {
          output.append(contentsOf: repeatElement(0, count: output.count))
        }
        output.withUnsafeMutableBufferPointer { buffer in
          stream.next_out = buffer.baseAddress! + produced
          stream.avail_out = UInt32(min(buffer.count - produced, Int(UInt32.max)))
          let before = stream.avail_out
          status = inflate(&stream, Z_NO_FLUSH)
          produced += Int(before - stream.avail_out)
        }
        // No progress and no input left: the stream was cut short.
        if status == Z_BUF_ERROR, stream.avail_in == 0 { break }
        if status == Z_BUF_ERROR { status = Z_OK }
      }
    }
    guard status == Z_STREAM_END else {
      let message =
        status == Z_BUF_ERROR
        ? "unexpected end of data after \(produced) decompressed bytes"
        : stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
      throw .corruptGzip(file: file, message: message)
    }
    output.removeSubrange(produced...)
    return output
  }
}
