//! `junit.xml`: one `<testsuite>` per run, one `<testcase>` per check, so CI systems show each
//! check of each scenario × seed as a test. Failures carry the detail, the first offending rows and
//! the repro command; an errored or interrupted run is one `<testcase name="run">` with an
//! `<error>` (type `run_error` or `interrupted`; an interrupted run's message names the signal).

use crate::escape::{attr, text};
use crate::model::{CheckResult, CheckStatus, RunReport, SuiteReport, Verdict};
use crate::units::seconds;

/// How many offending rows a failure message quotes (the HTML report shows more).
const ROWS_QUOTED: usize = 20;

/// The suite as a JUnit XML document.
pub fn junit_xml(suite: &SuiteReport) -> String {
    let mut tally = Tally::default();
    let body: String = suite
        .runs
        .iter()
        .map(|run| {
            let t = Tally::of(run);
            tally.add(t);
            testsuite(run, t)
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"faultline {target}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\">\n\
         {body}</testsuites>\n",
        tally.tests,
        tally.failures,
        tally.errors,
        tally.skipped,
        seconds(suite.duration_ms),
        attr(&suite.started_at),
        target = attr(&suite.target),
    )
}

/// Test counts of one `<testsuite>` or of the whole document.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Tally {
    fn of(run: &RunReport) -> Tally {
        let with = |s: CheckStatus| run.checks.iter().filter(|c| c.status == s).count();
        let errors = usize::from(matches!(run.verdict, Verdict::Error | Verdict::Interrupted));
        Tally {
            tests: run.checks.len() + errors,
            failures: with(CheckStatus::Fail),
            errors,
            skipped: with(CheckStatus::Skip),
        }
    }

    fn add(&mut self, t: Tally) {
        self.tests += t.tests;
        self.failures += t.failures;
        self.errors += t.errors;
        self.skipped += t.skipped;
    }
}

fn testsuite(run: &RunReport, t: Tally) -> String {
    let mut s = format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">\n    <properties>\n",
        attr(&run.label()),
        t.tests,
        t.failures,
        t.errors,
        t.skipped,
        seconds(run.stats.duration_ms),
    );
    let seed = run.seed.to_string();
    let counts = [
        run.stats.produced.to_string(),
        run.stats.committed.to_string(),
        run.stats.dlq.to_string(),
    ];
    let properties = [
        ("scenario_file", Some(run.scenario_file.as_str())),
        ("seed", Some(seed.as_str())),
        ("backend", Some(run.backend.as_str())),
        ("group_protocol", Some(run.group_protocol.as_str())),
        ("defect", run.defect.as_deref()),
        ("verdict", Some(run.verdict.as_str())),
        ("repro", Some(run.repro.as_str())),
        ("bundle", run.bundle.as_deref()),
        ("produced", Some(counts[0].as_str())),
        ("committed", Some(counts[1].as_str())),
        ("dlq", Some(counts[2].as_str())),
        ("workload_digest", Some(run.stats.workload_digest.as_str())),
    ];
    for (name, value) in properties {
        if let Some(value) = value {
            s.push_str(&format!(
                "      <property name=\"{name}\" value=\"{}\"/>\n",
                attr(value)
            ));
        }
    }
    s.push_str("    </properties>\n");
    let classname = attr(&run.scenario);
    let error_type = match run.verdict {
        Verdict::Error => Some(("run_error", "the run could not finish (no reason recorded)")),
        Verdict::Interrupted => Some(("interrupted", "interrupted (no signal recorded)")),
        Verdict::Pass | Verdict::Fail => None,
    };
    if let Some((kind, unknown)) = error_type {
        let why = run.error.as_deref().unwrap_or(unknown);
        s.push_str(&format!(
            "    <testcase classname=\"{classname}\" name=\"run\" time=\"{}\">\n      <error message=\"{}\" type=\"{kind}\">{}</error>\n    </testcase>\n",
            seconds(run.stats.duration_ms),
            attr(why),
            text(&with_repro(why.to_string(), run)),
        ));
    }
    for check in &run.checks {
        s.push_str(&testcase(&classname, check, run));
    }
    if !run.faults.is_empty() {
        let faults: String = run
            .faults
            .iter()
            .map(|f| match f.end_ms {
                Some(end) => format!(
                    "{} {} {}–{} s: {}\n",
                    f.id,
                    f.target,
                    seconds(f.start_ms),
                    seconds(end),
                    f.outcome
                ),
                None => format!(
                    "{} {} at {} s: {}\n",
                    f.id,
                    f.target,
                    seconds(f.start_ms),
                    f.outcome
                ),
            })
            .collect();
        s.push_str(&format!(
            "    <system-out>faults injected:\n{}</system-out>\n",
            text(&faults)
        ));
    }
    s.push_str("  </testsuite>\n");
    s
}

fn testcase(classname: &str, check: &CheckResult, run: &RunReport) -> String {
    let open = format!(
        "    <testcase classname=\"{classname}\" name=\"{}\"",
        attr(&check.name)
    );
    match check.status {
        CheckStatus::Pass => format!("{open}/>\n"),
        CheckStatus::Skip => format!("{open}>\n      <skipped message=\"{}\"/>\n    </testcase>\n", attr(&check.detail)),
        CheckStatus::Warn => format!(
            "{open}>\n      <system-out>{}</system-out>\n    </testcase>\n",
            text(&format!("WARN {}", explain(check)))
        ),
        CheckStatus::Fail => format!(
            "{open}>\n      <failure message=\"{}\" type=\"check_failed\">{}</failure>\n    </testcase>\n",
            attr(&check.detail),
            text(&with_repro(explain(check), run)),
        ),
    }
}

/// The detail and, if there are any, the first offending rows as JSON lines.
fn explain(check: &CheckResult) -> String {
    let mut s = format!("{}: {}\n", check.name, check.detail);
    if !check.failing_rows.is_empty() {
        let total = check.failing_total.max(check.failing_rows.len() as u64);
        let shown = check.failing_rows.len().min(ROWS_QUOTED);
        s.push_str(&format!("{total} offending rows; the first {shown}:\n"));
        for row in check.failing_rows.iter().take(shown) {
            s.push_str(&serde_json::Value::Object(row.clone()).to_string());
            s.push('\n');
        }
    }
    s
}

fn with_repro(mut s: String, run: &RunReport) -> String {
    s.push_str(&format!("reproduce: {}\n", run.repro));
    if let Some(bundle) = &run.bundle {
        s.push_str(&format!("failure bundle: {bundle}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample_suite;
    use proptest::prelude::*;

    fn parse(xml: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(xml)
            .unwrap_or_else(|e| panic!("junit.xml does not parse: {e}\n{xml}"))
    }

    fn count(doc: &roxmltree::Document<'_>, tag: &str) -> usize {
        doc.descendants().filter(|n| n.has_tag_name(tag)).count()
    }

    #[test]
    fn one_testsuite_per_run_and_one_testcase_per_check() {
        let suite = sample_suite();
        let xml = junit_xml(&suite);
        let doc = parse(&xml);
        let root = doc.root_element();
        assert_eq!(root.attribute("tests"), Some("10"));
        assert_eq!(root.attribute("failures"), Some("2"));
        assert_eq!(root.attribute("skipped"), Some("1"));
        assert_eq!(root.attribute("time"), Some("131.400"));
        let names: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testsuite"))
            .map(|n| n.attribute("name").unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "steady-state[seed=7,backend=processes]",
                "broker-restart[seed=42,backend=processes]"
            ]
        );
        assert_eq!(count(&doc, "testcase"), 10);
        assert_eq!(count(&doc, "failure"), 2);
        assert_eq!(count(&doc, "skipped"), 1);
        assert_eq!(count(&doc, "error"), 0);
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(failure.parent().unwrap().attribute("name"), Some("no_loss"));
        assert_eq!(
            failure.parent().unwrap().attribute("classname"),
            Some("broker-restart")
        );
        let body = failure.text().unwrap();
        assert!(body.contains("17 offending rows; the first 8:"), "{body}");
        assert!(body.contains("\"key\":\"acct-000040\""), "{body}");
        assert!(
            body.contains("reproduce: faultline run scenarios/smoke/broker-restart.toml --seed 42"),
            "{body}"
        );
    }

    #[test]
    fn warn_passes_with_output_and_errored_run_is_one_error_testcase() {
        let mut suite = sample_suite();
        suite.runs[1].verdict = Verdict::Error;
        suite.runs[1].error = Some("broker 1 did not come back within 60 s".into());
        suite.runs[1].checks.clear();
        let xml = junit_xml(&suite);
        let doc = parse(&xml);
        let warn = doc
            .descendants()
            .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("quarantine"))
            .unwrap();
        assert!(warn
            .children()
            .any(|c| c.has_tag_name("system-out")
                && c.text().unwrap().starts_with("WARN quarantine")));
        assert!(!warn.children().any(|c| c.has_tag_name("failure")));
        let errored: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testsuite"))
            .nth(1)
            .unwrap()
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(errored.len(), 1);
        assert_eq!(errored[0].attribute("name"), Some("run"));
        let error = errored[0]
            .children()
            .find(|n| n.has_tag_name("error"))
            .unwrap();
        assert_eq!(
            error.attribute("message"),
            Some("broker 1 did not come back within 60 s")
        );
        assert_eq!(doc.root_element().attribute("errors"), Some("1"));
    }

    #[test]
    fn an_interrupted_run_is_one_error_testcase_naming_the_signal() {
        let mut suite = sample_suite();
        suite.runs[1].verdict = Verdict::Interrupted;
        suite.runs[1].error = Some("interrupted by SIGTERM".into());
        suite.runs[1].checks.clear();
        let xml = junit_xml(&suite);
        let doc = parse(&xml);
        let error = doc
            .descendants()
            .find(|n| n.has_tag_name("error"))
            .expect("an <error>");
        assert_eq!(error.attribute("message"), Some("interrupted by SIGTERM"));
        assert_eq!(error.attribute("type"), Some("interrupted"));
        let case = error.parent().unwrap();
        assert_eq!(case.attribute("name"), Some("run"));
        assert_eq!(case.attribute("classname"), Some("broker-restart"));
        assert_eq!(doc.root_element().attribute("errors"), Some("1"));
        assert!(xml.contains("<property name=\"verdict\" value=\"interrupted\"/>"));
    }

    proptest! {
        #[test]
        fn arbitrary_strings_survive_a_parse(name in any::<String>(), detail in any::<String>(), scenario in any::<String>()) {
            let mut suite = sample_suite();
            suite.runs[1].scenario = scenario.clone();
            suite.runs[1].checks[0].name = name.clone();
            suite.runs[1].checks[0].detail = detail.clone();
            let xml = junit_xml(&suite);
            let doc = roxmltree::Document::parse(&xml).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            let case = doc.descendants().filter(|n| n.has_tag_name("testcase")).nth(5).unwrap();
            let clean = crate::escape::sanitize;
            let (name, scenario, detail) = (clean(&name), clean(&scenario), clean(&detail));
            prop_assert_eq!(case.attribute("name"), Some(name.as_str()));
            prop_assert_eq!(case.attribute("classname"), Some(scenario.as_str()));
            let failure = case.children().find(|n| n.has_tag_name("failure")).unwrap();
            prop_assert_eq!(failure.attribute("message"), Some(detail.as_str()));
            let expected_start = format!("{name}: {detail}\n");
            prop_assert!(failure.text().unwrap_or("").starts_with(&expected_start));
        }
    }
}
