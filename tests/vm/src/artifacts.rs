//! Loading the optimized contract artifacts (`artifacts/*.wasm`, built by `scripts/build-wasm.sh`),
//! refusing missing or stale ones with the instruction to build them.
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The instruction every artifact error ends with.
pub const BUILD_HINT: &str = "run `bash scripts/build-wasm.sh` from the workspace root";

/// One of the three contracts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractArtifact {
    /// `contracts/node-registry` -> `artifacts/node_registry.wasm`.
    NodeRegistry,
    /// `contracts/receipt-verifier` -> `artifacts/receipt_verifier.wasm`.
    ReceiptVerifier,
    /// `contracts/reward-pool` -> `artifacts/reward_pool.wasm`.
    RewardPool,
}

impl ContractArtifact {
    /// All three.
    pub const ALL: [ContractArtifact; 3] = [
        ContractArtifact::NodeRegistry,
        ContractArtifact::ReceiptVerifier,
        ContractArtifact::RewardPool,
    ];

    /// The crate directory under `contracts/`.
    pub fn crate_dir(self) -> &'static str {
        match self {
            ContractArtifact::NodeRegistry => "node-registry",
            ContractArtifact::ReceiptVerifier => "receipt-verifier",
            ContractArtifact::RewardPool => "reward-pool",
        }
    }

    /// The artifact file name.
    pub fn file_name(self) -> &'static str {
        match self {
            ContractArtifact::NodeRegistry => "node_registry.wasm",
            ContractArtifact::ReceiptVerifier => "receipt_verifier.wasm",
            ContractArtifact::RewardPool => "reward_pool.wasm",
        }
    }

    /// Sources the artifact is built from: the contract crate and `opg-core` (sources and manifests).
    pub fn sources(self, root: &Path) -> Vec<PathBuf> {
        vec![
            root.join("contracts").join(self.crate_dir()).join("src"),
            root.join("contracts")
                .join(self.crate_dir())
                .join("Cargo.toml"),
            root.join("packages/opg-core/src"),
            root.join("packages/opg-core/Cargo.toml"),
        ]
    }
}

/// Why an artifact cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub enum ArtifactError {
    /// The file does not exist or cannot be read.
    Missing {
        /// The artifact path.
        path: PathBuf,
    },
    /// A source file is newer than the artifact.
    Stale {
        /// The artifact path.
        path: PathBuf,
        /// The newest source file.
        newer_source: PathBuf,
    },
}

impl fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArtifactError::Missing { path } => {
                write!(f, "artifact {} is missing: {BUILD_HINT}", path.display())
            }
            ArtifactError::Stale { path, newer_source } => write!(
                f,
                "artifact {} is older than {}: {BUILD_HINT}",
                path.display(),
                newer_source.display()
            ),
        }
    }
}

impl std::error::Error for ArtifactError {}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// The newest modification time under `paths` (files, or directories walked recursively), with
/// the file it belongs to. Paths that do not exist are skipped.
pub fn newest_mtime(paths: &[PathBuf]) -> Option<(SystemTime, PathBuf)> {
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
            }
            continue;
        }
        if let Ok(t) = meta.modified() {
            if newest.as_ref().is_none_or(|(n, _)| t > *n) {
                newest = Some((t, p));
            }
        }
    }
    newest
}

/// Checks that `artifact` exists and is not older than any of `sources`.
pub fn check_fresh(artifact: &Path, sources: &[PathBuf]) -> Result<(), ArtifactError> {
    let missing = || ArtifactError::Missing {
        path: artifact.to_path_buf(),
    };
    let built = std::fs::metadata(artifact)
        .and_then(|m| m.modified())
        .map_err(|_| missing())?;
    match newest_mtime(sources) {
        Some((t, newer_source)) if t > built => Err(ArtifactError::Stale {
            path: artifact.to_path_buf(),
            newer_source,
        }),
        _ => Ok(()),
    }
}

/// Reads `artifacts/<contract>.wasm` from `root` after [`check_fresh`].
pub fn load_from(root: &Path, contract: ContractArtifact) -> Result<Vec<u8>, ArtifactError> {
    let path = root.join("artifacts").join(contract.file_name());
    check_fresh(&path, &contract.sources(root))?;
    std::fs::read(&path).map_err(|_| ArtifactError::Missing { path })
}

/// Reads the artifact of `contract` from the workspace; panics with the build instruction when it
/// is missing or stale (tests must never pass without the real artifact).
pub fn load(contract: ContractArtifact) -> Vec<u8> {
    load_from(&workspace_root(), contract).unwrap_or_else(|e| panic!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("opg-vm-tests-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("contracts/reward-pool/src")).unwrap();
        std::fs::create_dir_all(dir.join("packages/opg-core/src")).unwrap();
        std::fs::create_dir_all(dir.join("artifacts")).unwrap();
        dir
    }

    fn set_mtime(path: &Path, t: SystemTime) {
        let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        f.set_modified(t).unwrap();
    }

    #[test]
    fn missing_artifact_names_the_build_script() {
        let root = temp_dir("missing");
        let err = load_from(&root, ContractArtifact::RewardPool).unwrap_err();
        assert!(matches!(err, ArtifactError::Missing { .. }));
        let msg = err.to_string();
        assert!(msg.contains("reward_pool.wasm"), "{msg}");
        assert!(msg.contains("scripts/build-wasm.sh"), "{msg}");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn stale_artifact_is_refused_and_fresh_one_loads() {
        let root = temp_dir("stale");
        let src = root.join("contracts/reward-pool/src/lib.rs");
        let core = root.join("packages/opg-core/src/lib.rs");
        let wasm = root.join("artifacts/reward_pool.wasm");
        std::fs::write(&src, "// src").unwrap();
        std::fs::write(&core, "// core").unwrap();
        std::fs::write(&wasm, b"\0asm").unwrap();
        let t0 = SystemTime::now() - Duration::from_secs(3_600);
        set_mtime(&src, t0);
        set_mtime(&core, t0 + Duration::from_secs(10));
        set_mtime(&wasm, t0 + Duration::from_secs(20));
        assert_eq!(
            load_from(&root, ContractArtifact::RewardPool).unwrap(),
            b"\0asm"
        );

        // opg-core changed after the build: stale.
        set_mtime(&core, t0 + Duration::from_secs(30));
        let err = load_from(&root, ContractArtifact::RewardPool).unwrap_err();
        assert_eq!(
            err,
            ArtifactError::Stale {
                path: wasm.clone(),
                newer_source: core.clone()
            }
        );
        assert!(err.to_string().contains("scripts/build-wasm.sh"));
        std::fs::remove_dir_all(root).unwrap();
    }
}
