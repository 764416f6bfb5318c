//! `summary.md`: the suite in a few lines of Markdown, readable raw in a terminal and rendered in a
//! CI comment. Passing runs are one table row; each run with faults gets a line with every fault's
//! time to recover; runs that failed, errored, were interrupted or warned get a section with their
//! non-passing checks and the command that reproduces them.

use crate::model::{CheckResult, CheckStatus, FaultEvent, RunReport, SuiteReport, Verdict};
use crate::units::{count, duration};

/// How many offending rows a check quotes here.
const ROWS_QUOTED: usize = 3;

/// The suite as Markdown.
pub fn summary_md(suite: &SuiteReport) -> String {
    let interrupted = match suite.count(Verdict::Interrupted) {
        0 => String::new(),
        n => format!(", {n} interrupted"),
    };
    let mut s = format!(
        "# faultline: {}\n\n{} run{} of `{}` (started {}, took {}): {} passed, {} failed, {} errored{interrupted}.\n\n",
        suite.verdict().as_str().to_uppercase(),
        suite.runs.len(),
        if suite.runs.len() == 1 { "" } else { "s" },
        cell(&suite.target),
        cell(&suite.started_at),
        duration(suite.duration_ms),
        suite.count(Verdict::Pass),
        suite.count(Verdict::Fail),
        suite.count(Verdict::Error),
    );
    for r in &suite.reproduction {
        let classes: Vec<String> = r
            .classes
            .iter()
            .map(|(c, n)| format!("`{c}` ({n})"))
            .collect();
        s.push_str(&format!(
            "- {} seed {}: failed {} of {} runs ({:.0}%), **{}**{}\n",
            cell(&r.scenario),
            r.seed,
            r.failed,
            r.runs,
            r.rate * 100.0,
            r.label.as_str(),
            if classes.is_empty() {
                String::new()
            } else {
                format!(": {}", classes.join(", "))
            }
        ));
    }
    if let Some(h) = &suite.hunt {
        s.push_str(&format!(
            "- hunt of seeds {}..{}: {} run, {}\n",
            h.seeds[0],
            h.seeds[1],
            h.tried.len(),
            h.first_failing
                .map_or("none failed".to_string(), |seed| format!(
                    "first failing seed **{seed}**"
                ))
        ));
    }
    if let Some(l) = &suite.shrink {
        s.push_str(&format!(
            "- shrink ({}): faults {} -> {}, events {} -> {}, workers {} -> {}, in {} candidates; {}\n",
            l.stopped.as_str(),
            l.before.faults,
            l.after.faults,
            l.before.events,
            l.after.events,
            l.before.workers,
            l.after.workers,
            l.steps.len(),
            l.scenario_file
                .as_deref()
                .map_or("no smaller failing case".to_string(), |f| format!("smallest case `{f}`"))
        ));
    }
    if !suite.reproduction.is_empty() || suite.hunt.is_some() || suite.shrink.is_some() {
        s.push('\n');
    }
    if suite.runs.is_empty() {
        return s;
    }
    s.push_str("| scenario | seed | backend | defect | verdict | duration | produced | committed | dlq | longest stall | slowest recovery |\n");
    s.push_str("|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|\n");
    for run in &suite.runs {
        s.push_str(&format!(
            "| {} | {} | {} | {} | **{}** | {} | {} | {} | {} | {} | {} |\n",
            cell(&run.scenario),
            run.seed,
            cell(&run.backend),
            run.defect
                .as_deref()
                .map(cell)
                .unwrap_or_else(|| "–".into()),
            run.verdict.as_str().to_uppercase(),
            duration(run.stats.duration_ms),
            count(run.stats.produced),
            count(run.stats.committed),
            count(run.stats.dlq),
            crate::stall::longest(&run.stalls)
                .map(|st| duration(st.duration_ms()))
                .unwrap_or_else(|| "–".into()),
            crate::recovery::slowest(&run.faults)
                .map(|(_, r)| r.words())
                .unwrap_or_else(|| "–".into()),
        ));
    }
    s.push_str(&recovery_lines(suite));
    for run in &suite.runs {
        let warned = run.checks.iter().any(|c| c.status == CheckStatus::Warn);
        if run.verdict != Verdict::Pass || warned {
            s.push_str(&run_section(run));
        }
    }
    s
}

/// Every fault's time to recover, a line per run that had faults.
fn recovery_lines(suite: &SuiteReport) -> String {
    let runs: Vec<&RunReport> = suite.runs.iter().filter(|r| !r.faults.is_empty()).collect();
    if runs.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\nTime to recover (from a fault's heal until the oldest waiting record is back within its bar):\n\n",
    );
    for run in runs {
        let faults: Vec<String> = run.faults.iter().map(fault_recovery).collect();
        s.push_str(&format!(
            "- {} (seed {}): {}\n",
            cell(&run.scenario),
            run.seed,
            faults.join(", ")
        ));
    }
    s
}

/// `` `kill_worker#1` 4.5 s ``, `` `kill_worker#2` skipped ``.
fn fault_recovery(f: &FaultEvent) -> String {
    let words = match (&f.time_to_recover, f.outcome.was_injected()) {
        (Some(r), _) => r.words(),
        (None, false) => "skipped".to_string(),
        (None, true) => "not measured".to_string(),
    };
    format!("`{}` {words}", cell(&f.id))
}

fn run_section(run: &RunReport) -> String {
    let warned = run.verdict == Verdict::Pass;
    let mut s = format!(
        "\n## {}{}: {} (seed {}, {}{}{})\n\n",
        run.verdict.as_str().to_uppercase(),
        if warned { " with warnings" } else { "" },
        cell(&run.scenario),
        run.seed,
        cell(&run.backend),
        if run.group_protocol == "classic" {
            String::new()
        } else {
            format!(", group protocol `{}`", cell(&run.group_protocol))
        },
        run.defect
            .as_deref()
            .map(|d| format!(", defect `{}`", cell(d)))
            .unwrap_or_default(),
    );
    if let Some(error) = &run.error {
        let why = match run.verdict {
            Verdict::Interrupted => "The run was cut short",
            _ => "The run could not finish",
        };
        s.push_str(&format!("{why}: {}\n\n", cell(error)));
    }
    for check in run
        .checks
        .iter()
        .filter(|c| matches!(c.status, CheckStatus::Fail | CheckStatus::Warn))
    {
        s.push_str(&check_line(check));
    }
    if run.verdict != Verdict::Pass {
        s.push_str(&format!("\nReproduce:\n\n{}", fenced(&run.repro, "sh")));
        if let Some(bundle) = &run.bundle {
            s.push_str(&format!("\nFailure bundle: `{}`\n", cell(bundle)));
        }
    }
    s
}

fn check_line(check: &CheckResult) -> String {
    let mut s = format!(
        "- **{}** `{}`: {}",
        check.status.as_str().to_uppercase(),
        cell(&check.name),
        cell(&check.detail)
    );
    let total = check.failing_total.max(check.failing_rows.len() as u64);
    if total > 0 {
        s.push_str(&format!(" ({} rows)", count(total)));
    }
    s.push('\n');
    if !check.failing_rows.is_empty() {
        let rows: String = check
            .failing_rows
            .iter()
            .take(ROWS_QUOTED)
            .map(|r| format!("{}\n", serde_json::Value::Object(r.clone())))
            .collect();
        for line in fenced(&rows, "json").lines() {
            s.push_str(&format!("  {line}\n"));
        }
    }
    s
}

/// One line of text safe inside a table cell or a sentence: no line breaks, no pipes, no HTML.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::escape::sanitize(s).chars() {
        match c {
            '\r' | '\n' | '\t' => out.push(' '),
            '|' | '<' | '>' | '`' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A fenced code block whose fence is longer than any run of backticks inside.
fn fenced(body: &str, lang: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let newline = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{lang}\n{body}{newline}{fence}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample_suite;
    use crate::recovery::Recovery;

    #[test]
    fn summary_of_the_fixture_suite() {
        insta::assert_snapshot!(summary_md(&sample_suite()));
    }

    #[test]
    fn an_interrupted_run_is_counted_and_gets_a_section_naming_the_signal() {
        assert!(!summary_md(&sample_suite()).contains("interrupted"));
        let mut suite = sample_suite();
        suite.runs[1].verdict = Verdict::Interrupted;
        suite.runs[1].error = Some("interrupted by SIGTERM".into());
        let md = summary_md(&suite);
        assert!(
            md.contains("1 passed, 0 failed, 0 errored, 1 interrupted."),
            "{md}"
        );
        assert!(
            md.contains("## INTERRUPTED: broker-restart (seed 42"),
            "{md}"
        );
        assert!(
            md.contains("The run was cut short: interrupted by SIGTERM"),
            "{md}"
        );
    }

    #[test]
    fn every_fault_has_its_time_to_recover_and_the_table_the_slowest() {
        let mut suite = sample_suite();
        let faults = &mut suite.runs[1].faults;
        faults[1].time_to_recover = Some(Recovery::NotRecovered { watched_ms: 21_500 });
        faults[2].time_to_recover = None;
        faults[2].outcome = crate::model::FaultOutcome::Skipped {
            reason: "no broker 3".into(),
        };
        let md = summary_md(&suite);
        assert!(
            md.contains("- steady-state (seed 7): `partition#1` 9.0 s\n"),
            "{md}"
        );
        assert!(
            md.contains(
                "- broker-restart (seed 42): `kill_worker#1` 0 ms, `latency#2` not recovered \
                 (watched 21.5 s after heal), `restart_broker#3` skipped\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("| 96 | 7.0 s | not recovered (watched 21.5 s after heal) |\n"),
            "{md}"
        );
        suite.runs.iter_mut().for_each(|r| r.faults.clear());
        let md = summary_md(&suite);
        assert!(!md.contains("Time to recover"), "{md}");
        assert!(md.contains("| 9.0 s | – |\n"), "{md}");
    }

    #[test]
    fn cells_cannot_break_the_table_or_a_fence() {
        assert_eq!(cell("a|b\n<i>`c`"), "a\\|b \\<i\\>\\`c\\`");
        assert_eq!(fenced("x ``` y", "sh"), "````sh\nx ``` y\n````\n");
    }
}
