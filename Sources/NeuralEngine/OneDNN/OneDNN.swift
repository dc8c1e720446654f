// The only file that talks to oneDNN's C API. Everything else in the module sees the Swift types
// below (`DNNLContext`, `MemoryDescriptor`, `DNNLMemory`, `DNNLPrimitive`, `BoundPrimitive`),
// and every failing status becomes a `NeuralEngineError.oneDNN` here.
internal import CDNNL

// MARK: - Status codes

/// Throws ``NeuralEngineError/oneDNN(operation:status:)`` unless `status` is success.
private func check(_ status: dnnl_status_t, _ operation: @autoclosure () -> String) throws {
  guard status != dnnl_success else { return }
  let name = dnnl_status2str(status).map { String(cString: $0) } ?? "\(status.rawValue)"
  throw NeuralEngineError.oneDNN(operation: operation(), status: name)
}

// MARK: - Library information

/// Facts about the oneDNN library the engine runs on, for reports.
enum OneDNNLibrary {
  /// The library version, e.g. "2.6.3".
  static var version: String {
    guard let info = dnnl_version()?.pointee else { return "unknown" }
    return "\(info.major).\(info.minor).\(info.patch)"
  }

  /// The instruction set oneDNN's kernels use on this CPU, in oneDNN's words (e.g.
  /// "avx512_core_bf16", "avx2").
  static var instructionSet: String {
    let name = dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa()).map { String(cString: $0) }
    guard let name else { return "unknown" }
    return name.hasPrefix("cpu_isa_") ? String(name.dropFirst("cpu_isa_".count)) : name
  }

  /// Whether oneDNN runs AVX-512 (`avx512_core` or a superset) kernels on this CPU.
  static var hasAVX512: Bool {
    let core = dnnl_cpu_isa_avx512_core.rawValue
    return dnnl_get_effective_cpu_isa().rawValue & core == core
  }
}

// MARK: - Engine and stream

/// A CPU engine and its in-order stream; every primitive and memory belongs to one context.
final class DNNLContext {
  fileprivate let engine: dnnl_engine_t
  fileprivate let stream: dnnl_stream_t

  init() throws {
    var engine: dnnl_engine_t?
    try check(dnnl_engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create")
    var stream: dnnl_stream_t?
    let status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
    guard status == dnnl_success, let engine, let stream else {
      if let engine { dnnl_engine_destroy(engine) }
      try check(status, "dnnl_stream_create")
      throw NeuralEngineError.oneDNN(operation: "dnnl_stream_create", status: "no stream")
    }
    self.engine = engine
    self.stream = stream
  }

  deinit {
    dnnl_stream_destroy(stream)
    dnnl_engine_destroy(engine)
  }

  /// Blocks until every primitive submitted to the stream has finished.
  func wait() throws {
    try check(dnnl_stream_wait(stream), "dnnl_stream_wait")
  }
}

// MARK: - Memory descriptors

/// The shape and physical layout of a Float32 oneDNN memory.
struct MemoryDescriptor: Equatable {
  /// Layouts the engine asks for by name; `any` lets a primitive choose (often blocked).
  enum Layout {
    case any
    /// Plain row-major activations [N, C, H, W].
    case nchw
    /// Plain activations with the channels innermost, [N, H, W, C] in memory.
    case nhwc
    /// Plain row-major convolution weights [O, I, H, W] (PyTorch's layout).
    case oihw
    /// A plain vector.
    case x
  }

  fileprivate var raw: dnnl_memory_desc_t

  fileprivate init(raw: dnnl_memory_desc_t) { self.raw = raw }

  /// A Float32 descriptor of the given dimensions and layout.
  init(dimensions: [Int], layout: Layout) throws {
    var raw = dnnl_memory_desc_t()
    let tag: dnnl_format_tag_t
    switch layout {
    case .any: tag = dnnl_format_tag_any
    case .nchw: tag = dnnl_nchw
    case .nhwc: tag = dnnl_nhwc
    case .oihw: tag = dnnl_oihw
    case .x: tag = dnnl_x
    }
    let dims = dimensions.map { dnnl_dim_t($0) }
    try check(
      dnnl_memory_desc_init_by_tag(&raw, Int32(dims.count), dims, dnnl_f32, tag),
      "dnnl_memory_desc_init_by_tag(\(dimensions), \(layout))"
    )
    self.raw = raw
  }

  /// The logical dimensions.
  var dimensions: [Int] {
    withUnsafeBytes(of: raw.dims) { dims in
      (0..<Int(raw.ndims)).map { Int(dims.load(fromByteOffset: $0 * 8, as: Int64.self)) }
    }
  }

  /// The number of bytes a memory of this descriptor occupies (zero for an absent argument).
  var byteCount: Int {
    withUnsafePointer(to: raw) { dnnl_memory_desc_get_size($0) }
  }

  /// The physical layout in oneDNN's verbose notation: dimensions as letters `a, b, c, …`
  /// from the outermost stride to the innermost, a blocked dimension in capitals, then the
  /// inner blocks (`abcd` for plain `nchw`, `acdb` for `nhwc`, `aBcd16b` for `nChw16c`,
  /// `Acdb32a` for weights blocked by 32 output channels); "any" before a primitive chose,
  /// "opaque" for layouts that are not strided blocks.
  var formatTag: String {
    if raw.format_kind == dnnl_format_kind_any { return "any" }
    guard raw.format_kind == dnnl_blocked else { return "opaque" }
    let count = Int(raw.ndims)
    let blocking = raw.format_desc.blocking
    let strides = withUnsafeBytes(of: blocking.strides) { Array($0.bindMemory(to: Int64.self)) }
    let blocks = withUnsafeBytes(of: blocking.inner_blks) { Array($0.bindMemory(to: Int64.self)) }
    let indices = withUnsafeBytes(of: blocking.inner_idxs) {
      Array($0.bindMemory(to: Int64.self))
    }
    let inner = (0..<Int(blocking.inner_nblks)).map { (size: blocks[$0], dimension: indices[$0]) }
    let letters = Array("abcdefghijkl")
    // Outermost first. Equal strides come from dimensions of size 1, whose stride says
    // nothing: those go inside the others (oneDNN's tags put them there), else logical order.
    let dims = withUnsafeBytes(of: raw.dims) { Array($0.bindMemory(to: Int64.self)) }
    let order = (0..<count).sorted { x, y in
      if strides[x] != strides[y] { return strides[x] > strides[y] }
      if (dims[x] == 1) != (dims[y] == 1) { return dims[y] == 1 }
      return x < y
    }
    let outer = order.map { dimension in
      let letter = String(letters[dimension])
      return inner.contains { $0.dimension == dimension } ? letter.uppercased() : letter
    }
    return outer.joined() + inner.map { "\($0.size)\(letters[Int($0.dimension)])" }.joined()
  }

  static func == (lhs: MemoryDescriptor, rhs: MemoryDescriptor) -> Bool {
    withUnsafePointer(to: lhs.raw) { l in
      withUnsafePointer(to: rhs.raw) { r in dnnl_memory_desc_equal(l, r) != 0 }
    }
  }
}

extension MemoryDescriptor {
  /// The addressing of a 4-D Float32 descriptor as ``ActivationLayout``, or nil when it is not
  /// plain or blocked once along the channels (for example `nChw8c`, `nChw16c`, `nchw`, `nhwc`).
  var activationLayout: ActivationLayout? {
    guard raw.ndims == 4, raw.format_kind == dnnl_blocked, raw.data_type == dnnl_f32 else {
      return nil
    }
    let blocking = raw.format_desc.blocking
    let strides = withUnsafeBytes(of: blocking.strides) { Array($0.bindMemory(to: Int64.self)) }
    let dims = withUnsafeBytes(of: raw.dims) { Array($0.bindMemory(to: Int64.self)) }
    let blocks = withUnsafeBytes(of: blocking.inner_blks) { Array($0.bindMemory(to: Int64.self)) }
    let indices = withUnsafeBytes(of: blocking.inner_idxs) {
      Array($0.bindMemory(to: Int64.self))
    }
    let channelBlock: Int
    switch blocking.inner_nblks {
    case 0: channelBlock = 1
    case 1 where indices[0] == 1: channelBlock = Int(blocks[0])
    default: return nil
    }
    return ActivationLayout(
      dimensions: (0..<4).map { Int(dims[$0]) },
      channelBlock: channelBlock,
      strides: (0..<4).map { Int(strides[$0]) },
      offset: Int(raw.offset0)
    )
  }
}

// MARK: - Memory

/// A oneDNN memory whose buffer oneDNN allocated and owns; exposed as Float32 storage.
final class DNNLMemory {
  fileprivate let raw: dnnl_memory_t
  /// The layout of the memory.
  let descriptor: MemoryDescriptor
  /// The first element of the buffer (valid for the lifetime of the memory).
  let floats: UnsafeMutablePointer<Float>
  /// The number of Float32 elements in the buffer, padding included.
  let count: Int

  init(_ descriptor: MemoryDescriptor, in context: DNNLContext) throws {
    var memory: dnnl_memory_t?
    var raw = descriptor.raw
    try check(
      dnnl_memory_create(&memory, &raw, context.engine, dbal_dnnl_memory_allocate()),
      "dnnl_memory_create"
    )
    guard let memory else {
      throw NeuralEngineError.oneDNN(operation: "dnnl_memory_create", status: "no memory")
    }
    var handle: UnsafeMutableRawPointer?
    let status = dnnl_memory_get_data_handle(memory, &handle)
    guard status == dnnl_success, let handle else {
      dnnl_memory_destroy(memory)
      try check(status, "dnnl_memory_get_data_handle")
      throw NeuralEngineError.oneDNN(operation: "dnnl_memory_get_data_handle", status: "null")
    }
    self.raw = memory
    self.descriptor = descriptor
    self.count = descriptor.byteCount / MemoryLayout<Float>.stride
    self.floats = handle.bindMemory(to: Float.self, capacity: count)
    // Blocked layouts pad channels; padding must stay zero for the primitives.
    floats.initialize(repeating: 0, count: count)
  }

  deinit { dnnl_memory_destroy(raw) }

  /// The buffer as a Swift buffer pointer.
  var buffer: UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: floats, count: count)
  }
}

// MARK: - Primitives

/// The role of a memory in a primitive execution (oneDNN's `DNNL_ARG_*`).
enum ArgumentRole {
  case source, destination, weights, bias, workspace
  case sourceGradient, destinationGradient, weightsGradient, biasGradient
  case reorderInput, reorderOutput

  fileprivate var raw: Int32 {
    switch self {
    case .source: dbal_dnnl_arg_src()
    case .destination: dbal_dnnl_arg_dst()
    case .weights: dbal_dnnl_arg_weights()
    case .bias: dbal_dnnl_arg_bias()
    case .workspace: dbal_dnnl_arg_workspace()
    case .sourceGradient: dbal_dnnl_arg_diff_src()
    case .destinationGradient: dbal_dnnl_arg_diff_dst()
    case .weightsGradient: dbal_dnnl_arg_diff_weights()
    case .biasGradient: dbal_dnnl_arg_diff_bias()
    case .reorderInput: dbal_dnnl_arg_from()
    case .reorderOutput: dbal_dnnl_arg_to()
    }
  }
}

/// A memory descriptor a primitive descriptor can be asked for.
enum DescriptorQuery {
  case source, destination, weights, workspace
  case sourceGradient, destinationGradient, weightsGradient

  fileprivate var raw: dnnl_query_t {
    switch self {
    case .source: dnnl_query_src_md
    case .destination: dnnl_query_dst_md
    case .weights: dnnl_query_weights_md
    case .workspace: dnnl_query_workspace_md
    case .sourceGradient: dnnl_query_diff_src_md
    case .destinationGradient: dnnl_query_diff_dst_md
    case .weightsGradient: dnnl_query_diff_weights_md
    }
  }
}

/// A compiled oneDNN primitive together with its primitive descriptor.
///
/// Creating one runs oneDNN's JIT, so primitives are built once per shape and reused.
final class DNNLPrimitive {
  fileprivate let descriptor: dnnl_primitive_desc_t
  fileprivate let primitive: dnnl_primitive_t
  /// What the primitive computes, for error messages.
  let name: String

  fileprivate init(descriptor: dnnl_primitive_desc_t, name: String) throws {
    var primitive: dnnl_primitive_t?
    let status = dnnl_primitive_create(&primitive, descriptor)
    guard status == dnnl_success, let primitive else {
      dnnl_primitive_desc_destroy(descriptor)
      try check(status, "dnnl_primitive_create(\(name))")
      throw NeuralEngineError.oneDNN(operation: "dnnl_primitive_create(\(name))", status: "null")
    }
    self.descriptor = descriptor
    self.primitive = primitive
    self.name = name
  }

  /// Creates the primitive descriptor for an operation descriptor, then the primitive.
  fileprivate convenience init<OperationDescriptor>(
    operation: inout OperationDescriptor,
    attributes: dnnl_primitive_attr_t? = nil,
    hint: DNNLPrimitive? = nil,
    context: DNNLContext,
    name: String
  ) throws {
    var primitiveDescriptor: dnnl_primitive_desc_t?
    try withUnsafeMutablePointer(to: &operation) { pointer in
      try check(
        dnnl_primitive_desc_create(
          &primitiveDescriptor,
          UnsafeRawPointer(pointer),
          attributes,
          context.engine,
          hint?.descriptor
        ),
        "dnnl_primitive_desc_create(\(name))"
      )
    }
    guard let primitiveDescriptor else {
      throw NeuralEngineError.oneDNN(
        operation: "dnnl_primitive_desc_create(\(name))",
        status: "null"
      )
    }
    try self.init(descriptor: primitiveDescriptor, name: name)
  }

  deinit {
    dnnl_primitive_destroy(primitive)
    dnnl_primitive_desc_destroy(descriptor)
  }

  /// The memory descriptor the primitive chose for one of its arguments.
  func descriptor(for query: DescriptorQuery) -> MemoryDescriptor {
    guard let pointer = dnnl_primitive_desc_query_md(descriptor, query.raw, 0) else {
      return MemoryDescriptor(raw: dnnl_memory_desc_t())
    }
    return MemoryDescriptor(raw: pointer.pointee)
  }

  /// The implementation oneDNN dispatched to, e.g. "jit:avx512_core".
  var implementation: String {
    var text: UnsafePointer<CChar>?
    guard dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &text) == dnnl_success,
      let text
    else { return "unknown" }
    return String(cString: text)
  }

  /// Binds memories to the primitive's arguments, ready to execute many times.
  func bind(_ arguments: [(ArgumentRole, DNNLMemory)]) -> BoundPrimitive {
    BoundPrimitive(primitive: self, arguments: arguments)
  }
}

/// A primitive with its argument memories fixed: one call runs it (no per-call allocation).
final class BoundPrimitive {
  private let primitive: DNNLPrimitive
  private let memories: [DNNLMemory]  // keeps the bound memories alive
  private let arguments: [dnnl_exec_arg_t]

  fileprivate init(primitive: DNNLPrimitive, arguments: [(ArgumentRole, DNNLMemory)]) {
    self.primitive = primitive
    self.memories = arguments.map(\.1)
    self.arguments = arguments.map { dnnl_exec_arg_t(arg: $0.0.raw, memory: $0.1.raw) }
  }

  /// Submits the primitive to the context's stream.
  func execute(in context: DNNLContext) throws {
    try arguments.withUnsafeBufferPointer { arguments in
      try check(
        dnnl_primitive_execute(
          primitive.primitive,
          context.stream,
          Int32(arguments.count),
          arguments.baseAddress
        ),
        "dnnl_primitive_execute(\(primitive.name))"
      )
    }
  }
}

// MARK: - Primitive factories

extension DNNLContext {
  /// A valid, stride-1 2-D convolution forward primitive, optionally with ReLU fused as a post-op.
  func convolutionForward(
    source: MemoryDescriptor,
    weights: MemoryDescriptor,
    bias: MemoryDescriptor,
    destination: MemoryDescriptor,
    training: Bool,
    fusedReLU: Bool
  ) throws -> DNNLPrimitive {
    var operation = dnnl_convolution_desc_t()
    var (source, weights, bias, destination) = (source.raw, weights.raw, bias.raw, destination.raw)
    let strides: [dnnl_dim_t] = [1, 1]
    let padding: [dnnl_dim_t] = [0, 0]
    try check(
      dnnl_convolution_forward_desc_init(
        &operation,
        training ? dnnl_forward_training : dnnl_forward_inference,
        dnnl_convolution_direct,
        &source,
        &weights,
        &bias,
        &destination,
        strides,
        padding,
        padding
      ),
      "dnnl_convolution_forward_desc_init"
    )
    var attributes: dnnl_primitive_attr_t?
    try check(dnnl_primitive_attr_create(&attributes), "dnnl_primitive_attr_create")
    defer { dnnl_primitive_attr_destroy(attributes) }
    if fusedReLU {
      var postOps: dnnl_post_ops_t?
      try check(dnnl_post_ops_create(&postOps), "dnnl_post_ops_create")
      defer { dnnl_post_ops_destroy(postOps) }
      try check(
        dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0),
        "dnnl_post_ops_append_eltwise"
      )
      try check(dnnl_primitive_attr_set_post_ops(attributes, postOps), "set_post_ops")
    }
    return try DNNLPrimitive(
      operation: &operation,
      attributes: attributes,
      context: self,
      name: "convolution forward"
    )
  }

  /// The input-gradient primitive of a valid, stride-1 convolution.
  func convolutionBackwardData(
    sourceGradient: MemoryDescriptor,
    weights: MemoryDescriptor,
    destinationGradient: MemoryDescriptor,
    hint: DNNLPrimitive
  ) throws -> DNNLPrimitive {
    var operation = dnnl_convolution_desc_t()
    var (sourceGradient, weights, destinationGradient) =
      (sourceGradient.raw, weights.raw, destinationGradient.raw)
    let strides: [dnnl_dim_t] = [1, 1]
    let padding: [dnnl_dim_t] = [0, 0]
    try check(
      dnnl_convolution_backward_data_desc_init(
        &operation,
        dnnl_convolution_direct,
        &sourceGradient,
        &weights,
        &destinationGradient,
        strides,
        padding,
        padding
      ),
      "dnnl_convolution_backward_data_desc_init"
    )
    return try DNNLPrimitive(
      operation: &operation,
      hint: hint,
      context: self,
      name: "convolution backward data"
    )
  }

  /// The weight- and bias-gradient primitive of a valid, stride-1 convolution.
  func convolutionBackwardWeights(
    source: MemoryDescriptor,
    weightsGradient: MemoryDescriptor,
    biasGradient: MemoryDescriptor,
    destinationGradient: MemoryDescriptor,
    hint: DNNLPrimitive
  ) throws -> DNNLPrimitive {
    var operation = dnnl_convolution_desc_t()
    var (source, weightsGradient, biasGradient, destinationGradient) =
      (source.raw, weightsGradient.raw, biasGradient.raw, destinationGradient.raw)
    let strides: [dnnl_dim_t] = [1, 1]
    let padding: [dnnl_dim_t] = [0, 0]
    try check(
      dnnl_convolution_backward_weights_desc_init(
        &operation,
        dnnl_convolution_direct,
        &source,
        &weightsGradient,
        &biasGradient,
        &destinationGradient,
        strides,
        padding,
        padding
      ),
      "dnnl_convolution_backward_weights_desc_init"
    )
    return try DNNLPrimitive(
      operation: &operation,
      hint: hint,
      context: self,
      name: "convolution backward weights"
    )
  }

  /// A layout conversion between two descriptors of the same logical shape.
  func reorder(
    from source: MemoryDescriptor,
    to destination: MemoryDescriptor
  ) throws
    -> DNNLPrimitive
  {
    var (source, destination) = (source.raw, destination.raw)
    var primitiveDescriptor: dnnl_primitive_desc_t?
    try check(
      dnnl_reorder_primitive_desc_create(
        &primitiveDescriptor,
        &source,
        engine,
        &destination,
        engine,
        nil
      ),
      "dnnl_reorder_primitive_desc_create"
    )
    guard let primitiveDescriptor else {
      throw NeuralEngineError.oneDNN(
        operation: "dnnl_reorder_primitive_desc_create",
        status: "null"
      )
    }
    return try DNNLPrimitive(descriptor: primitiveDescriptor, name: "reorder")
  }
}

// MARK: - Matrix multiplication

/// Row-major single-precision matrix products on oneDNN's `dnnl_sgemm` (multithreaded, AVX-512).
enum Matrix {
  /// `C = alpha * op(A) * op(B) + beta * C` for row-major matrices, where `op(X)` is `X` or `Xᵀ`.
  ///
  /// - Parameters: `m`, `n`, `k`: `op(A)` is `m x k`, `op(B)` is `k x n`, `C` is `m x n`;
  ///   leading dimensions are the row lengths of the stored matrices.
  static func multiply(
    transposeA: Bool,
    transposeB: Bool,
    m: Int,
    n: Int,
    k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>,
    lda: Int,
    b: UnsafePointer<Float>,
    ldb: Int,
    beta: Float,
    c: UnsafeMutablePointer<Float>,
    ldc: Int
  ) {
    guard m > 0, n > 0 else { return }
    let status = dnnl_sgemm(
      CChar(UInt8(ascii: transposeA ? "T" : "N")),
      CChar(UInt8(ascii: transposeB ? "T" : "N")),
      dnnl_dim_t(m),
      dnnl_dim_t(n),
      dnnl_dim_t(k),
      alpha,
      a,
      dnnl_dim_t(lda),
      b,
      dnnl_dim_t(ldb),
      beta,
      c,
      dnnl_dim_t(ldc)
    )
    precondition(
      status == dnnl_success,
      "dnnl_sgemm rejected m=\(m) n=\(n) k=\(k) lda=\(lda) ldb=\(ldb) ldc=\(ldc)"
    )
  }
}
