//! `model_comparison_agrees`: the faulted run against the fault-free run of the same seed.

use std::collections::BTreeSet;

use faultline_models::Comparison;
use faultline_report::{CheckResult, CheckStatus};
use serde_json::Value;

use super::statistics::{problem_row, Landed, LiveComparison};

/// Largest difference between two stored scores of one transaction still counted as equal. The
/// same model on the same input gives the same bits; this only absorbs float formatting in a
/// pipeline that stores scores as text.
const SCORE_TOLERANCE: f64 = 1e-9;

/// The fault-free run's comparison, and the checks that run itself failed (if any, it is no reference).
#[derive(Debug, Clone)]
pub struct Baseline {
    pub live: LiveComparison,
    pub failed_checks: Vec<String>,
}

fn describe(l: Option<&Landed>) -> Value {
    match l {
        None => "no row".into(),
        Some(l) => {
            let challenger = match (l.challenger_score, &l.challenger_version) {
                (Some(s), Some(v)) => format!("{s:.9} ({v})"),
                (s, v) => format!("{s:?} ({})", v.as_deref().unwrap_or("no version")),
            };
            let copies = if l.copies > 1 {
                format!(", {} rows", l.copies)
            } else {
                String::new()
            };
            format!(
                "champion {:.9} ({}), challenger {challenger}{copies}",
                l.champion_score, l.champion_version
            )
            .into()
        }
    }
}

/// What differs between the same transaction's rows in two runs, or `None` when they agree.
fn difference(f: &Landed, b: &Landed) -> Option<String> {
    let close = |x: f64, y: f64| (x - y).abs() <= SCORE_TOLERANCE;
    let mut what = Vec::new();
    if f.copies != b.copies {
        what.push("row_count");
    }
    if f.champion_version != b.champion_version {
        what.push("champion_version");
    }
    if !close(f.champion_score, b.champion_score) {
        what.push("champion_score");
    }
    if f.challenger_version != b.challenger_version {
        what.push("challenger_version");
    }
    match (f.challenger_score, b.challenger_score) {
        (Some(x), Some(y)) if close(x, y) => {}
        (None, None) => {}
        _ => what.push("challenger_score"),
    }
    (!what.is_empty()).then(|| format!("{}_differs", what.join("+")))
}

/// `model_comparison_agrees`: the faulted run landed exactly what the fault-free run of the same
/// seed landed (same transactions, same rows, scores and versions), so the two comparisons are
/// equal. Fails naming every differing transaction, classified as a pipeline defect.
pub fn agreement(faulted: &LiveComparison, baseline: &Baseline) -> CheckResult {
    const NAME: &str = "model_comparison_agrees";
    let clean = &baseline.live;
    if !baseline.failed_checks.is_empty() {
        let detail = format!(
            "the fault-free baseline run itself failed {}, so it is no reference; see its logs in this run's baseline/logs",
            baseline.failed_checks.join(", ")
        );
        return CheckResult::from_rows(NAME, CheckStatus::Fail, detail, Vec::new());
    }
    let ids: BTreeSet<&String> = faulted.landed.keys().chain(clean.landed.keys()).collect();
    let (mut missing, mut extra, mut changed) = (0usize, 0usize, 0usize);
    let mut rows = Vec::new();
    for id in ids {
        let (f, b) = (faulted.landed.get(id), clean.landed.get(id));
        let problem = match (f, b) {
            (None, _) => {
                missing += 1;
                "missing_under_faults".to_string()
            }
            (Some(_), None) => {
                extra += 1;
                "extra_under_faults".to_string()
            }
            (Some(f), Some(b)) => match difference(f, b) {
                Some(p) => {
                    changed += 1;
                    p
                }
                None => continue,
            },
        };
        rows.push(problem_row(
            id,
            &problem,
            &[("under_faults", describe(f)), ("fault_free", describe(b))],
        ));
    }
    let verdict = |l: &LiveComparison| l.comparison.as_ref().map_or("none", |c| c.verdict.as_str());
    let same_comparison = match (&faulted.comparison, &clean.comparison) {
        (Some(f), Some(b)) => {
            *f == Comparison {
                dataset: f.dataset.clone(),
                ..b.clone()
            }
        }
        (None, None) => true,
        _ => false,
    };
    if rows.is_empty() && same_comparison {
        let detail = format!(
            "the comparison under faults equals the fault-free run's: {} transactions landed with identical scores and model versions; verdict {} in both",
            faulted.landed.len(),
            verdict(faulted)
        );
        return CheckResult::from_rows(NAME, CheckStatus::Pass, detail, rows);
    }
    if rows.is_empty() {
        rows.push(problem_row("-", "comparison_differs", &[]));
    }
    let detail = format!(
        "pipeline defect, not a model difference: {} transaction(s) landed differently under faults than in the fault-free run of the same seed ({missing} missing under faults, {extra} extra, {changed} stored differently); verdict {} under faults vs {} fault-free",
        missing + extra + changed,
        verdict(faulted),
        verdict(clean)
    );
    CheckResult::from_rows(NAME, CheckStatus::Fail, detail, rows)
}
