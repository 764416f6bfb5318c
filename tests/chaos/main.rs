//! Chaos integration tests: `faultline run` end to end against real Kafka and Postgres — shipped
//! scenarios pass on both backends, every planted defect is caught, failures reproduce, and bad
//! input is refused with a clear error. Determinism tests need no services.

mod check;
mod cli;
mod defects;
mod determinism;
mod suites;

use std::path::{Path, PathBuf};

use faultline_infra::BackendKind;
use faultline_runner::SuiteOptions;

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Options for running `target` (relative to the repo) on `backend`, reports in a fresh temp dir.
pub fn options(target: &str, backend: BackendKind, out: &Path) -> SuiteOptions {
    SuiteOptions {
        target: repo().join(target),
        prefix: None,
        seed: None,
        seeds: 1,
        backend: Some(backend),
        defect: None,
        out: out.to_path_buf(),
        shard: None,
        progress: false,
    }
}
