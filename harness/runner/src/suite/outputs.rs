//! What a run leaves behind: its report (what the run found, or why it could not finish), its
//! lines on the terminal, and on failure its bundle; with `[compare]` the comparison's files.

use std::path::{Path, PathBuf};

use faultline_infra::BackendKind;
use faultline_report::{CheckStatus, RunReport, RunStats, Verdict};

use super::bundle;
use super::plan::PlannedRun;
use crate::comparison::{self, Baseline};
use crate::error::Result;
use crate::run::RunOutcome;

/// One run's report while it runs, and where its files go.
pub(crate) struct RunRecord {
    pub report: RunReport,
    /// `<out>/runs/<scenario>-<seed>`: logs while it runs; the bundle if it does not pass.
    pub run_dir: PathBuf,
    /// The stack's service logs, fetched when the run did not pass.
    pub service_logs: Vec<(String, String)>,
}

impl RunRecord {
    /// A report that says `error` until [`finish`](Self::finish) says otherwise; clears the run's
    /// directory of an earlier run's files.
    pub fn new(
        planned: &PlannedRun,
        kind: BackendKind,
        defect: Option<String>,
        out: &Path,
    ) -> Self {
        let (s, seed, workload) = (&planned.scenario, planned.seed, &planned.workload);
        let run_dir = out.join("runs").join(format!("{}-{seed}", s.name));
        let _ = std::fs::remove_dir_all(&run_dir);
        let repro = repro_command(&planned.file, seed, kind, defect.as_deref());
        let report = RunReport {
            scenario: s.name.clone(),
            scenario_file: planned.file.display().to_string(),
            seed,
            backend: kind.to_string(),
            defect,
            verdict: Verdict::Error,
            error: None,
            checks: Vec::new(),
            faults: Vec::new(),
            stats: RunStats {
                produced: workload.records.len() as u64,
                workload_digest: workload.digest(),
                ..RunStats::default()
            },
            samples: Vec::new(),
            repro,
            bundle: None,
            end_state: None,
            stalls: Vec::new(),
        };
        Self {
            report,
            run_dir,
            service_logs: Vec::new(),
        }
    }

    /// Takes in what the run found (and writes its comparison files), or why it could not finish.
    pub fn finish(&mut self, result: Result<(RunOutcome, Option<Baseline>)>) {
        let (outcome, baseline) = match result {
            Ok(r) => r,
            Err(e) => {
                self.report.error = Some(e.to_string());
                return;
            }
        };
        if let Some(live) = &outcome.comparison {
            let dir = self.run_dir.join(comparison::DIR);
            if let Err(e) = comparison::write_outputs(live, baseline.as_ref(), &dir) {
                eprintln!("  could not write the model comparison: {e}");
            }
        }
        let r = &mut self.report;
        r.verdict = if outcome.checks.iter().any(|c| c.status == CheckStatus::Fail) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        r.checks = outcome.checks;
        r.faults = outcome.faults;
        r.stats = outcome.stats;
        r.samples = outcome.samples;
        r.stalls = faultline_report::find_stalls(&r.samples, &r.faults);
        r.end_state = Some(outcome.end_state);
    }
}

/// Removes a passed run's logs, or writes a failed run's bundle; prints the outcome.
pub(crate) fn save(record: RunRecord, planned: &PlannedRun) -> RunReport {
    let RunRecord {
        mut report,
        run_dir,
        service_logs,
    } = record;
    if report.verdict == Verdict::Pass {
        let _ = std::fs::remove_dir_all(run_dir.join("logs"));
    } else {
        report.bundle = Some(run_dir.display().to_string());
        let (file, w, plan) = (&planned.file, &planned.workload, &planned.plan);
        if let Err(e) = bundle::write(&run_dir, file, &report, w, plan, &service_logs) {
            eprintln!("  could not write the failure bundle: {e}");
        }
    }
    print_outcome(&report);
    report
}

/// The one command that reruns a run: scenario file, seed, backend and defect.
fn repro_command(file: &Path, seed: u64, kind: BackendKind, defect: Option<&str>) -> String {
    let mut cmd = format!(
        "faultline run {} --seed {seed} --backend {kind}",
        file.display()
    );
    if let Some(d) = defect {
        cmd.push_str(&format!(" --defect {d}"));
    }
    cmd
}

fn print_outcome(r: &RunReport) {
    let secs = r.stats.duration_ms as f64 / 1000.0;
    match r.verdict {
        Verdict::Pass => {
            let stall = faultline_report::stall::longest(&r.stalls)
                .map(|st| {
                    format!(
                        ", longest commit stall {:.1} s at {:.1} s",
                        st.duration_ms() as f64 / 1000.0,
                        st.from_ms as f64 / 1000.0
                    )
                })
                .unwrap_or_default();
            eprintln!(
                "  PASS  {} seed {} ({secs:.1} s, {} committed{stall})",
                r.scenario, r.seed, r.stats.committed
            );
        }
        Verdict::Fail | Verdict::Error => {
            let word = if r.verdict == Verdict::Fail {
                "FAIL"
            } else {
                "ERROR"
            };
            eprintln!("  {word}  {} seed {} ({secs:.1} s)", r.scenario, r.seed);
            if let Some(e) = &r.error {
                eprintln!("        {}", e.replace('\n', "\n        "));
            }
            for c in r.failed_checks() {
                eprintln!("        check {}: {}", c.name, c.detail);
                for row in c.failing_rows.iter().take(5) {
                    eprintln!("          {}", serde_json::Value::Object(row.clone()));
                }
            }
            eprintln!("        reproduce: {}", r.repro);
            if let Some(b) = &r.bundle {
                eprintln!("        bundle:    {b}  (faultline repro {b})");
            }
        }
    }
}
