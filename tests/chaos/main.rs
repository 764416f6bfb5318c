//! Chaos integration tests: `faultline run` end to end against real Kafka and Postgres — shipped
//! scenarios pass on both backends, every planted defect is caught, failures reproduce, and bad
//! input is refused with a clear error, and a pipeline that never writes fails on the stall verdict
//! with every check listed, and a profile-leaning challenger is kept by the robustness gate under
//! an enrichment outage. Determinism tests need no services.

mod check;
mod cli;
mod defects;
mod determinism;
mod investigate;
mod manifest;
mod robustness;
mod stall;
mod suites;

use std::path::{Path, PathBuf};
use std::process::Command;

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
        repeat: 1,
        golden: true,
        outcome_lines: true,
        backend: Some(backend),
        defect: None,
        group_protocol: None,
        out: out.to_path_buf(),
        shard: None,
        progress: false,
        pipeline: None,
    }
}

/// The `faultline` binary next to this test binary (build it with `cargo build -p faultline --bins`).
pub fn faultline() -> Command {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("faultline");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first",
        bin.display()
    );
    Command::new(bin)
}

/// The JSON file at `path` (a report), or a panic saying it was not written.
pub fn json_at(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Asserts that a finished `faultline` exited with `code` (showing both streams if not); returns
/// its stdout and stderr.
pub fn exited(out: &std::process::Output, code: i32) -> (String, String) {
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}
