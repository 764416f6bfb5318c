//! Worker faults. A killed worker is replaced by a new one (new id) when the fault heals, as a
//! supervisor would; a restarted one is stopped with SIGTERM and replaced at once.

use std::time::Duration;

use async_trait::async_trait;
use faultline_scenario::WorkerSel;

use super::fault::{Fault, FaultEnv};
use super::in_transaction::{freeze_in_transaction, no_worker, resolve};
use crate::error::Result;
use crate::run::workers::stop_gracefully;

/// SIGKILL; the replacement starts at heal time.
pub struct KillWorker {
    sel: WorkerSel,
    pick: u64,
    id: String,
    in_transaction: bool,
}

impl KillWorker {
    pub fn new(sel: WorkerSel, pick: u64, id: String, in_transaction: bool) -> Self {
        Self {
            sel,
            pick,
            id,
            in_transaction,
        }
    }
}

#[async_trait]
impl Fault for KillWorker {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        let (n, moment) = if self.in_transaction {
            freeze_in_transaction(env, &self.sel, self.pick, &self.id).await?
        } else {
            (resolve(env, &self.sel, self.pick, &self.id)?, String::new())
        };
        env.workers.lock().expect("worker pool lock").kill(n);
        Ok(format!("worker:w{n}{moment}"))
    }
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()> {
        env.workers
            .lock()
            .expect("worker pool lock")
            .start()
            .map(|_| ())
    }
    fn describe(&self) -> String {
        let when = if self.in_transaction {
            " inside a Postgres transaction"
        } else {
            ""
        };
        format!("SIGKILL{when}, then a replacement worker")
    }
}

/// SIGSTOP for the window, then SIGCONT: longer than the session timeout makes a zombie.
pub struct PauseWorker {
    sel: WorkerSel,
    pick: u64,
    id: String,
    in_transaction: bool,
    paused: Option<u32>,
}

impl PauseWorker {
    pub fn new(sel: WorkerSel, pick: u64, id: String, in_transaction: bool) -> Self {
        Self {
            sel,
            pick,
            id,
            in_transaction,
            paused: None,
        }
    }
}

#[async_trait]
impl Fault for PauseWorker {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        let (n, moment) = if self.in_transaction {
            freeze_in_transaction(env, &self.sel, self.pick, &self.id).await?
        } else {
            let n = resolve(env, &self.sel, self.pick, &self.id)?;
            env.workers.lock().expect("worker pool lock").pause(n)?;
            (n, String::new())
        };
        self.paused = Some(n);
        Ok(format!("worker:w{n}{moment}"))
    }
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()> {
        match self.paused.take() {
            Some(n) => env.workers.lock().expect("worker pool lock").resume(n),
            None => Ok(()),
        }
    }
    fn describe(&self) -> String {
        let when = if self.in_transaction {
            " inside a Postgres transaction"
        } else {
            ""
        };
        format!("SIGSTOP{when}, SIGCONT at the end of the window")
    }
}

/// SIGTERM (graceful), then a replacement.
pub struct RestartWorker {
    sel: WorkerSel,
    pick: u64,
    id: String,
}

impl RestartWorker {
    pub fn new(sel: WorkerSel, pick: u64, id: String) -> Self {
        Self { sel, pick, id }
    }
}

#[async_trait]
impl Fault for RestartWorker {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        let (n, child) = {
            let mut pool = env.workers.lock().expect("worker pool lock");
            let n = pool
                .resolve(&self.sel, self.pick)
                .ok_or_else(|| no_worker(&self.id, &self.sel))?;
            (n, pool.take(n))
        };
        stop_gracefully(child.into_iter().collect(), Duration::from_secs(20)).await;
        env.workers.lock().expect("worker pool lock").start()?;
        Ok(format!("worker:w{n}"))
    }
    async fn heal(&mut self, _env: &FaultEnv<'_>) -> Result<()> {
        Ok(())
    }
    fn describe(&self) -> String {
        "SIGTERM, then a replacement worker".into()
    }
}

/// Scale to `workers` for the window, then back to the count before.
pub struct ScaleWorkers {
    to: u32,
    before: usize,
}

impl ScaleWorkers {
    pub fn new(to: u32) -> Self {
        Self { to, before: 0 }
    }
}

async fn scale(env: &FaultEnv<'_>, to: usize) -> Result<()> {
    let surplus = {
        let mut pool = env.workers.lock().expect("worker pool lock");
        while pool.len() < to {
            pool.start()?;
        }
        pool.take_newest_beyond(to)
    };
    stop_gracefully(surplus, Duration::from_secs(20)).await;
    Ok(())
}

#[async_trait]
impl Fault for ScaleWorkers {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        self.before = env.workers.lock().expect("worker pool lock").len();
        scale(env, self.to as usize).await?;
        Ok("workers".into())
    }
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()> {
        scale(env, self.before).await
    }
    fn describe(&self) -> String {
        format!("scale to {} workers, then back", self.to)
    }
}
