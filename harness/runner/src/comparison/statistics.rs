//! What landed, joined with the labels, and the models compared over it with faultline-models'
//! own statistics; the `model_comparison` check.

use std::collections::BTreeMap;

use faultline_infra::PgConfig;
use faultline_models::{compare_scores, Comparison, ModelScores, RowScores};
use faultline_report::{CheckResult, CheckStatus, Row};
use faultline_workload::Workload;
use serde_json::{Map, Value};

use super::labels::expected_labels;
use super::setup::{CompareSetup, ModelInfo};
use crate::error::Result;

/// One transaction as the pipeline stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct Landed {
    pub champion_score: f64,
    pub champion_version: String,
    pub challenger_score: Option<f64>,
    pub challenger_version: Option<String>,
    /// Rows with this transaction id (1 unless the pipeline duplicated it).
    pub copies: u32,
    /// Scored on the default profile because enrichment was down (`enrichment_status =
    /// 'fallback'`, the ledger's `FAULTLINE_ENRICH_FALLBACK=default`).
    pub fallback: bool,
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
    /// The rows compared: each one's id, label and both scores (what `scores.csv` holds).
    pub scored: RowScores,
    /// Both models over the rows scored by both configured models; `None` when there are none.
    pub comparison: Option<Comparison>,
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
    let mut scored = RowScores {
        source: dataset.into(),
        ids: Vec::new(),
        labels: Vec::new(),
        champion: Vec::new(),
        challenger: Vec::new(),
    };
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
                scored.ids.push(id.clone());
                scored.labels.push(*label);
                scored.champion.push(row.champion_score);
                scored.challenger.push(c);
                None
            }
        };
        if let Some(why) = why {
            excluded.insert(id.clone(), why);
        }
    }
    let comparison = (!scored.is_empty()).then(|| {
        compare_scores(
            scores(&setup.champion, &scored.champion),
            scores(&setup.challenger, &scored.challenger),
            &scored.labels,
            dataset,
            &setup.policy,
            setup.seed,
        )
    });
    LiveComparison {
        landed,
        missing,
        excluded,
        scored,
        comparison,
    }
}

/// Reads `<schema>.transactions`, joins the workload's labels and compares the models.
pub async fn live_comparison(
    pg: &PgConfig,
    schema: &str,
    workload: &Workload,
    setup: &CompareSetup,
) -> Result<LiveComparison> {
    let client = pg.connect().await?;
    let sql = format!("SELECT transaction_id, champion_score, champion_version, challenger_score, challenger_version, enrichment_status = 'fallback' FROM {schema}.transactions");
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
                fallback: r.get(5),
            };
            (r.get::<_, String>(0), landed)
        })
        .collect();
    Ok(build(
        &expected_labels(workload),
        rows,
        setup,
        &format!("{schema}.transactions"),
    ))
}

pub(crate) fn problem_row(id: &str, problem: &str, fields: &[(&str, Value)]) -> Row {
    let mut m = Map::new();
    m.insert("transaction_id".into(), id.into());
    m.insert("problem".into(), problem.into());
    for (k, v) in fields {
        m.insert((*k).into(), v.clone());
    }
    m
}

/// `model_comparison`: the verdict (after any robustness gate) and headline deltas, or why the
/// comparison is incomplete. It passes when every valid transaction landed once, scored by both
/// configured models, whatever the verdict; otherwise it fails naming the transactions (a pipeline
/// defect).
pub fn comparison_check(live: &LiveComparison) -> CheckResult {
    let mut rows: Vec<Row> = live
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
        return CheckResult::from_rows("model_comparison", CheckStatus::Fail, "no transaction was scored by both configured models: nothing to compare (pipeline defect)".into(), rows);
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
        CheckResult::from_rows("model_comparison", CheckStatus::Pass, headline, rows)
    } else {
        let detail = format!(
            "pipeline defect: the comparison covers only {} valid transactions; {} missing, {} not scored once by both configured models. {headline}",
            c.n,
            live.missing.len(),
            live.excluded.len()
        );
        CheckResult::from_rows("model_comparison", CheckStatus::Fail, detail, rows)
    }
}
