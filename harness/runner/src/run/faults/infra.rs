//! Broker and Postgres faults, through the stack's operations (refused on the external backend).

use async_trait::async_trait;
use faultline_infra::BrokerId;
use faultline_scenario::BrokerSel;

use super::fault::{Fault, FaultEnv, GateGuard};
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
    /// The broker's gate, held from `claim` until it is back.
    gate: Option<GateGuard>,
}

impl BrokerDown {
    pub fn kill(sel: BrokerSel, pick: u64) -> Self {
        Self {
            how: Down::Kill,
            sel,
            pick,
            hit: None,
            gate: None,
        }
    }
    pub fn stop(sel: BrokerSel, pick: u64) -> Self {
        Self {
            how: Down::Stop,
            sel,
            pick,
            hit: None,
            gate: None,
        }
    }
    pub fn pause(sel: BrokerSel, pick: u64) -> Self {
        Self {
            how: Down::Pause,
            sel,
            pick,
            hit: None,
            gate: None,
        }
    }
}

impl BrokerDown {
    fn target(&self, env: &FaultEnv<'_>) -> BrokerId {
        let ids = env.stack.broker_ids();
        match self.sel {
            BrokerSel::Id(id) => id,
            BrokerSel::Any => ids[(self.pick % ids.len() as u64) as usize],
        }
    }
}

#[async_trait]
impl Fault for BrokerDown {
    async fn claim(&mut self, env: &FaultEnv<'_>) {
        let id = self.target(env);
        self.gate = Some(env.gates.hold(&format!("broker:{id}")).await);
    }
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        let id = self.target(env);
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
            self.gate = None;
            return Ok(());
        };
        let back = match self.how {
            Down::Kill | Down::Stop => env.stack.start_broker(id).await,
            Down::Pause => env.stack.unpause_broker(id).await,
        };
        self.gate = None;
        Ok(back?)
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
    /// Postgres' gate, held from `claim` until it is back.
    gate: Option<GateGuard>,
}

impl PostgresDown {
    pub fn kill() -> Self {
        Self {
            kill: true,
            down: false,
            gate: None,
        }
    }
    pub fn restart() -> Self {
        Self {
            kill: false,
            down: false,
            gate: None,
        }
    }
}

#[async_trait]
impl Fault for PostgresDown {
    async fn claim(&mut self, env: &FaultEnv<'_>) {
        self.gate = Some(env.gates.hold("postgres").await);
    }
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        if self.kill {
            env.stack.kill_postgres().await?;
            self.down = true;
        } else {
            let restarted = env.stack.restart_postgres().await;
            self.gate = None;
            restarted?;
        }
        Ok("postgres".into())
    }
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()> {
        let back = if std::mem::take(&mut self.down) {
            env.stack.start_postgres().await
        } else {
            Ok(())
        };
        self.gate = None;
        Ok(back?)
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
