//! What a run leaves behind: its report (what the run found, or why it could not finish), its
//! lines on the terminal, and on failure its bundle; with `[compare]` the comparison's files.

use std::path::{Path, PathBuf};

use faultline_infra::BackendKind;
use faultline_report::{CheckStatus, RunReport, RunStats, Verdict};
use faultline_scenario::GroupProtocol;

use super::bundle;
use super::plan::PlannedRun;
use crate::comparison::{self, Baseline};
use crate::error::{Result, RunnerError};
use crate::run::RunOutcome;
use faultline_infra::errln;

/// One run's report while it runs, and where its files go.
pub(crate) struct RunRecord {
    pub report: RunReport,
    /// `<out>/runs/<scenario>-<seed>`: logs while it runs; the bundle if it does not pass.
    pub run_dir: PathBuf,
    /// The stack's service logs, fetched when the run did not pass.
    pub service_logs: Vec<(String, String)>,
    /// When the run began, so a run that could not finish still reports how long it took.
    started: std::time::Instant,
}

impl RunRecord {
    /// A report that says `error` until [`finish`](Self::finish) says otherwise, in a run
    /// directory of its own (see [`claim_run_dir`]).
    pub fn new(
        planned: &PlannedRun,
        kind: BackendKind,
        defect: Option<String>,
        out: &Path,
    ) -> Result<Self> {
        let (s, seed, workload) = (&planned.scenario, planned.seed, &planned.workload);
        let run_dir = claim_run_dir(out, &s.name, seed)?;
        let pipeline = planned.pipeline.given_file();
        let protocol = s.pipeline.group_protocol;
        let repro = repro_command(
            &planned.file,
            seed,
            kind,
            planned.name_group_protocol.then_some(protocol),
            defect.as_deref(),
            pipeline.as_deref(),
        );
        let report = RunReport {
            scenario: s.name.clone(),
            scenario_file: planned.file.display().to_string(),
            seed,
            backend: kind.to_string(),
            group_protocol: protocol.to_string(),
            defect,
            pipeline: pipeline.map(|p| p.display().to_string()),
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
        Ok(Self {
            report,
            run_dir,
            service_logs: Vec::new(),
            started: std::time::Instant::now(),
        })
    }

    /// When the run began.
    pub fn started(&self) -> std::time::Instant {
        self.started
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
                errln!("  could not write the model comparison: {e}");
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
        faultline_report::recovery::measure(&r.samples, &mut r.faults);
        r.end_state = Some(outcome.end_state);
    }
}

/// Most bytes a passing run keeps of each worker log: its last ones.
pub(crate) const PASSING_LOG_CAP: u64 = 256 * 1024;

/// Cuts every file in `dir` longer than `cap` bytes to its last `cap` bytes, after a line that
/// says how much was cut. Best effort: a log that cannot be cut is left whole.
fn cap_logs(dir: &Path, cap: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if bytes.len() as u64 <= cap {
            continue;
        }
        let cut = bytes.len() - cap as usize;
        let start = bytes[cut..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(cut, |i| cut + i + 1);
        let mut kept =
            format!("[faultline: the first {start} bytes of this log were cut; the run passed]\n")
                .into_bytes();
        kept.extend_from_slice(&bytes[start..]);
        let _ = std::fs::write(&path, kept);
    }
}

/// Caps a passed run's logs, or writes a failed run's bundle; prints the outcome when `print`.
pub(crate) fn save(record: RunRecord, planned: &PlannedRun, print: bool) -> RunReport {
    let RunRecord {
        mut report,
        run_dir,
        service_logs,
        started,
    } = record;
    if report.stats.duration_ms == 0 {
        // A run that could not finish has no stats of its own; its wall time still matters.
        report.stats.duration_ms = started.elapsed().as_millis() as u64;
    }
    if report.verdict == Verdict::Pass {
        // A passing run keeps its workers' logs too (what a newcomer reads first), each capped.
        cap_logs(&run_dir.join("logs"), PASSING_LOG_CAP);
    } else {
        report.bundle = Some(run_dir.display().to_string());
        let (file, w, plan) = (&planned.file, &planned.workload, &planned.plan);
        if let Err(e) = bundle::write(&run_dir, file, &report, w, plan, &service_logs) {
            errln!("  could not write the failure bundle: {e}");
        }
    }
    if print {
        print_outcome(&report);
    }
    report
}

/// A fresh directory for one run under `<out>/runs`: `<name>-<seed>`, or `<name>-<seed>-2`, `-3`…
/// when that is taken (by an earlier run, another file with the same name, or a concurrent run).
/// Created with `create_dir`, which fails on an existing directory, so no two runs ever share one
/// and nothing that exists is ever removed. The name is checked again here, although validation
/// already refused unsafe ones, because it becomes a path component.
pub(crate) fn claim_run_dir(out: &Path, name: &str, seed: u64) -> Result<PathBuf> {
    faultline_scenario::safe_name(name).map_err(|e| {
        RunnerError::Usage(format!(
            "scenario name `{name}` cannot name a run directory: {e}"
        ))
    })?;
    let runs = out.join("runs");
    std::fs::create_dir_all(&runs).map_err(|e| RunnerError::Io {
        path: runs.clone(),
        source: e,
    })?;
    for k in 1u32.. {
        let leaf = match k {
            1 => format!("{name}-{seed}"),
            _ => format!("{name}-{seed}-{k}"),
        };
        let dir = runs.join(leaf);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(RunnerError::Io {
                    path: dir,
                    source: e,
                })
            }
        }
    }
    unreachable!("u32 suffixes run out before directories do")
}

/// The one command that reruns a run: scenario file, seed, backend, group protocol (when the file
/// alone would not give it, or it is not the default), pipeline manifest and defect, quoted for a
/// shell.
fn repro_command(
    file: &Path,
    seed: u64,
    kind: BackendKind,
    protocol: Option<GroupProtocol>,
    defect: Option<&str>,
    pipeline: Option<&Path>,
) -> String {
    let file = shell_quote(&file.display().to_string());
    let mut cmd = format!("faultline run {file} --seed {seed} --backend {kind}");
    if let Some(p) = protocol {
        cmd.push_str(&format!(" --group-protocol {p}"));
    }
    if let Some(p) = pipeline {
        cmd.push_str(&format!(
            " --pipeline {}",
            shell_quote(&p.display().to_string())
        ));
    }
    if let Some(d) = defect {
        cmd.push_str(&format!(" --defect {}", shell_quote(d)));
    }
    cmd
}

/// `arg` as one POSIX shell word: unchanged when it holds only characters no shell treats
/// specially, else in single quotes (a `'` inside becomes `'\''`).
pub(crate) fn shell_quote(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// The run's lines on the terminal: one for a pass; for anything else, why, the failed checks,
/// the command that reruns it and its bundle.
pub(crate) fn print_outcome(r: &RunReport) {
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
            errln!(
                "  PASS  {} seed {} ({secs:.1} s, {} committed{stall})",
                r.scenario,
                r.seed,
                r.stats.committed
            );
        }
        Verdict::Fail | Verdict::Error | Verdict::Interrupted => {
            let word = r.verdict.as_str().to_uppercase();
            errln!("  {word}  {} seed {} ({secs:.1} s)", r.scenario, r.seed);
            if let Some(e) = &r.error {
                errln!("        {}", e.replace('\n', "\n        "));
            }
            for c in r.failed_checks() {
                errln!("        check {}: {}", c.name, c.detail);
                for row in c.failing_rows.iter().take(5) {
                    errln!("          {}", serde_json::Value::Object(row.clone()));
                }
            }
            errln!("        reproduce: {}", r.repro);
            if let Some(b) = &r.bundle {
                errln!("        bundle:    {b}  (faultline repro {b}; smallest failing case: faultline shrink {b})");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_dirs_are_unique_and_nothing_existing_is_removed() {
        let out = tempfile::tempdir().unwrap();
        let first = claim_run_dir(out.path(), "kill-workers", 7).unwrap();
        std::fs::write(first.join("report.json"), "{}").unwrap();
        let second = claim_run_dir(out.path(), "kill-workers", 7).unwrap();
        let third = claim_run_dir(out.path(), "kill-workers", 7).unwrap();
        assert_eq!(first, out.path().join("runs/kill-workers-7"));
        assert_eq!(second, out.path().join("runs/kill-workers-7-2"));
        assert_eq!(third, out.path().join("runs/kill-workers-7-3"));
        // The first run's files survive the later claims.
        assert_eq!(
            std::fs::read_to_string(first.join("report.json")).unwrap(),
            "{}"
        );
    }

    #[test]
    fn unsafe_names_never_reach_the_file_system() {
        let out = tempfile::tempdir().unwrap();
        let victim = out.path().join("victim-7");
        std::fs::create_dir(&victim).unwrap();
        std::fs::write(victim.join("keep"), "x").unwrap();
        let name = format!("{}/victim", out.path().display());
        let err = claim_run_dir(&out.path().join("o"), &name, 7).unwrap_err();
        assert!(matches!(err, RunnerError::Usage(_)), "{err}");
        assert!(victim.join("keep").exists());
        assert!(
            !out.path().join("o").exists(),
            "nothing created for a refused name"
        );
        for bad in ["..", "../up", "a b", ""] {
            assert!(
                claim_run_dir(out.path(), bad, 1).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn passing_logs_keep_their_last_bytes_from_a_line_start() {
        let dir = tempfile::tempdir().unwrap();
        let long: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(dir.path().join("w1.log"), &long).unwrap();
        std::fs::write(dir.path().join("w2.log"), "short\n").unwrap();
        cap_logs(dir.path(), 100);
        let kept = std::fs::read_to_string(dir.path().join("w1.log")).unwrap();
        assert!(kept.starts_with("[faultline: the first "), "{kept}");
        assert!(kept.ends_with("line 999\n"), "{kept}");
        let body: Vec<&str> = kept.lines().skip(1).collect();
        assert!(body.iter().all(|l| l.starts_with("line ")), "{kept}");
        assert!(kept.len() < 200);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("w2.log")).unwrap(),
            "short\n"
        );
    }

    #[test]
    fn rerun_commands_quote_what_a_shell_would_split() {
        let cmd = repro_command(
            Path::new("my scenarios/it's.toml"),
            7,
            BackendKind::Processes,
            None,
            None,
            None,
        );
        assert_eq!(
            cmd,
            "faultline run 'my scenarios/it'\\''s.toml' --seed 7 --backend processes"
        );
        let plain = repro_command(
            Path::new("scenarios/a.toml"),
            1,
            BackendKind::Processes,
            None,
            Some("no-fencing"),
            None,
        );
        assert_eq!(
            plain,
            "faultline run scenarios/a.toml --seed 1 --backend processes --defect no-fencing"
        );
        let consumer = repro_command(
            Path::new("scenarios/a.toml"),
            1,
            BackendKind::Containers,
            Some(GroupProtocol::Consumer),
            Some("no-fencing"),
            None,
        );
        assert_eq!(
            consumer,
            "faultline run scenarios/a.toml --seed 1 --backend containers --group-protocol consumer --defect no-fencing"
        );
    }
}
