import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Whether a data directory can be shared by array tasks on several nodes: the cache's per-key
/// locks are `flock` locks, which protect a cache shared across nodes only where the filesystem
/// carries them between nodes.
enum SharedFilesystem {
  /// What the check concludes.
  enum Verdict: Equatable {
    /// Locks work across nodes (or the filesystem is local to this machine).
    case safe(String)
    /// Whether locks work across nodes cannot be told from here: said, with the reason.
    case warn(String)
    /// Locks are known not to work across nodes: the run is refused, with the fix.
    case refuse(String)
  }

  /// The magic numbers of statfs(2)'s `f_type` for the filesystems named in the verdicts.
  enum Magic {
    static let nfs = 0x6969
    static let lustre = 0x0BD0_0BD0
    static let gpfs = 0x4750_4653
    static let fuse = 0x6573_5546
    static let cifs = 0xFF53_4D42
    static let smb2 = 0xFE53_4D42
    static let beegfs = 0x1983_0326
    static let ceph = 0x00C3_6400
    static let plan9 = 0x0102_1997
  }

  /// Checks the filesystem holding `directory` (which exists): its statfs(2) type, and the
  /// options it is mounted with.
  static func check(_ directory: URL) -> Verdict {
    let mount = mountEntry(containing: directory.resolvingSymlinksInPath().path)
    let type = statfsType(directory.path) ?? mount.map { magic(forName: $0.type) } ?? 0
    return classify(
      type: type,
      name: mount?.type ?? String(format: "type 0x%x", type),
      options: mount?.options ?? []
    )
  }

  /// statfs(2)'s `f_type` of the filesystem holding `path` (nil when it cannot be read). The
  /// Glibc module does not export statfs: it is looked up at run time; `f_type` is the first
  /// field of `struct statfs`, one machine word, on every Linux architecture.
  static func statfsType(_ path: String) -> Int? {
    typealias StatFS = @convention(c) (UnsafePointer<CChar>, UnsafeMutableRawPointer) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "statfs") else { return nil }
    let call = unsafeBitCast(symbol, to: StatFS.self)
    // struct statfs is 120 bytes on 64-bit Linux; room to spare.
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0, count: 512)
    guard call(path, buffer) == 0 else { return nil }
    return buffer.load(as: Int.self)
  }

  /// The magic number of a filesystem named as /proc/self/mounts names it (0 when unknown).
  static func magic(forName name: String) -> Int {
    switch name {
    case "nfs", "nfs4": Magic.nfs
    case "lustre": Magic.lustre
    case "gpfs": Magic.gpfs
    case "cifs", "smb3": Magic.cifs
    case "9p": Magic.plan9
    case "beegfs": Magic.beegfs
    case "ceph": Magic.ceph
    case let fuse where fuse == "fuse" || fuse.hasPrefix("fuse."): Magic.fuse
    default: 0
    }
  }

  /// The verdict for a filesystem of statfs type `type`, mounted as `name` with `options`.
  static func classify(type: Int, name: String, options: [String]) -> Verdict {
    func has(_ option: String) -> Bool {
      options.contains { $0 == option || $0.hasPrefix(option + "=") }
    }
    switch type {
    case Magic.nfs:
      let localLocks = ["nolock", "local_lock=all", "local_lock=flock"]
      if let option = options.first(where: localLocks.contains) {
        return .refuse(
          "is on NFS mounted with \(option), "
            + "so its locks are local to each node and tasks on two nodes could compute and "
            + "commit the same entry at once; use a data directory on a filesystem mounted with "
            + "the NFS lock manager (NFSv4, or NFSv3 with lockd), on Lustre mounted with -o flock, "
            + "or on GPFS"
        )
      }
      let version = options.first { $0.hasPrefix("vers=") }.map { " (\($0))" } ?? ""
      return .warn(
        "is on NFS\(version): its locks work across nodes only through the NFS lock manager "
          + "(NFSv4 has it built in; NFSv3 needs lockd and rpc.statd on every node), which "
          + "cannot be checked from here"
      )
    case Magic.lustre:
      if has("flock") { return .safe("Lustre mounted with flock") }
      return .refuse(
        "is on Lustre mounted without the flock option"
          + (has("localflock") ? " (localflock: locks are local to each node)" : "")
          + ", so tasks on two nodes could compute and commit the same entry at once; ask for "
          + "a filesystem mounted with -o flock, or use a data directory on GPFS or NFSv4"
      )
    case Magic.gpfs:
      return .safe("GPFS")
    case Magic.fuse, Magic.cifs, Magic.smb2, Magic.plan9:
      return .warn(
        "is on \(name), whose locks are usually local to each node; tasks on other nodes "
          + "could compute the same entry at once (use NFSv4, Lustre with flock or GPFS)"
      )
    case Magic.beegfs, Magic.ceph:
      return .warn(
        "is on \(name): its locks work across nodes only when it is mounted with global "
          + "locks (BeeGFS tuneUseGlobalFileLocks, CephFS by default), which is not checked here"
      )
    default:
      return .safe(name)
    }
  }

  /// A mount of `/proc/self/mounts`: its mount point, type and options.
  struct MountEntry: Equatable {
    var mountPoint: String
    var type: String
    var options: [String]
  }

  /// The mount holding `path`: the longest mount point that is a prefix of it.
  static func mountEntry(containing path: String) -> MountEntry? {
    guard let text = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else {
      return nil
    }
    return mountEntry(containing: path, in: text)
  }

  static func mountEntry(containing path: String, in mounts: String) -> MountEntry? {
    var best: MountEntry?
    for line in mounts.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count >= 4 else { continue }
      // Spaces in mount points are written as \040.
      let point = String(fields[1]).replacingOccurrences(of: "\\040", with: " ")
      let inside = point == "/" || path == point || path.hasPrefix(point + "/")
      guard inside, point.count >= (best?.mountPoint.count ?? -1) else { continue }
      best = MountEntry(
        mountPoint: point,
        type: String(fields[2]),
        options: fields[3].split(separator: ",").map(String.init)
      )
    }
    return best
  }
}
