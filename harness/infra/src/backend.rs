//! The `Backend` trait and how `auto` chooses one.

use std::time::Duration;

use async_trait::async_trait;

use crate::containers::ContainersBackend;
use crate::error::{InfraError, Result};
use crate::external::ExternalBackend;
use crate::processes::ProcessesBackend;
use crate::spec::{BackendKind, StackSpec};
use crate::stack::Stack;

/// Something that can start a [`Stack`].
#[async_trait]
pub trait Backend: Send + Sync {
    fn name(&self) -> &'static str;
    /// Starts Kafka and Postgres and returns once both do real work.
    async fn start(&self, spec: &StackSpec) -> Result<Box<dyn Stack>>;
}

/// True when a Docker daemon answers a ping within two seconds.
pub async fn docker_available() -> bool {
    let Ok(docker) = testcontainers::bollard::Docker::connect_with_defaults() else {
        return false;
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), docker.ping()).await,
        Ok(Ok(_))
    )
}

/// The backend for `kind`; `auto` takes containers when Docker answers, else processes.
pub async fn backend_for(kind: BackendKind) -> Result<Box<dyn Backend>> {
    Ok(match kind {
        BackendKind::Containers => {
            if !docker_available().await {
                return Err(InfraError::Prerequisite {
                    what: "a Docker daemon that answers (the containers backend needs one)".into(),
                    fix: "run `ci/docker-engine.sh` (or `ci/provision.sh`, which also builds the images), \
                          or use --backend processes"
                        .into(),
                });
            }
            Box::new(ContainersBackend::from_env()?)
        }
        BackendKind::Processes => Box::new(ProcessesBackend::locate()?),
        BackendKind::External => Box::new(ExternalBackend::from_env()?),
        BackendKind::Auto => {
            if docker_available().await {
                Box::new(ContainersBackend::from_env()?)
            } else {
                tracing::info!("no Docker daemon answers; using the processes backend");
                Box::new(ProcessesBackend::locate()?)
            }
        }
    })
}

/// Starts a stack with the chosen backend.
pub async fn start(kind: BackendKind, spec: &StackSpec) -> Result<Box<dyn Stack>> {
    backend_for(kind).await?.start(spec).await
}
