//! Champion/challenger through the pipeline (`[compare]`): the workers score every transaction with
//! both model files; afterwards the harness reads the scores back from `transactions`, joins each
//! transaction's label, and compares the models with faultline-models' own statistics.
//!
//! Labels are the oracle's, never the pipeline's: each valid workload event goes through the
//! workload's reference validator, gets the profile the enrichment double serves for its account
//! ([`profile_of`]), and is labelled by `faultline_models::generate::true_label` (the documented
//! process in golden/data/README.md).
//!
//! With `baseline = true` the suite first runs the same scenario and seed without faults
//! ([`run_baseline`]); [`agreement`] then requires the faulted run to have landed the same rows
//! with the same scores and versions. Any difference is a pipeline defect: the models are the same
//! files and the inputs the same bytes, so only the pipeline can have changed what landed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use faultline_infra::PgConfig;
use faultline_models::features::{Channel, Kind, RiskTier};
use faultline_models::time::UtcTimestamp;
use faultline_models::{compare_scores, Comparison, ModelScores, Policy, TxnInput};
use faultline_report::{CheckResult, CheckStatus};
use faultline_scenario::Scenario;
use faultline_workload::{Expectation, ValidEvent, Workload};
use serde_json::{Map, Value};

use crate::checks::MAX_ROWS;
use crate::enrichment::profile_of;
use crate::error::{Result, RunnerError};
use crate::run::{run, RunInput};
use crate::setup::Infra;

/// Where a run's comparison outputs go, under its run directory; the baseline's in `baseline/`.
pub const DIR: &str = "compare";

/// Largest difference between two stored scores of one transaction still counted as equal. The
/// same model on the same input gives the same bits; this only absorbs float formatting in a
/// pipeline that stores scores as text.
pub const SCORE_TOLERANCE: f64 = 1e-9;

/// What the comparison needs to know about one model file.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub version: String,
    pub format: String,
    pub threshold: f64,
}

/// A `[compare]` block made ready to use: both models' versions and thresholds, the policy, the
/// bootstrap seed.
#[derive(Debug, Clone)]
pub struct CompareSetup {
    pub champion: ModelInfo,
    pub challenger: ModelInfo,
    pub policy: Policy,
    pub seed: u64,
}

impl CompareSetup {
    /// Loads the model files and policy of a scenario whose paths are resolved
    /// ([`Scenario::resolve_paths`]); `None` without a `[compare]` block. Errors name the file.
    pub fn load(s: &Scenario, run_seed: u64) -> Result<Option<Self>> {
        let Some(section) = &s.compare else {
            return Ok(None);
        };
        let info = |role: &str, path: &Option<String>| -> Result<ModelInfo> {
            let path = path.as_deref().ok_or_else(|| {
                RunnerError::Usage(format!("[compare] needs pipeline.{role}, a model file"))
            })?;
            let m = faultline_models::load_model(path)?;
            Ok(ModelInfo {
                version: m.version().to_string(),
                format: m.format().to_string(),
                threshold: m.threshold(),
            })
        };
        Ok(Some(Self {
            champion: info("champion", &s.pipeline.champion)?,
            challenger: info("challenger", &s.pipeline.challenger)?,
            policy: match &section.policy {
                Some(p) => Policy::load(p)?,
                None => Policy::all_metrics(),
            },
            seed: section.seed.unwrap_or(run_seed),
        }))
    }
}

/// One transaction as the pipeline stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct Landed {
    pub champion_score: f64,
    pub champion_version: String,
    pub challenger_score: Option<f64>,
    pub challenger_version: Option<String>,
    /// Rows with this transaction id (1 unless the pipeline duplicated it).
    pub copies: u32,
}

/// The live comparison of one run.
#[derive(Debug, Clone)]
pub struct LiveComparison {
    /// Every `transactions` row by transaction id (the first read when an id repeats).
    pub landed: BTreeMap<String, Landed>,
    /// Valid workload transactions with no row.
    pub missing: Vec<String>,
    /// Rows kept out of the comparison, with why.
    pub excluded: BTreeMap<String, String>,
    /// Both models over the rows scored by both configured models; `None` when there are none.
    pub comparison: Option<Comparison>,
}

/// The fault-free run's comparison, and the checks that run itself failed (if any, it is no reference).
#[derive(Debug, Clone)]
pub struct Baseline {
    pub live: LiveComparison,
    pub failed_checks: Vec<String>,
}

/// The feature inputs of a valid workload event, with the profile the enrichment double serves.
pub fn txn_input(e: &ValidEvent) -> TxnInput {
    let p = profile_of(&e.account_id);
    TxnInput {
        kind: match e.kind {
            faultline_workload::Kind::Credit => Kind::Credit,
            faultline_workload::Kind::Debit => Kind::Debit,
        },
        amount_cents: e.amount_cents,
        created_at: UtcTimestamp::from_unix(e.created_at.unix_timestamp()),
        channel: e.channel.map(|c| match c {
            faultline_workload::Channel::Web => Channel::Web,
            faultline_workload::Channel::Pos => Channel::Pos,
            faultline_workload::Channel::Atm => Channel::Atm,
        }),
        account_age_days: p.account_age_days,
        risk_tier: p.risk_tier.parse().unwrap_or(RiskTier::Low),
    }
}

/// The documented label of every valid transaction of the workload, by transaction id.
pub fn expected_labels(workload: &Workload) -> BTreeMap<String, bool> {
    workload
        .records
        .iter()
        .filter(|r| matches!(r.expect, Expectation::Valid { .. }))
        .map(|r| {
            let e = faultline_workload::validate(&r.value)
                .expect("a record the workload expects to be valid passes its reference validator");
            let label = faultline_models::generate::true_label(&e.transaction_id, &txn_input(&e));
            (e.transaction_id, label)
        })
        .collect()
}

/// Joins what landed with the labels and compares the models over the rows both configured models
/// scored. Pure: `rows` are `(transaction_id, row)` as read, in any order; `dataset` names the
/// source in the comparison.
pub fn build(
    labels: &BTreeMap<String, bool>,
    rows: Vec<(String, Landed)>,
    setup: &CompareSetup,
    dataset: &str,
) -> LiveComparison {
    fn scores<'a>(m: &'a ModelInfo, scores: &'a [f64]) -> ModelScores<'a> {
        ModelScores {
            version: &m.version,
            format: &m.format,
            threshold: m.threshold,
            scores,
        }
    }
    let mut landed: BTreeMap<String, Landed> = BTreeMap::new();
    for (id, row) in rows {
        match landed.get_mut(&id) {
            Some(first) => first.copies += 1,
            None => {
                landed.insert(id, Landed { copies: 1, ..row });
            }
        }
    }
    let missing = labels
        .keys()
        .filter(|id| !landed.contains_key(*id))
        .cloned()
        .collect();
    let mut excluded = BTreeMap::new();
    let (mut y, mut a, mut b) = (Vec::new(), Vec::new(), Vec::new());
    for (id, row) in &landed {
        let why = match (labels.get(id), row.challenger_score) {
            (None, _) => Some("not a valid transaction of the workload".to_string()),
            _ if row.copies > 1 => Some(format!("stored {} times", row.copies)),
            (_, None) => Some("no challenger score".to_string()),
            _ if row.champion_version != setup.champion.version => Some(format!(
                "champion version `{}`, configured `{}`",
                row.champion_version, setup.champion.version
            )),
            _ if row.challenger_version.as_deref() != Some(setup.challenger.version.as_str()) => {
                Some(format!(
                    "challenger version `{}`, configured `{}`",
                    row.challenger_version.as_deref().unwrap_or("none"),
                    setup.challenger.version
                ))
            }
            (Some(_), Some(c))
                if !(0.0..=1.0).contains(&row.champion_score) || !(0.0..=1.0).contains(&c) =>
            {
                Some("a score outside [0, 1]".to_string())
            }
            (Some(label), Some(c)) => {
                y.push(*label);
                a.push(row.champion_score);
                b.push(c);
                None
            }
        };
        if let Some(why) = why {
            excluded.insert(id.clone(), why);
        }
    }
    let comparison = (!y.is_empty()).then(|| {
        compare_scores(
            scores(&setup.champion, &a),
            scores(&setup.challenger, &b),
            &y,
            dataset,
            &setup.policy,
            setup.seed,
        )
    });
    LiveComparison {
        landed,
        missing,
        excluded,
        comparison,
    }
}

/// Reads `<schema>.transactions`, joins the workload's labels and compares the models. The check,
/// `model_comparison`, passes with the verdict when every valid transaction landed once, scored by
/// both configured models; otherwise it fails naming the transactions (a pipeline defect).
pub async fn live_comparison(
    pg: &PgConfig,
    schema: &str,
    workload: &Workload,
    setup: &CompareSetup,
) -> Result<(LiveComparison, CheckResult)> {
    let client = pg.connect().await?;
    let sql = format!("SELECT transaction_id, champion_score, champion_version, challenger_score, challenger_version FROM {schema}.transactions");
    let rows = client
        .query(&sql, &[])
        .await?
        .into_iter()
        .map(|r| {
            let landed = Landed {
                champion_score: r.get(1),
                champion_version: r.get(2),
                challenger_score: r.get(3),
                challenger_version: r.get(4),
                copies: 1,
            };
            (r.get::<_, String>(0), landed)
        })
        .collect();
    let live = build(
        &expected_labels(workload),
        rows,
        setup,
        &format!("{schema}.transactions"),
    );
    let check = comparison_check(&live);
    Ok((live, check))
}

fn check(
    name: &str,
    status: CheckStatus,
    detail: String,
    rows: Vec<Map<String, Value>>,
) -> CheckResult {
    let failing_total = rows.len() as u64;
    CheckResult {
        name: name.into(),
        status,
        detail,
        failing_rows: rows.into_iter().take(MAX_ROWS).collect(),
        failing_total,
    }
}

fn problem_row(id: &str, problem: &str, fields: &[(&str, Value)]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("transaction_id".into(), id.into());
    m.insert("problem".into(), problem.into());
    for (k, v) in fields {
        m.insert((*k).into(), v.clone());
    }
    m
}

/// `model_comparison`: the verdict and headline deltas, or why the comparison is incomplete.
pub fn comparison_check(live: &LiveComparison) -> CheckResult {
    let mut rows: Vec<Map<String, Value>> = live
        .missing
        .iter()
        .map(|id| problem_row(id, "missing", &[]))
        .collect();
    rows.extend(
        live.excluded
            .iter()
            .map(|(id, why)| problem_row(id, "excluded", &[("why", why.as_str().into())])),
    );
    let Some(c) = &live.comparison else {
        return check("model_comparison", CheckStatus::Fail, "no transaction was scored by both configured models: nothing to compare (pipeline defect)".into(), rows);
    };
    let headline = format!(
        "{} transactions ({} labelled fraud), champion `{}` vs challenger `{}`: verdict {}; {}",
        c.n,
        c.positives,
        c.champion.version,
        c.challenger.version,
        c.verdict.as_str(),
        c.deltas
            .iter()
            .map(|(m, d)| format!("{m} {:+.3} [{:+.3}, {:+.3}]", d.delta, d.ci.low, d.ci.high))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if rows.is_empty() {
        check("model_comparison", CheckStatus::Pass, headline, rows)
    } else {
        let detail = format!(
            "pipeline defect: the comparison covers only {} valid transactions; {} missing, {} not scored once by both configured models. {headline}",
            c.n,
            live.missing.len(),
            live.excluded.len()
        );
        check("model_comparison", CheckStatus::Fail, detail, rows)
    }
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
        return check(NAME, CheckStatus::Fail, detail, Vec::new());
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
        return check(NAME, CheckStatus::Pass, detail, rows);
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
    check(NAME, CheckStatus::Fail, detail, rows)
}

/// For `[compare] baseline = true`: runs the scenario's fault-free twin
/// ([`Scenario::fault_free_baseline`]) with the same seed and workload on the same stack, and
/// keeps its comparison. Its logs go to `<run_dir>/baseline/logs`, removed when it passed.
/// `Ok(None)` when the scenario asks for no baseline.
pub async fn run_baseline(
    infra: &Infra,
    scenario: &Scenario,
    seed: u64,
    defect: Option<String>,
    workload: &Workload,
    run_dir: &Path,
    progress: bool,
) -> Result<Option<Baseline>> {
    let Some(clean) = scenario.fault_free_baseline() else {
        return Ok(None);
    };
    eprintln!(
        "  fault-free baseline of {} seed {seed} for [compare]",
        scenario.name
    );
    let log_dir = run_dir.join("baseline").join("logs");
    let input = RunInput {
        scenario: &clean,
        seed,
        defect,
        workload,
        plan: &[],
        log_dir: log_dir.clone(),
        progress,
        baseline: None,
    };
    let limit = Duration::from_secs(clean.time_limit_s + 120);
    let outcome = match tokio::time::timeout(limit, run(infra, &input)).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return Err(RunnerError::Baseline(Box::new(e))),
        Err(_) => {
            let e = RunnerError::TimeLimit {
                limit_s: clean.time_limit_s,
                during: "running the fault-free baseline".into(),
            };
            return Err(RunnerError::Baseline(Box::new(e)));
        }
    };
    let failed_checks: Vec<String> = outcome
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| c.name.clone())
        .collect();
    if failed_checks.is_empty() {
        let _ = std::fs::remove_dir_all(&log_dir);
    }
    let live = outcome.comparison.ok_or_else(|| {
        RunnerError::Usage(
            "the fault-free baseline made no comparison; it needs a [compare] block".into(),
        )
    })?;
    Ok(Some(Baseline {
        live,
        failed_checks,
    }))
}

/// Writes faultline-models' `comparison.json`, `summary.md` and `report.html` for the run into
/// `dir`, and the baseline's into `dir/baseline`.
pub fn write_outputs(live: &LiveComparison, baseline: Option<&Baseline>, dir: &Path) -> Result<()> {
    if let Some(c) = &live.comparison {
        faultline_models::write_outputs(c, dir)?;
    }
    if let Some(c) = baseline.and_then(|b| b.live.comparison.as_ref()) {
        faultline_models::write_outputs(c, dir.join("baseline"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> CompareSetup {
        let info = |v: &str| ModelInfo {
            version: v.into(),
            format: "scorecard".into(),
            threshold: 0.5,
        };
        CompareSetup {
            champion: info("champ-1"),
            challenger: info("chall-2"),
            policy: Policy {
                min_samples: 1,
                resamples: 50,
                ..Policy::all_metrics()
            },
            seed: 7,
        }
    }

    fn workload(seed: u64) -> Workload {
        let spec: faultline_workload::WorkloadSpec =
            serde_json::from_value(serde_json::json!({"seed": seed, "events": 400, "duplicate_ratio": 0.05, "malformed_ratio": 0.05})).unwrap();
        faultline_workload::generate(&spec).unwrap()
    }

    /// What a correct pipeline would store: a deterministic stand-in score per transaction.
    fn rows_for(labels: &BTreeMap<String, bool>) -> Vec<(String, Landed)> {
        labels
            .keys()
            .enumerate()
            .map(|(i, id)| {
                let s = (i * 37 % 100) as f64 / 100.0;
                let row = Landed {
                    champion_score: s,
                    champion_version: "champ-1".into(),
                    challenger_score: Some(1.0 - s),
                    challenger_version: Some("chall-2".into()),
                    copies: 1,
                };
                (id.clone(), row)
            })
            .collect()
    }

    fn baseline(live: LiveComparison) -> Baseline {
        Baseline {
            live,
            failed_checks: Vec::new(),
        }
    }

    fn ids_in(c: &CheckResult) -> Vec<(String, String)> {
        c.failing_rows
            .iter()
            .map(|r| {
                (
                    r["transaction_id"].as_str().unwrap().to_string(),
                    r["problem"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn labels_are_deterministic_per_transaction_and_cover_every_valid_event() {
        let w = workload(3);
        let labels = expected_labels(&w);
        assert_eq!(labels, expected_labels(&workload(3)));
        assert_eq!(labels.len() as u64, w.counts().valid);
        let positives = labels.values().filter(|&&l| l).count();
        assert!(
            positives > 0 && positives < labels.len(),
            "{positives} of {}",
            labels.len()
        );
        // A label is a function of its transaction alone: the same events in another workload
        // (here: with more malformed records mixed in) keep their labels.
        let spec: faultline_workload::WorkloadSpec =
            serde_json::from_value(serde_json::json!({"seed": 3, "events": 400, "duplicate_ratio": 0.05, "malformed_ratio": 0.2})).unwrap();
        assert_eq!(
            expected_labels(&faultline_workload::generate(&spec).unwrap()),
            labels
        );
    }

    #[test]
    fn identical_runs_agree() {
        let labels = expected_labels(&workload(5));
        let a = build(&labels, rows_for(&labels), &setup(), "a.transactions");
        let b = build(&labels, rows_for(&labels), &setup(), "b.transactions");
        assert!(a.missing.is_empty() && a.excluded.is_empty());
        assert_eq!(comparison_check(&a).status, CheckStatus::Pass);
        let c = agreement(&a, &baseline(b));
        assert_eq!(c.status, CheckStatus::Pass, "{}", c.detail);
        assert!(
            c.detail.contains(&format!("{} transactions", labels.len())),
            "{}",
            c.detail
        );
    }

    #[test]
    fn a_row_missing_under_faults_fails_naming_it() {
        let labels = expected_labels(&workload(5));
        let clean = build(&labels, rows_for(&labels), &setup(), "b");
        let mut rows = rows_for(&labels);
        let (lost, _) = rows.remove(10);
        let faulted = build(&labels, rows, &setup(), "a");
        assert_eq!(faulted.missing, vec![lost.clone()]);
        assert_eq!(comparison_check(&faulted).status, CheckStatus::Fail);
        let c = agreement(&faulted, &baseline(clean));
        assert_eq!(c.status, CheckStatus::Fail);
        assert_eq!(ids_in(&c), vec![(lost, "missing_under_faults".to_string())]);
        assert!(
            c.detail
                .starts_with("pipeline defect, not a model difference: 1 transaction(s)")
                && c.detail.contains("1 missing under faults"),
            "{}",
            c.detail
        );
    }

    #[test]
    fn a_differently_scored_row_fails_naming_it_and_what_differs() {
        let labels = expected_labels(&workload(5));
        let clean = build(&labels, rows_for(&labels), &setup(), "b");
        let mut rows = rows_for(&labels);
        rows[3].1.challenger_score = Some(0.999);
        let changed = rows[3].0.clone();
        let faulted = build(&labels, rows, &setup(), "a");
        assert!(
            faulted.missing.is_empty() && faulted.excluded.is_empty(),
            "same model versions, so the row still counts"
        );
        let c = agreement(&faulted, &baseline(clean));
        assert_eq!(c.status, CheckStatus::Fail);
        assert_eq!(
            ids_in(&c),
            vec![(changed, "challenger_score_differs".to_string())]
        );
        assert!(
            c.failing_rows[0]["under_faults"]
                .as_str()
                .unwrap()
                .contains("0.999"),
            "{:?}",
            c.failing_rows[0]
        );
        assert!(c.detail.contains("1 stored differently"), "{}", c.detail);
    }

    #[test]
    fn duplicated_wrong_version_and_unknown_rows_are_excluded_with_why() {
        let labels = expected_labels(&workload(5));
        let mut rows = rows_for(&labels);
        rows.push(rows[0].clone());
        rows[1].1.champion_version = "builtin-champion-1".into();
        rows[2].1.challenger_score = None;
        rows.push(("not-in-the-workload".into(), rows[4].1.clone()));
        let live = build(&labels, rows, &setup(), "a");
        let why: Vec<&str> = live.excluded.values().map(String::as_str).collect();
        assert_eq!(live.excluded.len(), 4, "{why:?}");
        assert!(
            why.contains(&"stored 2 times")
                && why.contains(&"no challenger score")
                && why.contains(&"not a valid transaction of the workload"),
            "{why:?}"
        );
        assert!(
            why.iter()
                .any(|w| w.contains("champion version `builtin-champion-1`, configured `champ-1`")),
            "{why:?}"
        );
        assert_eq!(live.comparison.as_ref().unwrap().n, labels.len() - 3);
        let c = comparison_check(&live);
        assert_eq!((c.status, c.failing_total), (CheckStatus::Fail, 4));
    }

    #[test]
    fn the_mixed_scenario_compares_the_golden_models_on_enough_rows_for_its_policy() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/mixed.toml");
        let mut s = faultline_scenario::load::load(&path).unwrap();
        s.resolve_paths(path.parent().unwrap());
        let setup = CompareSetup::load(&s, s.workload.seed).unwrap().unwrap();
        assert_eq!(
            (
                setup.champion.version.as_str(),
                setup.challenger.version.as_str()
            ),
            ("2023-11-champion", "2024-06-challenger-onnx")
        );
        // What a correct pipeline stores, computed here from the model files directly: the live
        // comparison of `mixed` has enough rows for the policy, so its verdict is about the models.
        let mut spec = s.workload.clone();
        spec.partitions = s.infra.partitions;
        let w = faultline_workload::generate(&spec).unwrap();
        let labels = expected_labels(&w);
        let models = [
            s.pipeline.champion.as_deref().unwrap(),
            s.pipeline.challenger.as_deref().unwrap(),
        ]
        .map(|p| faultline_models::load_model(p).unwrap());
        let inputs: BTreeMap<String, TxnInput> = w
            .records
            .iter()
            .filter(|r| matches!(r.expect, Expectation::Valid { .. }))
            .map(|r| faultline_workload::validate(&r.value).unwrap())
            .map(|e| (e.transaction_id.clone(), txn_input(&e)))
            .collect();
        let rows = inputs
            .iter()
            .map(|(id, input)| {
                let f = faultline_models::Features::from_event(input);
                let [a, b] = [0, 1].map(|i| models[i].score(&f).unwrap());
                let row = Landed {
                    champion_score: a,
                    champion_version: models[0].version().into(),
                    challenger_score: Some(b),
                    challenger_version: Some(models[1].version().into()),
                    copies: 1,
                };
                (id.clone(), row)
            })
            .collect();
        let live = build(&labels, rows, &setup, "offline");
        let c = live.comparison.as_ref().unwrap();
        assert!(
            c.n >= setup.policy.min_samples && c.positives > 100,
            "n {} positives {}",
            c.n,
            c.positives
        );
        assert_eq!(comparison_check(&live).status, CheckStatus::Pass);
    }

    #[test]
    fn a_failed_baseline_is_no_reference() {
        let labels = expected_labels(&workload(5));
        let live = build(&labels, rows_for(&labels), &setup(), "a");
        let b = Baseline {
            live: live.clone(),
            failed_checks: vec!["no_loss".into()],
        };
        let c = agreement(&live, &b);
        assert_eq!(c.status, CheckStatus::Fail);
        assert!(
            c.detail.contains("baseline run itself failed no_loss"),
            "{}",
            c.detail
        );
    }
}
