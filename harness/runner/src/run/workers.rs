//! The pipeline under test, as the process contract sees it: N copies of a command with environment
//! variables (docs/PIPELINE-CONTRACT.md). The pool starts, signals and replaces workers; every worker
//! gets a fresh id (`w1`, `w2`, ...) so lineage tells them apart, and its own log file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use faultline_infra::reaper::ManagedChild;
use faultline_manifest::Placeholder;
use faultline_scenario::WorkerSel;

use crate::error::{Result, RunnerError};
use crate::pipeline::env::{pg_app_name, RunValues, WorkerValues};
use crate::pipeline::Pipeline;

/// What every worker of a run is started with.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// The manifest: command, cwd and the environment with placeholders.
    pub pipeline: Arc<Pipeline>,
    /// The run's placeholder values.
    pub values: RunValues,
    /// Set after the manifest's `env`: the scenario's knobs, the defect, the scenario's extras.
    pub extra_env: BTreeMap<String, String>,
    /// Where `wN.log` files go.
    pub log_dir: PathBuf,
}

impl WorkerSpec {
    /// The run id the placeholders were filled with.
    fn run_id(&self) -> String {
        self.values
            .get(Placeholder::RunId, None)
            .unwrap_or_else(|| "run".into())
    }
}

/// The live workers of a run.
#[derive(Debug)]
pub struct WorkerPool {
    spec: WorkerSpec,
    live: BTreeMap<u32, ManagedChild>,
    paused: BTreeSet<u32>,
    /// The placeholder values each started worker got.
    started: BTreeMap<u32, WorkerValues>,
    next: u32,
    /// Workers that exited without being told to: (id, exit status as text).
    pub unexpected_exits: Vec<(String, String)>,
}

impl WorkerPool {
    pub fn new(spec: WorkerSpec) -> Self {
        Self {
            spec,
            live: BTreeMap::new(),
            paused: BTreeSet::new(),
            started: BTreeMap::new(),
            next: 1,
            unexpected_exits: Vec::new(),
        }
    }

    /// A pool for a later phase of the same run (the replay's workers) whose first worker is
    /// number `first` (the run's pool's [`WorkerPool::next_number`]), so that their logs go to
    /// new files beside the first ones.
    pub fn numbered_from(spec: WorkerSpec, first: u32) -> Self {
        let mut pool = Self::new(spec);
        pool.next = first;
        pool
    }

    /// The number the next worker started will have.
    pub fn next_number(&self) -> u32 {
        self.next
    }

    /// Starts one more worker; returns its number (its id is `w<number>`).
    pub fn start(&mut self) -> Result<u32> {
        let n = self.next;
        self.next += 1;
        let w = WorkerValues::new(n, &self.spec.run_id())?;
        let spec = &self.spec;
        let m = &spec.pipeline.manifest;
        let args: Vec<String> = m.command[1..]
            .iter()
            .map(|t| spec.values.render(t, Some(&w), "command"))
            .collect::<Result<_>>()?;
        let mut cmd = Command::new(&spec.pipeline.program);
        cmd.args(&args)
            .current_dir(&m.cwd)
            .envs(spec.values.environment(&m.env, Some(&w))?)
            .envs(&spec.extra_env)
            .env("PGAPPNAME", &w.pg_app_name);
        let log = self.log_path(n);
        let child = ManagedChild::spawn(format!("worker {}", w.id), cmd, &log).map_err(|e| {
            RunnerError::Pipeline {
                message: format!(
                    "cannot start worker {} ({}): {e}",
                    w.id,
                    spec.pipeline.program.display()
                ),
                log_tail: String::new(),
            }
        })?;
        self.live.insert(n, child);
        self.started.insert(n, w);
        Ok(n)
    }

    /// Worker `n`'s log file.
    pub fn log_path(&self, n: u32) -> PathBuf {
        self.spec.log_dir.join(format!("w{n}.log"))
    }

    /// The placeholder values worker `n` was started with.
    pub fn values_of(&self, n: u32) -> Option<&WorkerValues> {
        self.started.get(&n)
    }

    /// The Postgres `application_name` worker `n` is given (in `{postgres_url}` and
    /// `PGAPPNAME`): how `in_transaction` faults find its sessions in `pg_stat_activity`.
    pub fn pg_app_name(&self, n: u32) -> String {
        pg_app_name(&self.spec.run_id(), n)
    }

    /// True while worker `n` runs (started, not killed, taken or exited).
    /// The live workers that are not paused, in id order.
    pub fn unpaused(&self) -> Vec<u32> {
        self.live
            .keys()
            .copied()
            .filter(|n| !self.paused.contains(n))
            .collect()
    }

    pub fn is_live(&self, n: u32) -> bool {
        self.live.contains_key(&n)
    }

    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// The worker a selector means: a named one if live, or for `any` the live, unpaused worker at
    /// `pick % count` (so a seed replays the same choice given the same pool).
    pub fn resolve(&self, sel: &WorkerSel, pick: u64) -> Option<u32> {
        match sel {
            WorkerSel::Id(id) => id[1..].parse().ok().filter(|n| self.live.contains_key(n)),
            WorkerSel::Any => {
                let candidates = self.unpaused();
                (!candidates.is_empty())
                    .then(|| candidates[(pick % candidates.len() as u64) as usize])
            }
        }
    }

    /// SIGKILL; the worker is gone.
    pub fn kill(&mut self, n: u32) {
        if let Some(mut c) = self.live.remove(&n) {
            c.kill();
        }
        self.paused.remove(&n);
    }

    /// SIGSTOP.
    pub fn pause(&mut self, n: u32) -> Result<()> {
        let c = self.live.get(&n).ok_or_else(|| gone(n))?;
        c.signal_group(libc::SIGSTOP)?;
        self.paused.insert(n);
        Ok(())
    }

    /// SIGCONT (a no-op if the worker has gone meanwhile).
    pub fn resume(&mut self, n: u32) -> Result<()> {
        self.paused.remove(&n);
        match self.live.get(&n) {
            Some(c) => Ok(c.signal_group(libc::SIGCONT)?),
            None => Ok(()),
        }
    }

    /// Takes a worker out of the pool to stop it gracefully (SIGTERM, then SIGKILL after `grace`)
    /// without holding the pool; call [`stop_gracefully`] on the result.
    pub fn take(&mut self, n: u32) -> Option<ManagedChild> {
        self.paused.remove(&n);
        self.live.remove(&n)
    }

    /// The newest live workers beyond `keep`, taken out to be stopped (scale down).
    pub fn take_newest_beyond(&mut self, keep: usize) -> Vec<ManagedChild> {
        let extra: Vec<u32> = self
            .live
            .keys()
            .rev()
            .take(self.live.len().saturating_sub(keep))
            .copied()
            .collect();
        extra.into_iter().filter_map(|n| self.take(n)).collect()
    }

    /// Records workers that exited on their own since the last call; returns their ids.
    pub fn reap_exits(&mut self) -> Vec<String> {
        let mut gone = Vec::new();
        for (n, c) in self.live.iter_mut() {
            if let Some(st) = c.try_exit() {
                gone.push((*n, st));
            }
        }
        let mut ids = Vec::new();
        for (n, st) in gone {
            if let Some(c) = self.live.remove(&n) {
                let tail = c.log_tail(15);
                self.unexpected_exits
                    .push((format!("w{n}"), format!("{st}; last log lines:\n{tail}")));
            }
            ids.push(format!("w{n}"));
        }
        ids
    }

    /// Takes every live worker out, to stop them.
    pub fn take_all(&mut self) -> Vec<ManagedChild> {
        self.paused.clear();
        std::mem::take(&mut self.live).into_values().collect()
    }
}

fn gone(n: u32) -> RunnerError {
    RunnerError::Pipeline {
        message: format!("worker w{n} is not running"),
        log_tail: String::new(),
    }
}

/// SIGTERM then SIGKILL after `grace`, off the async threads.
pub async fn stop_gracefully(children: Vec<ManagedChild>, grace: Duration) {
    if children.is_empty() {
        return;
    }
    let _ = tokio::task::spawn_blocking(move || {
        for mut c in children {
            c.terminate(grace);
        }
    })
    .await;
}
