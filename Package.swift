// swift-tools-version: 6.1
//
// DBAL: Deep Bayesian Active Learning (Gal, Islam & Ghahramani 2017) as a reproducible,
// content-hashed, resumable pipeline. Each folder under Sources/ is one concern:
//
//   CHDF5, CDNNL, CZlib, CLAPACK  thin system-library modules (C headers + shims), one importer each
//   HDF5Store            typed Swift wrapper over libhdf5: files, groups, datasets, attributes
//   NeuralEngine         Float32 tensors, oneDNN kernels, the paper's Bayesian CNN, Adam, MC dropout
//   MNIST                download (mirrors, checksums), idx parsing, preprocessing to HDF5
//   PipelineCore         declarative stages, content-hashed cache keys, commit protocol, locks
//   Acquisition          acquisition functions (BALD, Variation Ratios, ...) and top-k selection
//   HarmonicFunctions    RBF graphs, the harmonic function and Minimum Bayes Risk (LAPACK, BLAS)
//   Notebook             the literate document format of Pipelines/*.md: model and parser
//   Experiments          acquisition functions, the active-learning loop, profiles, literate targets
//   Reports              SVG figures, CSV, Markdown and HTML rendering, provenance
//   PipelineCLI          the `pipeline` command-line tool
//   CodeVersion (plugin) records the commit the tool is built from (Scripts/code-version)
import PackageDescription

let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

/// The numeric engine is compiled with optimisation even in debug builds: its inner loops
/// (masks, Adam, pooling glue) run 20-50x slower at -Onone, which would make every test that
/// trains a real model (and CI) crawl. Everything else keeps the configuration's settings.
let engineSettings: [SwiftSetting] =
  swiftSettings + [.unsafeFlags(["-O", "-enable-testing"], .when(configuration: .debug))]

let package = Package(
  name: "DBAL",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "pipeline", targets: ["PipelineCLI"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    .package(url: "https://github.com/JohnSundell/Ink", from: "0.6.0"),
  ],
  targets: [
    // MARK: - C libraries (each imported by exactly one Swift module)
    .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CLAPACK", providers: [.apt(["liblapacke-dev", "libopenblas-dev"])]),

    // MARK: - Libraries
    .target(name: "HDF5Store", dependencies: ["CHDF5"], swiftSettings: swiftSettings),
    .target(
      name: "NeuralEngine",
      dependencies: ["CDNNL", "HDF5Store"],
      swiftSettings: engineSettings
    ),
    .target(
      name: "MNIST",
      dependencies: ["CZlib", "HDF5Store", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "PipelineCore",
      dependencies: ["HDF5Store", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: swiftSettings
    ),
    .target(name: "Acquisition", swiftSettings: engineSettings),
    .target(name: "HarmonicFunctions", dependencies: ["CLAPACK"], swiftSettings: engineSettings),
    .target(name: "Notebook", dependencies: ["Acquisition"], swiftSettings: swiftSettings),
    .target(
      name: "Reports",
      dependencies: ["Notebook", .product(name: "Ink", package: "Ink")],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "Experiments",
      dependencies: [
        "NeuralEngine", "HDF5Store", "MNIST", "PipelineCore", "Acquisition", "Notebook", "Reports",
        "HarmonicFunctions", .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "PipelineCLI",
      dependencies: [
        "Experiments", "NeuralEngine", "HDF5Store", "MNIST", "PipelineCore", "Reports",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings,
      plugins: ["CodeVersion"]
    ),
    // When the checkout's commit, index or files change: the commit the tool is built from.
    .plugin(name: "CodeVersion", capability: .buildTool()),

    // MARK: - Tests
    .target(name: "TestSupport", dependencies: [], swiftSettings: swiftSettings),
    .testTarget(
      name: "HDF5StoreTests",
      dependencies: ["HDF5Store", "TestSupport"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "NeuralEngineTests",
      dependencies: ["NeuralEngine", "HDF5Store", "MNIST", "TestSupport"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "MNISTTests",
      dependencies: ["MNIST", "HDF5Store", "TestSupport"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PipelineCoreTests",
      dependencies: ["PipelineCore", "HDF5Store", "TestSupport"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "HarmonicFunctionsTests",
      dependencies: ["HarmonicFunctions", "TestSupport"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "AcquisitionTests",
      dependencies: ["Acquisition", "TestSupport"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "NotebookTests",
      dependencies: ["Notebook", "Acquisition", "TestSupport"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "ReportsTests",
      dependencies: ["Reports", "Notebook", "TestSupport"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "ExperimentsTests",
      dependencies: [
        "Experiments", "Acquisition", "NeuralEngine", "PipelineCore", "Reports", "HDF5Store",
        "Notebook", "TestSupport",
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "PipelineCLITests",
      dependencies: [
        "PipelineCLI", "PipelineCore", "Experiments", "MNIST", "Reports", "TestSupport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings
    ),
  ],
  swiftLanguageModes: [.v6]
)
