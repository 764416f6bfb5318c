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
