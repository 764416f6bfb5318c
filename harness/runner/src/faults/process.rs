//! Worker faults. A killed worker is replaced by a new one (new id) when the fault heals, as a
//! supervisor would; a restarted one is stopped with SIGTERM and replaced at once.

use std::time::Duration;

use async_trait::async_trait;
use faultline_scenario::WorkerSel;

use super::{Fault, FaultEnv};
use crate::error::{Result, RunnerError};
use crate::workers::stop_gracefully;

fn no_worker(id: &str, sel: &WorkerSel) -> RunnerError {
    RunnerError::Fault { id: id.into(), message: format!("no live worker matches {sel:?}") }
}

/// SIGKILL; the replacement starts at heal time.
pub struct KillWorker {
    sel: WorkerSel,
    pick: u64,
    id: String,
}

impl KillWorker {
    pub fn new(sel: WorkerSel, pick: u64, id: String) -> Self {
        Self { sel, pick, id }
    }
}

#[async_trait]
impl Fault for KillWorker {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        let mut pool = env.workers.lock().expect("worker pool lock");
        let n = pool.resolve(&self.sel, self.pick).ok_or_else(|| no_worker(&self.id, &self.sel))?;
        pool.kill(n);
        Ok(format!("worker:w{n}"))
    }
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()> {
        env.workers.lock().expect("worker pool lock").start().map(|_| ())
    }
    fn describe(&self) -> String {
        "SIGKILL, then a replacement worker".into()
    }
}

/// SIGSTOP for the window, then SIGCONT: longer than the session timeout makes a zombie.
pub struct PauseWorker {
    sel: WorkerSel,
    pick: u64,
    id: String,
    paused: Option<u32>,
}

impl PauseWorker {
    pub fn new(sel: WorkerSel, pick: u64, id: String) -> Self {
        Self { sel, pick, id, paused: None }
    }
}

#[async_trait]
impl Fault for PauseWorker {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        let mut pool = env.workers.lock().expect("worker pool lock");
        let n = pool.resolve(&self.sel, self.pick).ok_or_else(|| no_worker(&self.id, &self.sel))?;
        pool.pause(n)?;
        self.paused = Some(n);
        Ok(format!("worker:w{n}"))
    }
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()> {
        match self.paused.take() {
            Some(n) => env.workers.lock().expect("worker pool lock").resume(n),
            None => Ok(()),
        }
    }
    fn describe(&self) -> String {
        "SIGSTOP, SIGCONT at the end of the window".into()
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
            let n = pool.resolve(&self.sel, self.pick).ok_or_else(|| no_worker(&self.id, &self.sel))?;
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
