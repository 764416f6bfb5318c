//! The champion/challenger comparison: score both models on one labelled dataset, measure both,
//! bootstrap the deltas, run McNemar's test and apply the policy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bootstrap::{paired_bootstrap, Interval, Scored};
use crate::dataset::Dataset;
use crate::error::{ModelError, Result};
use crate::mcnemar::McNemar;
use crate::metrics::{Confusion, Evaluation, MetricName, Metrics, PrPoint};
use crate::model::Model;
use crate::policy::{GateOutcome, Policy, Verdict};
use crate::rng::{seeded, stream};
use crate::robustness::Robustness;
use crate::scores::RowScores;

/// Points kept per precision–recall curve for the report.
pub const PR_CURVE_POINTS: usize = 200;

/// Exit code when the challenger should be promoted.
pub const EXIT_PROMOTE: i32 = 0;
/// Exit code for keep and inconclusive verdicts.
pub const EXIT_NOT_PROMOTED: i32 = 1;
/// Exit code when a model, dataset or policy is invalid (or an output cannot be written).
pub const EXIT_INVALID_INPUT: i32 = 2;

impl Verdict {
    /// `promote` → 0, `keep` and `inconclusive` → 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            Verdict::Promote => EXIT_PROMOTE,
            Verdict::Keep | Verdict::Inconclusive => EXIT_NOT_PROMOTED,
        }
    }
}

/// The process exit code for a comparison outcome: the verdict's, or 2 for any error.
pub fn exit_code<T: std::borrow::Borrow<Comparison>>(outcome: &Result<T>) -> i32 {
    match outcome {
        Ok(c) => c.borrow().verdict.exit_code(),
        Err(_) => EXIT_INVALID_INPUT,
    }
}

/// One model's scores plus what the report says about it.
#[derive(Debug, Clone, Copy)]
pub struct ModelScores<'a> {
    /// Version label.
    pub version: &'a str,
    /// `scorecard`, `onnx`, `http` or anything else descriptive.
    pub format: &'a str,
    /// Decision threshold.
    pub threshold: f64,
    /// One score in `[0, 1]` per dataset row.
    pub scores: &'a [f64],
}

/// Everything measured for one of the two models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelResult {
    /// Version label.
    pub version: String,
    /// Model format.
    pub format: String,
    /// Decision threshold.
    pub threshold: f64,
    /// Confusion matrix at the threshold.
    pub confusion: Confusion,
    /// Point metrics.
    pub metrics: Metrics,
    /// Precision–recall curve, thinned to [`PR_CURVE_POINTS`] (kept out of `comparison.json`).
    #[serde(skip_serializing, default)]
    pub pr_curve: Vec<PrPoint>,
}

/// One metric on both models and the interval of their difference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// Champion's value.
    pub champion: f64,
    /// Challenger's value.
    pub challenger: f64,
    /// challenger − champion.
    pub delta: f64,
    /// Paired bootstrap percentile interval of `delta`.
    pub ci: Interval,
}

/// The full result of a comparison; `comparison.json` is this, serialised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The decision.
    pub verdict: Verdict,
    /// Why, one sentence per reason.
    pub reasons: Vec<String>,
    /// Rows compared.
    pub n: usize,
    /// Rows labelled fraud.
    pub positives: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// Dataset the rows came from.
    pub dataset: String,
    /// The incumbent model.
    pub champion: ModelResult,
    /// The candidate model.
    pub challenger: ModelResult,
    /// Every metric's delta with its interval, in metric order.
    pub deltas: BTreeMap<MetricName, Delta>,
    /// McNemar's exact test on the discordant rows.
    pub mcnemar: McNemar,
    /// Each gate's outcome, in policy order.
    pub gates: Vec<GateOutcome>,
    /// The policy applied.
    pub policy: Policy,
    /// Live comparisons with a fault-free baseline: both models' change under faults and the
    /// `[[robustness]]` gates ([`Comparison::with_robustness`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robustness: Option<Robustness>,
}

impl Comparison {
    /// This comparison with `r` attached. A blocking robustness gate makes the verdict **keep**,
    /// its reason first, unless the data minimums already made it inconclusive.
    pub fn with_robustness(mut self, r: Robustness) -> Self {
        let blocking: Vec<String> = r.blocking().map(|g| g.detail.clone()).collect();
        let decided =
            self.verdict == Verdict::Keep || self.policy.has_enough_data(self.n, self.positives);
        if !blocking.is_empty() && decided {
            let before = self.verdict;
            let mut reasons = blocking;
            if before == Verdict::Keep {
                reasons.append(&mut self.reasons);
            } else {
                reasons.push(format!(
                    "without the robustness gates the verdict would be {}",
                    before.as_str()
                ));
            }
            self.verdict = Verdict::Keep;
            self.reasons = reasons;
        }
        self.robustness = Some(r);
        self
    }
}

/// Scores `dataset` with both models and compares them under `policy`, resampling with `seed`.
///
/// Errors when a model needs a feature the dataset lacks, a model fails, or a score is not a
/// finite number in `[0, 1]`. HTTP models block: from async code, call this in `spawn_blocking`.
pub fn compare(
    champion: &dyn Model,
    challenger: &dyn Model,
    dataset: &Dataset,
    policy: &Policy,
    seed: u64,
) -> Result<Comparison> {
    let rows = score_dataset(champion, challenger, dataset)?;
    Ok(compare_scored(champion, challenger, &rows, policy, seed))
}

/// Both models' score for every row of `dataset`, with the rows' ids and labels: what
/// `scores.csv` holds. Errors as [`compare`] does.
pub fn score_dataset(
    champion: &dyn Model,
    challenger: &dyn Model,
    dataset: &Dataset,
) -> Result<RowScores> {
    if dataset.is_empty() {
        return Err(ModelError::Dataset {
            path: dataset.source().to_path_buf(),
            problem: "has no rows".into(),
        });
    }
    Ok(RowScores {
        source: dataset.source().to_path_buf(),
        ids: dataset.ids().to_vec(),
        labels: dataset.labels().to_vec(),
        champion: score_all("champion", champion, dataset)?,
        challenger: score_all("challenger", challenger, dataset)?,
    })
}

/// The comparison of two models' precomputed `rows` (see [`score_dataset`]).
///
/// # Panics
/// If `rows` is empty.
pub fn compare_scored(
    champion: &dyn Model,
    challenger: &dyn Model,
    rows: &RowScores,
    policy: &Policy,
    seed: u64,
) -> Comparison {
    compare_scores(
        describe(champion, &rows.champion),
        describe(challenger, &rows.challenger),
        &rows.labels,
        &rows.source.display().to_string(),
        policy,
        seed,
    )
}

fn describe<'a>(m: &'a dyn Model, scores: &'a [f64]) -> ModelScores<'a> {
    ModelScores {
        version: m.version(),
        format: m.format(),
        threshold: m.threshold(),
        scores,
    }
}

/// Scores every row, checking features first and every score after.
fn score_all(role: &str, model: &dyn Model, dataset: &Dataset) -> Result<Vec<f64>> {
    if let Err(missing) = dataset.features().columns_of(model.feature_names()) {
        return Err(ModelError::FeatureMismatch {
            role: role.into(),
            version: model.version().into(),
            dataset: dataset.source().to_path_buf(),
            missing,
            available: dataset.features().names().to_vec(),
        });
    }
    let scores = model.score_matrix(dataset.features())?;
    let err = |row, problem: String| ModelError::Score {
        role: role.into(),
        version: model.version().into(),
        row,
        problem,
    };
    if scores.len() != dataset.len() {
        return Err(err(
            scores.len().min(dataset.len()),
            format!(
                "returned {} scores for {} rows",
                scores.len(),
                dataset.len()
            ),
        ));
    }
    if let Some((row, s)) = scores
        .iter()
        .enumerate()
        .find(|(_, s)| !(0.0..=1.0).contains(*s))
    {
        return Err(err(row, format!("score {s} is not a number in [0, 1]")));
    }
    Ok(scores)
}

/// The comparison of two precomputed score vectors against `labels`: the part of [`compare`] that
/// does not touch models. Use it to benchmark metric and bootstrap throughput on large inputs.
///
/// # Panics
/// If the score vectors and labels differ in length, or are empty.
pub fn compare_scores(
    champion: ModelScores<'_>,
    challenger: ModelScores<'_>,
    labels: &[bool],
    dataset: &str,
    policy: &Policy,
    seed: u64,
) -> Comparison {
    assert!(!labels.is_empty(), "compare_scores needs at least one row");
    assert_eq!(
        champion.scores.len(),
        labels.len(),
        "champion scores and labels differ in length"
    );
    assert_eq!(
        challenger.scores.len(),
        labels.len(),
        "challenger scores and labels differ in length"
    );
    let a = Scored::new(champion.scores, champion.threshold);
    let b = Scored::new(challenger.scores, challenger.threshold);
    let result = |m: &ModelScores<'_>, s: &Scored<'_>| {
        let ranking = s.ranking();
        let Evaluation { confusion, metrics } =
            crate::metrics::evaluate_weighted(labels, m.scores, s.predicted(), ranking, |_| 1);
        ModelResult {
            version: m.version.to_string(),
            format: m.format.to_string(),
            threshold: m.threshold,
            confusion,
            metrics,
            pr_curve: ranking.pr_curve(m.scores, labels, PR_CURVE_POINTS),
        }
    };
    let champion_result = result(&champion, &a);
    let challenger_result = result(&challenger, &b);
    let mut rng = seeded(seed, stream::BOOTSTRAP);
    let intervals = paired_bootstrap(
        labels,
        &a,
        &b,
        policy.bootstrap,
        policy.resamples,
        policy.confidence,
        &mut rng,
    );
    let deltas: BTreeMap<MetricName, Delta> = intervals
        .iter()
        .map(|(&m, &ci)| {
            let (x, y) = (
                champion_result.metrics.get(m),
                challenger_result.metrics.get(m),
            );
            (
                m,
                Delta {
                    champion: x,
                    challenger: y,
                    delta: y - x,
                    ci,
                },
            )
        })
        .collect();
    let judgement = policy.judge(
        labels.len(),
        labels.iter().filter(|&&l| l).count(),
        &champion_result.metrics,
        &challenger_result.metrics,
        &intervals,
    );
    Comparison {
        verdict: judgement.verdict,
        reasons: judgement.reasons,
        n: labels.len(),
        positives: labels.iter().filter(|&&l| l).count(),
        seed,
        dataset: dataset.to_string(),
        mcnemar: McNemar::from_predictions(labels, a.predicted(), b.predicted()),
        champion: champion_result,
        challenger: challenger_result,
        deltas,
        gates: judgement.gates,
        policy: policy.clone(),
        robustness: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Scorecard, ScorecardKind};

    fn small_policy() -> Policy {
        Policy {
            min_samples: 1,
            min_positives: 1,
            min_negatives: 1,
            resamples: 200,
            ..Policy::all_metrics()
        }
    }

    #[test]
    fn identical_models_are_inconclusive_with_zero_deltas() {
        let labels = [true, false, true, false, false, true, false, false];
        let scores = [0.9, 0.2, 0.6, 0.7, 0.1, 0.3, 0.4, 0.05];
        let m = ModelScores {
            version: "a",
            format: "test",
            threshold: 0.5,
            scores: &scores,
        };
        let c = compare_scores(m, m, &labels, "mem", &small_policy(), 3);
        assert_eq!(c.verdict, Verdict::Inconclusive);
        assert_eq!(c.mcnemar.discordant, 0);
        assert_eq!(c.mcnemar.p_value, 1.0);
        assert!(c
            .deltas
            .values()
            .all(|d| d.delta == 0.0 && d.ci.low == 0.0 && d.ci.high == 0.0));
        assert_eq!(exit_code(&Ok(&c)), EXIT_NOT_PROMOTED);
    }

    #[test]
    fn same_seed_same_comparison_other_seed_other_intervals() {
        let n = 300;
        let labels: Vec<bool> = (0..n).map(|i| i % 5 == 0).collect();
        let a: Vec<f64> = (0..n).map(|i| ((i * 31) % 97) as f64 / 97.0).collect();
        let b: Vec<f64> = (0..n)
            .map(|i| {
                if labels[i] {
                    0.4 + a[i] * 0.6
                } else {
                    a[i] * 0.8
                }
            })
            .collect();
        let run = |seed| {
            compare_scores(
                ModelScores {
                    version: "a",
                    format: "t",
                    threshold: 0.5,
                    scores: &a,
                },
                ModelScores {
                    version: "b",
                    format: "t",
                    threshold: 0.5,
                    scores: &b,
                },
                &labels,
                "mem",
                &small_policy(),
                seed,
            )
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1).deltas, run(2).deltas);
    }

    #[test]
    fn a_model_needing_an_unknown_feature_is_a_mismatch_naming_both_files() {
        let rows = crate::generate::generate_rows(20, 1);
        let dataset = Dataset::from_rows("golden/data/tiny.jsonl", rows);
        let ok = Scorecard::new(
            "ok",
            ScorecardKind::Logistic,
            vec![("amount_log".into(), 1.0)],
            0.0,
            0.5,
        )
        .unwrap();
        let bad = Scorecard::new(
            "v9",
            ScorecardKind::Logistic,
            vec![("velocity_1h".into(), 1.0)],
            0.0,
            0.5,
        )
        .unwrap();
        let e = compare(&ok, &bad, &dataset, &small_policy(), 1).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("challenger model `v9`")
                && text.contains("velocity_1h")
                && text.contains("tiny.jsonl"),
            "{text}"
        );
        assert_eq!(exit_code::<Comparison>(&Err(e)), EXIT_INVALID_INPUT);
    }

    #[test]
    fn a_model_naming_a_column_of_the_owners_data_scores_it_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("own.csv");
        let mut text = String::from("id,fraud,spend,colour\n");
        for i in 0..40 {
            text.push_str(&format!("r{i},{},{},red\n", i % 4 == 0, i % 7));
        }
        std::fs::write(&path, text).unwrap();
        let columns = crate::dataset::DataColumns {
            label: "fraud".into(),
            positive: "true".into(),
        };
        let dataset = Dataset::load_with(&path, &columns).unwrap();
        let card = |name: &str| {
            Scorecard::new(
                "own",
                ScorecardKind::Logistic,
                vec![(name.into(), 0.3)],
                -1.0,
                0.5,
            )
            .unwrap()
        };
        let rows = score_dataset(&card("spend"), &card("spend"), &dataset).unwrap();
        assert_eq!(rows.ids[1], "r1");
        assert_eq!(rows.labels.iter().filter(|&&l| l).count(), 10);
        let e = compare(
            &card("spend"),
            &card("colour"),
            &dataset,
            &small_policy(),
            1,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`colour`") || e.contains("\"colour\""), "{e}");
        assert!(e.contains("own.csv") && e.contains("challenger"), "{e}");
    }

    #[test]
    fn out_of_range_scores_are_rejected_with_the_row() {
        #[derive(Debug)]
        struct Broken(Vec<String>);
        impl Model for Broken {
            fn format(&self) -> &'static str {
                "test"
            }
            fn version(&self) -> &str {
                "broken"
            }
            fn feature_names(&self) -> &[String] {
                &self.0
            }
            fn score(&self, f: &std::collections::BTreeMap<String, f64>) -> Result<f64> {
                Ok(f["amount_log"] * 10.0)
            }
            fn threshold(&self) -> f64 {
                0.5
            }
        }
        let dataset = Dataset::from_rows("mem", crate::generate::generate_rows(10, 2));
        let broken = Broken(vec!["amount_log".into()]);
        let e = compare(&broken, &broken, &dataset, &small_policy(), 1)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("champion model `broken` row 0") && e.contains("not a number in [0, 1]"),
            "{e}"
        );
    }
}
