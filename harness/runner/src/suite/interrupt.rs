//! What a signal leaves behind. The suite tells a [`Ledger`] which runs finished and which one is
//! under way; on SIGINT/SIGTERM/SIGHUP its hook (see `faultline_infra::signals::on_interrupt`,
//! which runs before the stack is reaped and the process exits 128 + the signal) writes the
//! suite's reports with the finished runs' verdicts and an `interrupted` verdict for the run in
//! progress, plus that run's own `report.json` in its run directory.
//!
//! The hook runs on the signal thread while the runtime keeps going, so the state sits behind a
//! mutex the suite only ever holds for a clone or a push (never across an `.await`); the hook waits
//! for it with `try_lock` and a bounded retry rather than blocking.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use faultline_infra::signals::{on_interrupt, Interrupt, InterruptHook};
use faultline_report::{RunReport, SuiteReport, Verdict};

use super::bundle;
use super::outputs::{self, print_outcome, RunRecord};
use super::plan::PlannedRun;

/// How long the hook waits for the suite to let go of the state before giving up.
const LOCK_PATIENCE: Duration = Duration::from_secs(5);

/// The suite as far as it got, for the interrupt hook. Dropping it unregisters the hook.
pub(crate) struct Ledger {
    state: Arc<Mutex<State>>,
    _hook: InterruptHook,
}

struct State {
    /// The suite report with the finished runs; `duration_ms` is filled in when written.
    suite: SuiteReport,
    t0: Instant,
    out: PathBuf,
    current: Option<Current>,
    /// The suite wrote its own reports: a late signal must not replace them.
    written: bool,
}

/// The run under way: its report as [`RunRecord::new`] made it (scenario, seed, backend, defect,
/// repro line, workload counters), where it writes, and when it began.
struct Current {
    report: RunReport,
    run_dir: PathBuf,
    started: Instant,
}

impl Ledger {
    /// Registers the hook for a suite of `target` started at `started_at` (RFC 3339) / `t0`,
    /// writing into `out`.
    pub fn watch(target: &Path, started_at: String, t0: Instant, out: &Path) -> Self {
        let state = Arc::new(Mutex::new(State {
            suite: SuiteReport::new(target.display().to_string(), started_at, 0, Vec::new()),
            t0,
            out: out.to_path_buf(),
            current: None,
            written: false,
        }));
        let for_hook = state.clone();
        let hook = on_interrupt(move |i| on_signal(&for_hook, i, LOCK_PATIENCE));
        Self { state, _hook: hook }
    }

    /// A run began (its directory is claimed).
    pub fn started(&self, record: &RunRecord) {
        self.lock().current = Some(Current {
            report: record.report.clone(),
            run_dir: record.run_dir.clone(),
            started: record.started(),
        });
    }

    /// Saves a run that ended (its bundle, its lines on the terminal; see [`outputs::save`]) while
    /// holding the state, so that after a signal's reports nothing replaces them, and a signal
    /// arriving meanwhile finds the run finished.
    pub fn save(&self, record: RunRecord, planned: &PlannedRun, print: bool) -> RunReport {
        let mut s = self.lock();
        let report = outputs::save(record, planned, print);
        s.current = None;
        s.suite.runs.push(report.clone());
        report
    }

    /// Writes the suite's reports through `write` while holding the state, so a signal arriving
    /// meanwhile waits and then writes nothing.
    pub fn write_final<T>(&self, write: impl FnOnce() -> T) -> T {
        let mut s = self.lock();
        let r = write();
        s.written = true;
        r
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding it leaves the data as consistent as each push left it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The hook: the reports with the run under way `interrupted`, then the state left locked for
/// good. The suite keeps running until the process exits (the stack is reaped first) and a run
/// that loses its stack ends with `error`; with the state locked, the suite's next save or final
/// write blocks instead of replacing these reports.
fn on_signal(state: &Mutex<State>, i: &Interrupt, patience: Duration) {
    match lock_patiently(state, patience) {
        Some(mut s) => {
            s.write_interrupted(i);
            std::mem::forget(s);
        }
        None => {
            let _ = writeln!(
                std::io::stderr(),
                "faultline: {}: the suite kept its state locked for {:.1} s; no interrupted \
                 report was written",
                i.name(),
                patience.as_secs_f64()
            );
        }
    }
}

/// The state, waiting at most `patience` for the suite to release it.
fn lock_patiently(state: &Mutex<State>, patience: Duration) -> Option<MutexGuard<'_, State>> {
    let deadline = Instant::now() + patience;
    loop {
        match state.try_lock() {
            Ok(g) => return Some(g),
            Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(TryLockError::WouldBlock) => return None,
        }
    }
}

impl State {
    /// The suite so far with the run under way marked `interrupted` by `i`.
    fn interrupted_suite(&self, i: &Interrupt) -> (SuiteReport, Option<(RunReport, &Path)>) {
        let mut suite = self.suite.clone();
        suite.duration_ms = self.t0.elapsed().as_millis() as u64;
        let current = self.current.as_ref().map(|c| {
            let mut r = c.report.clone();
            r.verdict = Verdict::Interrupted;
            r.error = Some(format!("interrupted by {}", i.name()));
            r.stats.duration_ms = c.started.elapsed().as_millis() as u64;
            suite.runs.push(r.clone());
            (r, c.run_dir.as_path())
        });
        (suite, current)
    }

    /// Writes the reports (unless the suite already did) and says so on the terminal.
    fn write_interrupted(&mut self, i: &Interrupt) {
        if self.written {
            return;
        }
        self.written = true;
        let (suite, current) = self.interrupted_suite(i);
        // Files first: stderr may be the closed pipe that ended the harness (SIGPIPE), so every
        // line goes through `say`, which ignores a failed write.
        let run_file = current
            .as_ref()
            .map(|(run, dir)| write_run_report(run, dir));
        let say = |line: String| {
            let _ = writeln!(std::io::stderr(), "{line}");
        };
        if let Some(Err(e)) = run_file {
            say(format!("faultline: {e}"));
        }
        match faultline_report::write_all(&suite, &self.out) {
            Ok(_) => say(format!(
                "faultline: {}: reports of {} run(s) ({} interrupted) in {} (report.json, junit.xml, \
                 report.html)",
                i.name(),
                suite.runs.len(),
                suite.count(Verdict::Interrupted),
                self.out.display()
            )),
            Err(e) => say(format!("faultline: {}: writing the reports: {e}", i.name())),
        }
        if let Some((run, _)) = &current {
            print_outcome(run);
        }
    }
}

/// `<run_dir>/report.json`: the run's own report, where its logs are.
fn write_run_report(run: &RunReport, dir: &Path) -> crate::error::Result<()> {
    let path = dir.join(bundle::REPORT);
    let body = faultline_report::json::run_json(run).map_err(|source| {
        crate::error::RunnerError::Json {
            what: path.display().to_string(),
            source,
        }
    })?;
    use crate::error::IoAt;
    std::fs::write(&path, body).at(&path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_report::fixtures::sample_suite;

    fn state(out: &Path) -> State {
        let fixture = sample_suite();
        let run_dir = out.join("runs/broker-restart-42");
        std::fs::create_dir_all(&run_dir).unwrap();
        State {
            suite: SuiteReport {
                runs: vec![fixture.runs[0].clone()],
                ..fixture.clone()
            },
            t0: Instant::now(),
            out: out.to_path_buf(),
            current: Some(Current {
                report: fixture.runs[1].clone(),
                run_dir,
                started: Instant::now(),
            }),
            written: false,
        }
    }

    fn sigterm() -> Interrupt {
        Interrupt {
            signal: libc::SIGTERM,
            exit_code: 143,
        }
    }

    #[test]
    fn the_run_under_way_is_interrupted_and_finished_runs_keep_their_verdicts() {
        let out = tempfile::tempdir().unwrap();
        let mut s = state(out.path());
        s.write_interrupted(&sigterm());
        let suite: SuiteReport =
            serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
                .unwrap();
        let verdicts: Vec<_> = suite.runs.iter().map(|r| r.verdict).collect();
        assert_eq!(verdicts, [Verdict::Pass, Verdict::Interrupted]);
        let run = &suite.runs[1];
        assert_eq!(run.error.as_deref(), Some("interrupted by SIGTERM"));
        assert_eq!((run.scenario.as_str(), run.seed), ("broker-restart", 42));
        let own: RunReport = serde_json::from_str(
            &std::fs::read_to_string(out.path().join("runs/broker-restart-42/report.json"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(own.verdict, Verdict::Interrupted);
        let junit = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
        assert!(
            junit.contains("<error message=\"interrupted by SIGTERM\" type=\"interrupted\">"),
            "{junit}"
        );
    }

    #[test]
    fn after_the_hook_nothing_the_suite_does_can_replace_its_reports() {
        let out = tempfile::tempdir().unwrap();
        let state = Mutex::new(state(out.path()));
        on_signal(&state, &sigterm(), Duration::from_millis(50));
        assert!(out.path().join("report.json").is_file());
        // The suite's next save or final write would wait here until the process exits.
        assert!(matches!(state.try_lock(), Err(TryLockError::WouldBlock)));
    }

    #[test]
    fn after_the_suite_wrote_its_reports_a_signal_writes_nothing() {
        let out = tempfile::tempdir().unwrap();
        let mut s = state(out.path());
        s.written = true;
        s.write_interrupted(&sigterm());
        assert!(!out.path().join("report.json").exists());
    }

    #[test]
    fn the_hook_gives_up_on_a_lock_that_stays_held_instead_of_hanging() {
        let out = tempfile::tempdir().unwrap();
        let state = Mutex::new(state(out.path()));
        let held = state.lock().unwrap();
        let patience = Duration::from_millis(50);
        assert!(lock_patiently(&state, patience).is_none());
        drop(held);
        assert!(lock_patiently(&state, patience).is_some());
    }
}
