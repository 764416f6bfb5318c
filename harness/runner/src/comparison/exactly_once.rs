//! `scores_stored_exactly_once`: the faulted run against the fault-free run of the same seed.

use std::collections::{BTreeMap, BTreeSet};

use faultline_models::Comparison;
use faultline_report::{CheckResult, CheckStatus};
use serde_json::Value;

use super::statistics::{problem_row, Landed, LiveComparison};

/// Largest difference between two stored scores of one transaction still counted as equal. The
/// same model on the same input gives the same bits; this only absorbs float formatting in a
/// pipeline that stores scores as text.
const SCORE_TOLERANCE: f64 = 1e-9;

/// What rows stored on fallback features must hold in the faulted run.
#[derive(Debug, Clone, Default)]
pub struct Fallback {
    /// Each fallback row's champion and challenger score on the default profile, by id.
    pub scores: BTreeMap<String, [f64; 2]>,
    /// Whether an enrichment fault was injected in the faulted run: without one, no row may
    /// have fallen back.
    pub enrichment_faults: bool,
}

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
            let fallback = if l.fallback {
                ", on fallback features"
            } else {
                ""
            };
            format!(
                "champion {:.9} ({}), challenger {challenger}{copies}{fallback}",
                l.champion_score, l.champion_version
            )
            .into()
        }
    }
}

fn close(x: f64, y: f64) -> bool {
    (x - y).abs() <= SCORE_TOLERANCE
}

/// What differs between a fallback row and the models' scores on the default profile (with the
/// fault-free row's copies and versions), or `None` when it holds exactly those.
fn fallback_difference(f: &Landed, b: &Landed, expected: Option<&[f64; 2]>) -> Option<String> {
    let Some(&[champion, challenger]) = expected else {
        return Some("fallback_not_a_workload_transaction".into());
    };
    let default_scored = Landed {
        champion_score: champion,
        challenger_score: b.challenger_score.map(|_| challenger),
        fallback: true,
        ..b.clone()
    };
    difference(f, &default_scored).map(|p| format!("fallback_{p}"))
}

/// What differs between the same transaction's rows in two runs, or `None` when they agree.
fn difference(f: &Landed, b: &Landed) -> Option<String> {
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

/// `scores_stored_exactly_once`: the faulted run stored every transaction once, with the scores
/// and versions the fault-free run of the same seed stored, so the two comparisons are equal. A
/// row the faulted run scored on fallback features (an enrichment outage with
/// `FAULTLINE_ENRICH_FALLBACK=default`) must instead hold exactly each model's score on the default
/// profile, and may only exist when an enrichment fault was injected; the fault-free run may have
/// none. Fails naming every differing transaction, classified as a pipeline defect.
pub fn scores_stored_exactly_once(
    faulted: &LiveComparison,
    baseline: &Baseline,
    fallback: &Fallback,
) -> CheckResult {
    const NAME: &str = "scores_stored_exactly_once";
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
            (Some(f), Some(b)) => {
                let problem = if b.fallback {
                    Some("fallback_in_fault_free_run".to_string())
                } else if f.fallback && !fallback.enrichment_faults {
                    Some("fallback_without_enrichment_fault".to_string())
                } else if f.fallback {
                    fallback_difference(f, b, fallback.scores.get(id))
                } else {
                    difference(f, b)
                };
                match problem {
                    Some(p) => {
                        changed += 1;
                        p
                    }
                    None => continue,
                }
            }
        };
        rows.push(problem_row(
            id,
            &problem,
            &[("under_faults", describe(f)), ("fault_free", describe(b))],
        ));
    }
    let verdict = |l: &LiveComparison| l.comparison.as_ref().map_or("none", |c| c.verdict.as_str());
    let on_fallback = faulted.landed.values().filter(|l| l.fallback).count();
    // Rows on fallback features legitimately change the comparison; without them it must be
    // the fault-free run's, whole.
    let same_comparison = on_fallback > 0
        || match (&faulted.comparison, &clean.comparison) {
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
        let detail = if on_fallback == 0 {
            format!(
                "the comparison under faults equals the fault-free run's: {} transactions landed once with identical scores and model versions; verdict {} in both",
                faulted.landed.len(),
                verdict(faulted)
            )
        } else {
            format!(
                "{} transactions landed once: {on_fallback} scored on fallback features during the enrichment outage, each holding exactly both models' scores on the default profile, and the other {} with the scores and model versions of the fault-free run; verdict {} under faults, {} fault-free",
                faulted.landed.len(),
                faulted.landed.len() - on_fallback,
                verdict(faulted),
                verdict(clean)
            )
        };
        return CheckResult::from_rows(NAME, CheckStatus::Pass, detail, rows);
    }
    if rows.is_empty() {
        rows.push(problem_row("-", "comparison_differs", &[]));
    }
    let detail = format!(
        "pipeline defect, not a model difference: {} transaction(s) not stored exactly once with the expected scores under faults, against the fault-free run of the same seed and the default-profile scores of rows on fallback features ({missing} missing under faults, {extra} extra, {changed} stored differently); verdict {} under faults vs {} fault-free",
        missing + extra + changed,
        verdict(faulted),
        verdict(clean)
    );
    CheckResult::from_rows(NAME, CheckStatus::Fail, detail, rows)
}
