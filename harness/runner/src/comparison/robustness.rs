//! Robustness under faults: each model's change from the fault-free run to the faulted run of the
//! same seed on the transactions both compared (paired by id), split by whether the record was
//! sent inside a fault window; faultline-models measures it and judges the policy's
//! `[[robustness]]` gates, which may make the verdict keep. The check `model_robustness` reports it.

use std::collections::BTreeMap;

use faultline_models::robustness::{measure, Split};
use faultline_models::{MetricName, PairedRow, RowSet};
use faultline_report::{CheckResult, CheckStatus};

use super::exactly_once::Baseline;
use super::setup::CompareSetup;
use super::statistics::LiveComparison;

const NAME: &str = "model_robustness";

/// The pairs: every transaction both runs compared, with its label, whether its record was sent
/// inside a fault window (`in_fault_window`, by id) and whether this run scored it on fallback
/// features.
pub fn paired_rows(
    faulted: &LiveComparison,
    fault_free: &LiveComparison,
    in_fault_window: &BTreeMap<String, bool>,
) -> Vec<PairedRow> {
    let clean: BTreeMap<&String, usize> = fault_free
        .scored
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id, i))
        .collect();
    let (f, b) = (&faulted.scored, &fault_free.scored);
    f.ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let j = *clean.get(id)?;
            Some(PairedRow {
                label: f.labels[i],
                in_fault_window: in_fault_window.get(id).copied().unwrap_or(false),
                fallback: faulted.landed.get(id).is_some_and(|l| l.fallback),
                champion: [b.champion[j], f.champion[i]],
                challenger: [b.challenger[j], f.challenger[i]],
            })
        })
        .collect()
}

/// Measures the models' robustness against `baseline`, attaches it to `live`'s comparison (a
/// blocking gate makes the verdict keep) and returns `model_robustness`: passing with the figures
/// and every gate's outcome (the verdict is the models' matter, not the pipeline's), skipped when
/// there is nothing to pair.
pub fn attach_robustness(
    live: &mut LiveComparison,
    baseline: &Baseline,
    in_fault_window: &BTreeMap<String, bool>,
    setup: &CompareSetup,
) -> CheckResult {
    let skip = |why: String| CheckResult::from_rows(NAME, CheckStatus::Skip, why, Vec::new());
    if !baseline.failed_checks.is_empty() {
        return skip(format!(
            "the fault-free baseline run failed {}, so it is no reference",
            baseline.failed_checks.join(", ")
        ));
    }
    let rows = paired_rows(live, &baseline.live, in_fault_window);
    let (Some(comparison), false) = (live.comparison.take(), rows.is_empty()) else {
        return skip(
            "no transaction was compared in both the faulted and the fault-free run".into(),
        );
    };
    let fault_free = baseline
        .live
        .comparison
        .as_ref()
        .map_or_else(|| "the fault-free run".to_string(), |c| c.dataset.clone());
    let r = measure(
        &rows,
        [setup.champion.threshold, setup.challenger.threshold],
        &setup.policy,
        setup.seed,
        &fault_free,
    );
    let comparison = comparison.with_robustness(r);
    let r = comparison.robustness.as_ref().expect("just attached");
    let all = r.split(RowSet::All).expect("rows is not empty");
    let inside = r.split(RowSet::InFaultWindow).map_or(0, |s| s.n);
    let shown = r.split(RowSet::InFaultWindow).unwrap_or(all);
    let mut metrics: Vec<MetricName> = r.gates.iter().map(|g| g.gate.metric).collect();
    if metrics.is_empty() {
        metrics = vec![MetricName::Precision, MetricName::PrAuc];
    }
    metrics.dedup();
    let mut detail = format!(
        "{} transactions paired with the fault-free run, {inside} sent inside a fault window, {} scored on fallback features; on {}: {}",
        all.n,
        all.fallback,
        shown.rows.describe(),
        metrics
            .iter()
            .map(|m| figures(shown, *m))
            .collect::<Vec<_>>()
            .join("; ")
    );
    for g in &r.gates {
        detail.push_str(&format!("; {}", g.detail));
    }
    detail.push_str(&format!("; verdict {}", comparison.verdict.as_str()));
    live.comparison = Some(comparison);
    CheckResult::from_rows(NAME, CheckStatus::Pass, detail, Vec::new())
}

/// `precision: champion 0.4280 → 0.2000 (-0.2280 [-0.25, -0.20]), challenger ..., difference ...`
fn figures(s: &Split, m: MetricName) -> String {
    let change = |c: &faultline_models::robustness::Change| {
        format!(
            "{:.4} → {:.4} ({:+.4} [{:+.4}, {:+.4}])",
            c.fault_free, c.faulted, c.change, c.ci.low, c.ci.high
        )
    };
    let d = &s.difference[&m];
    format!(
        "{m} champion {}, challenger {}, challenger − champion {:+.4} [{:+.4}, {:+.4}]",
        change(&s.champion[&m]),
        change(&s.challenger[&m]),
        d.delta,
        d.ci.low,
        d.ci.high
    )
}
