//! The `external` backend: Kafka and Postgres that someone else runs. Faults that need control of the
//! servers (kill, pause, restart) are refused with a clear error; terminating Postgres backends works.

use async_trait::async_trait;

use crate::backend::Backend;
use crate::error::{InfraError, Result};
use crate::pg::PgConfig;
use crate::spec::StackSpec;
use crate::stack::{BrokerId, Stack, READY_TIMEOUT};

/// Environment variable with the comma-separated bootstrap servers.
pub const BOOTSTRAP_ENV: &str = "FAULTLINE_KAFKA_BOOTSTRAP";
/// Environment variable with `postgres://USER:PASSWORD@HOST:PORT/DB`.
pub const POSTGRES_URL_ENV: &str = "FAULTLINE_POSTGRES_URL";

/// Connects to given services.
#[derive(Debug, Clone)]
pub struct ExternalBackend {
    pub bootstrap: String,
    pub postgres: PgConfig,
}

impl ExternalBackend {
    /// Reads [`BOOTSTRAP_ENV`] and [`POSTGRES_URL_ENV`].
    pub fn from_env() -> Result<Self> {
        let need = |var: &str| {
            std::env::var(var).ok().filter(|v| !v.trim().is_empty()).ok_or_else(|| InfraError::Prerequisite {
                what: format!("{var} (the external backend's address)"),
                fix: format!("export {BOOTSTRAP_ENV}=host:9092 and {POSTGRES_URL_ENV}=postgres://user:pass@host:5432/db"),
            })
        };
        Ok(Self {
            bootstrap: need(BOOTSTRAP_ENV)?,
            postgres: PgConfig::from_url(&need(POSTGRES_URL_ENV)?)?,
        })
    }
}

#[async_trait]
impl Backend for ExternalBackend {
    fn name(&self) -> &'static str {
        "external"
    }

    async fn start(&self, _spec: &StackSpec) -> Result<Box<dyn Stack>> {
        let n = self.bootstrap.split(',').count();
        crate::ready::wait_for_kafka(
            "external kafka",
            &self.bootstrap,
            1.min(n),
            READY_TIMEOUT,
            String::new,
        )
        .await?;
        crate::ready::wait_for_postgres(&self.postgres, READY_TIMEOUT, String::new).await?;
        Ok(Box::new(ExternalStack {
            bootstrap: self.bootstrap.clone(),
            postgres: self.postgres.clone(),
        }))
    }
}

struct ExternalStack {
    bootstrap: String,
    postgres: PgConfig,
}

fn unsupported(op: &str) -> InfraError {
    InfraError::Unsupported {
        backend: "external",
        operation: op.into(),
    }
}

#[async_trait]
impl Stack for ExternalStack {
    fn backend(&self) -> &'static str {
        "external"
    }
    fn bootstrap_servers(&self) -> String {
        self.bootstrap.clone()
    }
    fn broker_ids(&self) -> Vec<BrokerId> {
        (1..=self.bootstrap.split(',').count() as u32).collect()
    }
    fn broker_listener(&self, id: BrokerId) -> Result<String> {
        self.bootstrap
            .split(',')
            .nth(id as usize - 1)
            .map(str::to_string)
            .ok_or(InfraError::NoSuchBroker(id))
    }
    fn postgres(&self) -> &PgConfig {
        &self.postgres
    }
    async fn kill_broker(&self, _: BrokerId) -> Result<()> {
        Err(unsupported("kill a broker"))
    }
    async fn stop_broker(&self, _: BrokerId) -> Result<()> {
        Err(unsupported("stop a broker"))
    }
    async fn start_broker(&self, _: BrokerId) -> Result<()> {
        Err(unsupported("start a broker"))
    }
    async fn pause_broker(&self, _: BrokerId) -> Result<()> {
        Err(unsupported("pause a broker"))
    }
    async fn unpause_broker(&self, _: BrokerId) -> Result<()> {
        Err(unsupported("unpause a broker"))
    }
    async fn kill_postgres(&self) -> Result<()> {
        Err(unsupported("kill Postgres"))
    }
    async fn start_postgres(&self) -> Result<()> {
        Err(unsupported("start Postgres"))
    }
    async fn restart_postgres(&self) -> Result<()> {
        Err(unsupported("restart Postgres"))
    }
    async fn teardown(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}
