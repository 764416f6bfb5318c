//! What a suite found across runs rather than in one: how often a scenario and seed fail when run
//! again (`faultline run --repeat N`), the first failing seed of a range (`faultline hunt`), and
//! the steps of a search for the smallest failing scenario (`faultline shrink`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{CheckStatus, RunReport, Verdict};

impl RunReport {
    /// The anomaly classes this run's failing checks report (the `class` of their failing rows),
    /// sorted and without repeats; a failing check whose rows carry no class counts as
    /// `check:<name>`. Empty for a run that passed.
    pub fn anomaly_classes(&self) -> Vec<String> {
        let mut found: Vec<String> = self
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .flat_map(|c| {
                let classes: Vec<String> = c
                    .failing_rows
                    .iter()
                    .filter_map(|row| row.get("class").and_then(|v| v.as_str()))
                    .map(str::to_string)
                    .collect();
                if classes.is_empty() {
                    vec![format!("check:{}", c.name)]
                } else {
                    classes
                }
            })
            .collect();
        found.sort();
        found.dedup();
        found
    }
}

/// How a scenario and seed behaved over repeated runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reproducibility {
    /// Every run failed.
    Reproducible,
    /// Some runs failed and some passed: a failure that a single green run does not clear.
    Flaky,
    /// No run failed.
    Passed,
}

impl Reproducibility {
    /// The word in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Reproducibility::Reproducible => "reproducible",
            Reproducibility::Flaky => "flaky",
            Reproducibility::Passed => "passed",
        }
    }
}

/// One scenario and seed run `runs` times (`--repeat`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reproduction {
    pub scenario: String,
    pub seed: u64,
    /// Runs made.
    pub runs: u32,
    /// Runs with verdict `fail`.
    pub failed: u32,
    /// Runs with verdict `error` or `interrupted` (neither a pass nor a reproduction).
    pub errors: u32,
    /// `failed / runs`.
    pub rate: f64,
    /// Every anomaly class seen, with the number of runs that reported it.
    pub classes: BTreeMap<String, u32>,
    pub label: Reproducibility,
}

impl Reproduction {
    /// One entry per scenario and seed of `runs`, in first-run order.
    pub fn of(runs: &[RunReport]) -> Vec<Reproduction> {
        let mut out: Vec<Reproduction> = Vec::new();
        for r in runs {
            let i = match out
                .iter()
                .position(|x| x.scenario == r.scenario && x.seed == r.seed)
            {
                Some(i) => i,
                None => {
                    out.push(Reproduction {
                        scenario: r.scenario.clone(),
                        seed: r.seed,
                        runs: 0,
                        failed: 0,
                        errors: 0,
                        rate: 0.0,
                        classes: BTreeMap::new(),
                        label: Reproducibility::Passed,
                    });
                    out.len() - 1
                }
            };
            let x = &mut out[i];
            x.runs += 1;
            match r.verdict {
                Verdict::Fail => x.failed += 1,
                Verdict::Error | Verdict::Interrupted => x.errors += 1,
                Verdict::Pass => {}
            }
            for class in r.anomaly_classes() {
                *x.classes.entry(class).or_default() += 1;
            }
        }
        for x in &mut out {
            x.rate = f64::from(x.failed) / f64::from(x.runs.max(1));
            x.label = match (x.failed, x.runs) {
                (0, _) => Reproducibility::Passed,
                (f, n) if f == n => Reproducibility::Reproducible,
                _ => Reproducibility::Flaky,
            };
        }
        out
    }
}

/// `faultline hunt`: seeds tried in a range, and the first that failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hunt {
    pub scenario: String,
    /// The range asked for, inclusive: `[first, last]`.
    pub seeds: [u64; 2],
    /// Runs at the same time.
    pub parallel: u32,
    /// Each seed run, with its verdict, in seed order.
    pub tried: Vec<HuntedSeed>,
    /// The lowest seed that failed, if any.
    pub first_failing: Option<u64>,
}

/// One seed `hunt` ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HuntedSeed {
    pub seed: u64,
    pub verdict: Verdict,
    pub classes: Vec<String>,
    /// The failure bundle, when it failed.
    pub bundle: Option<String>,
}

/// `faultline shrink`: the search from a failing bundle to a smaller scenario that still fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShrinkLog {
    /// The bundle the search started from.
    pub bundle: String,
    /// The anomaly classes a candidate must reproduce (one of them).
    pub classes: Vec<String>,
    /// Runs per candidate, and how many must fail with one of `classes`.
    pub runs_per_candidate: u32,
    pub min_failures: u32,
    /// The time budget, seconds.
    pub budget_s: u64,
    pub before: ScenarioSize,
    pub after: ScenarioSize,
    /// Every candidate tried, in order.
    pub steps: Vec<ShrinkStep>,
    /// Why the search ended.
    pub stopped: ShrinkStop,
    /// The smallest failing scenario found, as a file.
    pub scenario_file: Option<String>,
    /// A failing run of it, as a bundle (`faultline repro` reruns it).
    pub shrunk_bundle: Option<String>,
}

/// How big a scenario is, in the dimensions shrinking cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioSize {
    pub faults: u32,
    pub events: u64,
    pub workers: u32,
    /// Record-fault groups switched on (duplicates, reordering, malformed, ...).
    pub record_fault_groups: u32,
}

/// One candidate of a shrink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShrinkStep {
    /// What the candidate removes or changes, e.g. "drop faults 5-8 of 8".
    pub change: String,
    /// Runs made (fewer than asked when the outcome was settled early).
    pub runs: u32,
    /// Runs that failed with one of the classes.
    pub reproduced: u32,
    /// Kept: the candidate became the new smallest case.
    pub accepted: bool,
    pub size: ScenarioSize,
    pub duration_ms: u64,
}

/// Why a shrink ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShrinkStop {
    /// No cut of the smallest case still fails: it is minimal for the cuts tried.
    Minimal,
    /// The next candidate would not end within the time budget; the smallest case so far is kept.
    Budget,
    /// The bundle's own case did not fail often enough to shrink.
    NotReproduced,
}

impl ShrinkStop {
    pub fn as_str(self) -> &'static str {
        match self {
            ShrinkStop::Minimal => "minimal",
            ShrinkStop::Budget => "budget",
            ShrinkStop::NotReproduced => "not_reproduced",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample_suite;

    #[test]
    fn repeated_runs_are_labelled_by_how_often_they_failed() {
        let suite = sample_suite();
        let failing = suite
            .runs
            .iter()
            .find(|r| r.verdict == Verdict::Fail)
            .expect("the sample has a failing run")
            .clone();
        let mut passing = failing.clone();
        passing.verdict = Verdict::Pass;
        passing.checks.iter_mut().for_each(|c| {
            c.status = CheckStatus::Pass;
            c.failing_rows.clear();
        });
        let classes = failing.anomaly_classes();
        assert!(!classes.is_empty(), "{:?}", failing.checks);

        let all = Reproduction::of(&[failing.clone(), failing.clone(), failing.clone()]);
        assert_eq!(all.len(), 1);
        assert_eq!(
            (all[0].runs, all[0].failed, all[0].label),
            (3, 3, Reproducibility::Reproducible)
        );
        assert_eq!(all[0].classes[&classes[0]], 3);

        let some = Reproduction::of(&[failing.clone(), passing.clone(), passing.clone()]);
        assert_eq!(some[0].label, Reproducibility::Flaky);
        assert!((some[0].rate - 1.0 / 3.0).abs() < 1e-12);
        let none = Reproduction::of(&[passing.clone(), passing]);
        assert_eq!(
            (none[0].failed, none[0].label),
            (0, Reproducibility::Passed)
        );
        assert!(none[0].classes.is_empty());

        let mut other_seed = failing.clone();
        other_seed.seed += 1;
        assert_eq!(Reproduction::of(&[failing, other_seed]).len(), 2);
    }

    #[test]
    fn a_failing_check_without_classes_counts_by_its_name() {
        let mut run = sample_suite().runs[0].clone();
        run.checks.truncate(1);
        run.checks[0].status = CheckStatus::Fail;
        run.checks[0].failing_rows.clear();
        assert_eq!(
            run.anomaly_classes(),
            vec![format!("check:{}", run.checks[0].name)]
        );
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;
    use crate::fixtures::sample_suite;

    fn step(change: &str, accepted: bool, faults: u32, events: u64) -> ShrinkStep {
        ShrinkStep {
            change: change.into(),
            runs: 3,
            reproduced: if accepted { 2 } else { 0 },
            accepted,
            size: ScenarioSize {
                faults,
                events,
                workers: 2,
                record_fault_groups: 0,
            },
            duration_ms: 41_000,
        }
    }

    #[test]
    fn the_html_and_summary_show_the_shrink_log_with_its_plot_and_links() {
        let mut suite = sample_suite();
        let before = step("the bundle as it is", true, 9, 14_000).size;
        suite.shrink = Some(ShrinkLog {
            bundle: "out/runs/smoke-2-102".into(),
            classes: vec!["lost".into()],
            runs_per_candidate: 3,
            min_failures: 2,
            budget_s: 600,
            before,
            after: step("", true, 1, 3_500).size,
            steps: vec![
                step("the bundle as it is", true, 9, 14_000),
                step("drop faults 1-4 of 9", true, 5, 14_000),
                step("drop faults 1-2 of 5", false, 3, 14_000),
                step("halve the events (14000 -> 7000)", true, 5, 7_000),
                step("drop fault 2 of 5 (kill_worker at 800 ms)", true, 1, 3_500),
            ],
            stopped: ShrinkStop::Budget,
            scenario_file: Some("out/shrunk.toml".into()),
            shrunk_bundle: Some("out/steps/04/runs/smoke-2-102".into()),
        });
        let html = crate::html::report_html(&suite);
        assert!(
            html.contains("<h3 style=\"margin-top:0\">Shrink: budget</h3>"),
            "{html}"
        );
        assert!(html.contains("faults 9 → <b>1</b>"));
        assert!(html.contains("<a href=\"out/shrunk.toml\">"));
        assert!(html.contains("<a href=\"out/steps/04/runs/smoke-2-102\">"));
        assert!(html.contains("drop faults 1-2 of 5"));
        // One point per kept step on each line of the plot.
        let faults_line = html.split("class=\"faults\" points=\"").nth(1).unwrap();
        let points = faults_line.split('"').next().unwrap().split(' ').count();
        assert_eq!(points, 4);
        let md = crate::markdown::summary_md(&suite);
        assert!(
            md.contains("- shrink (budget): faults 9 -> 1, events 14000 -> 3500, workers 2 -> 2, in 5 candidates; smallest case `out/shrunk.toml`"),
            "{md}"
        );
    }

    #[test]
    fn the_html_shows_reproduction_rates_and_the_hunt() {
        let mut suite = sample_suite();
        let runs = suite.runs.clone();
        suite.reproduction = Reproduction::of(&runs);
        suite.hunt = Some(Hunt {
            scenario: "broker-restart".into(),
            seeds: [40, 50],
            parallel: 1,
            tried: vec![HuntedSeed {
                seed: 42,
                verdict: Verdict::Fail,
                classes: vec!["lost".into()],
                bundle: Some("out/seeds/42/runs/broker-restart-42".into()),
            }],
            first_failing: Some(42),
        });
        let html = crate::html::report_html(&suite);
        assert!(html.contains("<h3 style=\"margin-top:0\">Reproduction</h3>"));
        assert!(
            html.contains("width:100%;background:var(--fail)"),
            "the failing run's bar"
        );
        assert!(html.contains("the first failing seed is <b>42</b>"));
        let md = crate::markdown::summary_md(&suite);
        assert!(
            md.contains("- hunt of seeds 40..50: 1 run, first failing seed **42**"),
            "{md}"
        );
    }
}
