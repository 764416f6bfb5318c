//! Broker and Postgres faults, through the stack's operations (refused on the external backend).

use async_trait::async_trait;
use faultline_infra::BrokerId;
use faultline_scenario::BrokerSel;

use super::fault::{Fault, FaultEnv};
use crate::error::Result;

#[derive(Debug, Clone, Copy)]
enum Down {
    Kill,
    Stop,
    Pause,
}

/// A broker killed, stopped or frozen for the window, then started or thawed.
pub struct BrokerDown {
    how: Down,
    sel: BrokerSel,
    pick: u64,
    hit: Option<BrokerId>,
}

impl BrokerDown {
    pub fn kill(sel: BrokerSel, pick: u64) -> Self {
        Self {
            how: Down::Kill,
            sel,
            pick,
            hit: None,
        }
    }
    pub fn stop(sel: BrokerSel, pick: u64) -> Self {
        Self {
            how: Down::Stop,
            sel,
            pick,
            hit: None,
        }
    }
    pub fn pause(sel: BrokerSel, pick: u64) -> Self {
        Self {
            how: Down::Pause,
            sel,
            pick,
            hit: None,
        }
    }
}

#[async_trait]
impl Fault for BrokerDown {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        let ids = env.stack.broker_ids();
        let id = match self.sel {
            BrokerSel::Id(id) => id,
            BrokerSel::Any => ids[(self.pick % ids.len() as u64) as usize],
        };
        match self.how {
            Down::Kill => env.stack.kill_broker(id).await?,
            Down::Stop => env.stack.stop_broker(id).await?,
            Down::Pause => env.stack.pause_broker(id).await?,
        }
        self.hit = Some(id);
        Ok(format!("broker:{id}"))
    }
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()> {
        let Some(id) = self.hit.take() else {
            return Ok(());
        };
        match self.how {
            Down::Kill | Down::Stop => env.stack.start_broker(id).await?,
            Down::Pause => env.stack.unpause_broker(id).await?,
        }
        Ok(())
    }
    fn describe(&self) -> String {
        match self.how {
            Down::Kill => "SIGKILL the broker, start it again after the window",
            Down::Stop => "controlled shutdown, start again after the window",
            Down::Pause => "freeze the broker (SIGSTOP / docker pause), thaw after the window",
        }
        .into()
    }
}

/// Postgres killed (started again at heal) or restarted at once.
pub struct PostgresDown {
    kill: bool,
    down: bool,
}

impl PostgresDown {
    pub fn kill() -> Self {
        Self {
            kill: true,
            down: false,
        }
    }
    pub fn restart() -> Self {
        Self {
            kill: false,
            down: false,
        }
    }
}

#[async_trait]
impl Fault for PostgresDown {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        if self.kill {
            env.stack.kill_postgres().await?;
            self.down = true;
        } else {
            env.stack.restart_postgres().await?;
        }
        Ok("postgres".into())
    }
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()> {
        if std::mem::take(&mut self.down) {
            env.stack.start_postgres().await?;
        }
        Ok(())
    }
    fn describe(&self) -> String {
        if self.kill {
            "SIGKILL Postgres, start it again after the window"
        } else {
            "fast shutdown and restart of Postgres"
        }
        .into()
    }
}

/// `pg_terminate_backend` on every client connection.
pub struct TerminateBackends;

#[async_trait]
impl Fault for TerminateBackends {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        // Right after a Postgres restart the query can fail while the server settles; try again
        // briefly rather than skip the fault.
        let mut attempt = 0;
        loop {
            match env.stack.terminate_postgres_backends().await {
                Ok(n) => return Ok(format!("postgres ({n} backends)")),
                Err(e) if attempt < 10 => {
                    tracing::info!(error = ?e, "terminate_pg_backends failed; retrying");
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    async fn heal(&mut self, _env: &FaultEnv<'_>) -> Result<()> {
        Ok(())
    }
    fn describe(&self) -> String {
        "pg_terminate_backend on every client backend".into()
    }
}
