//! Shared helpers for the integration test binaries: backend selection, Kafka/Postgres helpers,
//! and the child-process trick used to prove cleanup after a panic or Ctrl-C.

pub mod kafka;
pub mod leaks;
pub mod pipeline;

use faultline_infra::BackendKind;

/// Whether tests for `kind` should run here. Containers need Docker: when `FAULTLINE_REQUIRE_DOCKER=1`
/// (CI, after provisioning) a missing daemon is a failure, otherwise the test is skipped loudly.
pub async fn backend_available(kind: BackendKind) -> bool {
    match kind {
        BackendKind::Containers => {
            if faultline_infra::docker_available().await {
                return true;
            }
            if std::env::var("FAULTLINE_REQUIRE_DOCKER").as_deref() == Ok("1") {
                panic!(
                    "FAULTLINE_REQUIRE_DOCKER=1 but no Docker daemon answers; run ci/provision.sh"
                );
            }
            eprintln!("SKIPPED: no Docker daemon answers (set FAULTLINE_REQUIRE_DOCKER=1 to fail instead)");
            false
        }
        _ => true,
    }
}

/// A temporary output directory that is removed after a passing test and kept after a failing one
/// (the panic unwinding through it), so the failure bundle, worker logs and reports of a suite that
/// failed in CI can still be read. The kept path is printed.
pub struct OutputDir(Option<tempfile::TempDir>);

impl OutputDir {
    pub fn new() -> Self {
        Self(Some(
            tempfile::Builder::new()
                .prefix("faultline-test-")
                .tempdir()
                .expect("create a temporary output directory"),
        ))
    }

    pub fn path(&self) -> &std::path::Path {
        self.0.as_ref().expect("output directory").path()
    }
}

impl Default for OutputDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if let (true, Some(dir)) = (std::thread::panicking(), self.0.take()) {
            eprintln!(
                "the failing test's output is kept in {}",
                dir.keep().display()
            );
        }
    }
}
