//! The running stack every backend returns, and the operations the fault injector calls on it.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::Result;
use crate::pg::PgConfig;

/// A broker's node id, 1-based.
pub type BrokerId = u32;

/// A running Kafka cluster plus Postgres server. Dropping it tears everything down; call
/// [`Stack::teardown`] to do so and see errors.
#[async_trait]
pub trait Stack: Send + Sync {
    /// `containers`, `processes` or `external`.
    fn backend(&self) -> &'static str;
    /// Comma-separated `host:port` list clients use (advertised addresses).
    fn bootstrap_servers(&self) -> String;
    /// Broker ids in this stack.
    fn broker_ids(&self) -> Vec<BrokerId>;
    /// The address broker `id` listens on directly (not through any proxy).
    fn broker_listener(&self, id: BrokerId) -> Result<String>;
    /// How to connect to Postgres.
    fn postgres(&self) -> &PgConfig;

    /// SIGKILL a broker: no controlled shutdown.
    async fn kill_broker(&self, id: BrokerId) -> Result<()>;
    /// Stop a broker cleanly (SIGTERM, controlled shutdown).
    async fn stop_broker(&self, id: BrokerId) -> Result<()>;
    /// Start a stopped or killed broker on the same address and wait until it serves metadata.
    async fn start_broker(&self, id: BrokerId) -> Result<()>;
    /// Freeze a broker (SIGSTOP / docker pause): its sockets stay open but nothing answers.
    async fn pause_broker(&self, id: BrokerId) -> Result<()>;
    /// Thaw a paused broker.
    async fn unpause_broker(&self, id: BrokerId) -> Result<()>;
    /// Kill then start: the broker comes back on the same address.
    async fn restart_broker(&self, id: BrokerId) -> Result<()> {
        self.kill_broker(id).await?;
        self.start_broker(id).await
    }

    /// SIGKILL the Postgres server.
    async fn kill_postgres(&self) -> Result<()>;
    /// Start Postgres after a kill, on the same address, and wait until it answers.
    async fn start_postgres(&self) -> Result<()>;
    /// Fast shutdown then start; in-flight transactions are rolled back.
    async fn restart_postgres(&self) -> Result<()>;

    /// Terminate every other client backend of the database (`pg_terminate_backend`). Returns how
    /// many were terminated.
    async fn terminate_postgres_backends(&self) -> Result<u64> {
        let client = self.postgres().connect().await?;
        let rows = client
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'",
                &[],
            )
            .await?;
        Ok(rows.iter().filter(|r| r.get::<_, bool>(0)).count() as u64)
    }

    /// The last lines each service logged, for failure bundles (empty where not available).
    async fn logs(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Stop and remove everything this stack started.
    async fn teardown(self: Box<Self>) -> Result<()>;
}

/// How long to wait for a service to come up.
pub const READY_TIMEOUT: Duration = Duration::from_secs(90);
