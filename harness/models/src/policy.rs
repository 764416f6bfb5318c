//! Promotion policy: metric gates in the style of MLflow's `MetricThreshold`, read from TOML, and
//! the rule that turns gate outcomes into a [`Verdict`].
//!
//! ```toml
//! min_samples = 1000   # fewer rows than this: inconclusive
//! min_positives = 10    # fewer positive rows than this: inconclusive, whatever the gates
//! min_negatives = 10    # fewer negative rows than this: the same
//! confidence = 0.95    # bootstrap interval level
//! resamples = 1000     # bootstrap resamples
//! bootstrap = "counts" # counts (multinomial over cells, the default) | rows (the reference)
//!
//! [[gates]]
//! metric = "pr_auc"            # precision | recall | f1 | accuracy | pr_auc
//! min_absolute_change = 0.01   # challenger must improve by at least this much
//! min_relative_change = 0.0    # ... and by this fraction of the champion's value
//! threshold = 0.5              # the challenger's own value must reach this
//! greater_is_better = true
//!
//! [[robustness]]               # live comparisons with a fault-free baseline only
//! metric = "precision"         # precision | recall | f1 | accuracy | pr_auc
//! rows = "in_fault_window"     # in_fault_window (the default) | outside_fault_windows | all
//! max_extra_loss = 0.0         # how much more than the champion the challenger may lose
//! ```
//!
//! The verdict, in order:
//! 1. fewer rows than `min_samples`, or fewer positives than `min_positives` or negatives than
//!    `min_negatives` → **inconclusive** (on one class only, a model that never flags anything
//!    is as good as any, so no gate can tell);
//! 2. any gate whose delta interval lies entirely on the bad side of 0, or whose `threshold` the
//!    challenger misses → **keep** the champion;
//! 3. every gate meets its threshold and minimum changes, and its delta interval lies entirely on
//!    the good side of 0 → **promote**;
//! 4. otherwise → **inconclusive**.
//!
//! A `[[robustness]]` gate judges a [`Robustness`](crate::robustness::Robustness): each model's
//! change from the fault-free run to the faulted run of the same seed on the rows named by `rows`,
//! and the paired interval of the challenger's change minus the champion's. It **keeps** the
//! champion when that interval lies entirely below `-max_extra_loss` (the challenger loses more
//! under faults than the champion, by more than allowed), whatever the verdict was; otherwise it
//! passes. It needs evidence to block, as a regression gate does; a comparison without a
//! fault-free baseline has no robustness and the gate is not judged.
//!
//! Changes are measured in the good direction: for `greater_is_better = false` an improvement is a
//! decrease. The relative change is the improvement divided by |champion|; when the champion's value
//! is 0 it is undefined, and a `min_relative_change` then passes exactly when the improvement is
//! positive.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bootstrap::{Interval, Resampling};
use crate::error::{ModelError, Result};
use crate::metrics::{MetricName, Metrics};
use crate::robustness::RowSet;

fn default_min_samples() -> usize {
    1000
}
fn default_min_class() -> usize {
    10
}
fn default_confidence() -> f64 {
    0.95
}
fn default_resamples() -> usize {
    1000
}
fn default_true() -> bool {
    true
}

/// When a challenger may replace the champion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Below this many rows the verdict is inconclusive whatever the metrics say.
    #[serde(default = "default_min_samples")]
    pub min_samples: usize,
    /// Below this many positive rows the verdict is inconclusive whatever the gates (at least 1).
    #[serde(default = "default_min_class")]
    pub min_positives: usize,
    /// Below this many negative rows the verdict is inconclusive whatever the gates (at least 1).
    #[serde(default = "default_min_class")]
    pub min_negatives: usize,
    /// Confidence level of the bootstrap intervals, in (0, 1).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// Number of paired bootstrap resamples.
    #[serde(default = "default_resamples")]
    pub resamples: usize,
    /// How the bootstrap resamples: `counts` (the default) or `rows` (the reference); see
    /// [`crate::bootstrap`]. `faultline compare --bootstrap` overrides it.
    #[serde(default)]
    pub bootstrap: Resampling,
    /// The gates; all must pass to promote.
    pub gates: Vec<Gate>,
    /// Gates on the models' degradation under faults (live comparisons with a baseline only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub robustness: Vec<RobustnessGate>,
}

/// A limit on how much more the challenger may lose under faults than the champion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobustnessGate {
    /// The metric gated.
    pub metric: MetricName,
    /// Which rows: those sent inside a fault window (the default), outside every one, or all.
    #[serde(default)]
    pub rows: RowSet,
    /// How much more than the champion the challenger may lose (≥ 0; default 0).
    #[serde(default)]
    pub max_extra_loss: f64,
}

/// One metric requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// The metric gated.
    pub metric: MetricName,
    /// Minimum improvement (challenger − champion, sign-adjusted), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_absolute_change: Option<f64>,
    /// Minimum improvement as a fraction of the champion's value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_relative_change: Option<f64>,
    /// Minimum (or maximum, when lower is better) value of the challenger's metric, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Whether larger values are better (true for every metric this crate computes).
    #[serde(default = "default_true")]
    pub greater_is_better: bool,
}

impl Policy {
    /// Parses and validates a policy; `path` is only used in error messages.
    pub fn from_toml_str(text: &str, path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let policy: Policy = toml::from_str(text).map_err(|e| ModelError::Policy {
            path: path.clone(),
            problem: e.to_string().trim_end().to_string(),
        })?;
        policy
            .validate()
            .map_err(|problem| ModelError::Policy { path, problem })?;
        Ok(policy)
    }

    /// Reads a policy file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        Policy::from_toml_str(&text, path)
    }

    /// A policy gating every metric on a positive change, with defaults elsewhere.
    pub fn all_metrics() -> Self {
        Policy {
            min_samples: default_min_samples(),
            min_positives: default_min_class(),
            min_negatives: default_min_class(),
            confidence: default_confidence(),
            resamples: default_resamples(),
            bootstrap: Resampling::default(),
            robustness: Vec::new(),
            gates: MetricName::ALL
                .iter()
                .map(|&metric| Gate {
                    metric,
                    min_absolute_change: None,
                    min_relative_change: None,
                    threshold: None,
                    greater_is_better: true,
                })
                .collect(),
        }
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(format!(
                "field `confidence`: {} must be strictly between 0 and 1, e.g. 0.95",
                self.confidence
            ));
        }
        for (field, v) in [
            ("min_positives", self.min_positives),
            ("min_negatives", self.min_negatives),
        ] {
            if v == 0 {
                return Err(format!(
                    "field `{field}`: must be at least 1: data with one class only can never \
                     decide a promotion (10 is the default)"
                ));
            }
        }
        if self.resamples == 0 {
            return Err("field `resamples`: must be at least 1 (1000 is typical)".into());
        }
        if self.gates.is_empty() {
            return Err("no [[gates]]; add at least one, e.g. metric = \"pr_auc\"".into());
        }
        for (i, g) in self.gates.iter().enumerate() {
            let fields = [
                ("min_absolute_change", g.min_absolute_change),
                ("min_relative_change", g.min_relative_change),
                ("threshold", g.threshold),
            ];
            for (name, v) in fields {
                if v.is_some_and(|v| !v.is_finite()) {
                    return Err(format!(
                        "gates[{i}] ({}): field `{name}` must be a finite number",
                        g.metric
                    ));
                }
            }
        }
        for (i, g) in self.robustness.iter().enumerate() {
            if !(g.max_extra_loss.is_finite() && g.max_extra_loss >= 0.0) {
                return Err(format!(
                    "robustness[{i}] ({}): field `max_extra_loss` must be a finite number ≥ 0, e.g. 0.0",
                    g.metric
                ));
            }
        }
        Ok(())
    }

    /// Whether `n` rows with `positives` positives meet the data minimums: below them the verdict
    /// is inconclusive whatever the gates.
    pub fn has_enough_data(&self, n: usize, positives: usize) -> bool {
        n >= self.min_samples
            && positives >= self.min_positives
            && n - positives >= self.min_negatives
    }

    /// Judges the gates: `deltas` holds each metric's bootstrap interval of challenger − champion.
    pub fn judge(
        &self,
        n: usize,
        positives: usize,
        champion: &Metrics,
        challenger: &Metrics,
        deltas: &std::collections::BTreeMap<MetricName, Interval>,
    ) -> Judgement {
        let gates: Vec<GateOutcome> = self
            .gates
            .iter()
            .map(|g| {
                GateOutcome::new(
                    g,
                    champion.get(g.metric),
                    challenger.get(g.metric),
                    deltas[&g.metric],
                    challenger,
                )
            })
            .collect();
        let mut reasons = Vec::new();
        let verdict = if n < self.min_samples {
            reasons.push(format!(
                "only {n} rows; the policy needs min_samples = {}",
                self.min_samples
            ));
            Verdict::Inconclusive
        } else if positives < self.min_positives || n - positives < self.min_negatives {
            reasons.push(format!(
                "{positives} positive and {} negative rows; the policy needs min_positives = {} \
                 and min_negatives = {}: with too few of one class no metric can tell the models \
                 apart",
                n - positives,
                self.min_positives,
                self.min_negatives
            ));
            Verdict::Inconclusive
        } else if gates.iter().any(GateOutcome::blocks) {
            reasons.extend(
                gates
                    .iter()
                    .filter(|g| g.blocks())
                    .flat_map(|g| g.problems.clone()),
            );
            Verdict::Keep
        } else if gates.iter().all(|g| g.passed) {
            reasons.extend(gates.iter().map(|g| {
                format!(
                    "{}: improved by {:+.4}, {:.0}% interval [{:+.4}, {:+.4}] excludes 0",
                    g.metric,
                    g.delta,
                    self.confidence * 100.0,
                    g.ci.low,
                    g.ci.high
                )
            }));
            Verdict::Promote
        } else {
            reasons.extend(gates.iter().flat_map(|g| g.problems.clone()));
            Verdict::Inconclusive
        };
        Judgement {
            verdict,
            reasons,
            gates,
        }
    }
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The challenger passed every gate with intervals excluding 0.
    Promote,
    /// The challenger is worse on a gated metric or misses a threshold.
    Keep,
    /// Not enough evidence either way.
    Inconclusive,
}

impl Direction {
    /// How reports show it: `better`, `worse` or `includes 0`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Direction::Better => "better",
            Direction::Worse => "worse",
            Direction::Unclear => "includes 0",
        }
    }
}

impl Verdict {
    /// Lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Promote => "promote",
            Verdict::Keep => "keep",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// Where a delta interval lies relative to 0, in the gate's good direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Entirely an improvement.
    Better,
    /// Entirely a regression.
    Worse,
    /// Contains 0.
    Unclear,
}

/// How one gate fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateOutcome {
    /// The metric.
    pub metric: MetricName,
    /// Champion's value.
    pub champion: f64,
    /// Challenger's value.
    pub challenger: f64,
    /// challenger − champion.
    pub delta: f64,
    /// The improvement as a fraction of |champion|; absent when the champion's value is 0.
    pub relative_change: Option<f64>,
    /// Bootstrap interval of the delta.
    pub ci: Interval,
    /// Where the interval lies.
    pub direction: Direction,
    /// Whether the challenger reached the gate's threshold (true when the gate has none).
    pub threshold_met: bool,
    /// Whether every requirement of the gate held.
    pub passed: bool,
    /// What failed, as sentences.
    pub problems: Vec<String>,
}

impl GateOutcome {
    fn new(
        g: &Gate,
        champion: f64,
        challenger: f64,
        ci: Interval,
        challenger_metrics: &Metrics,
    ) -> Self {
        let sign = if g.greater_is_better { 1.0 } else { -1.0 };
        let delta = challenger - champion;
        let improvement = sign * delta;
        let relative_change = (champion != 0.0).then(|| improvement / champion.abs());
        let direction = match (sign * ci.low, sign * ci.high) {
            (lo, hi) if lo.min(hi) > 0.0 => Direction::Better,
            (lo, hi) if lo.max(hi) < 0.0 => Direction::Worse,
            _ => Direction::Unclear,
        };
        let m = g.metric;
        let mut problems = Vec::new();
        let undefined = if challenger_metrics.undefined.contains(&m) {
            " (undefined for the challenger, counted as 0)"
        } else {
            ""
        };
        let threshold_met = g.threshold.is_none_or(|t| sign * challenger >= sign * t);
        if !threshold_met {
            let side = if g.greater_is_better {
                "below"
            } else {
                "above"
            };
            problems.push(format!(
                "{m}: challenger's {challenger:.4}{undefined} is {side} the threshold {}",
                g.threshold.unwrap_or_default()
            ));
        }
        match direction {
            Direction::Worse => problems.push(format!("{m}: challenger is worse, delta {delta:+.4} with interval [{:+.4}, {:+.4}] entirely on the bad side of 0", ci.low, ci.high)),
            Direction::Unclear => problems.push(format!("{m}: delta {delta:+.4} with interval [{:+.4}, {:+.4}] includes 0", ci.low, ci.high)),
            Direction::Better => {}
        }
        if let Some(min) = g.min_absolute_change {
            if improvement < min {
                problems.push(format!(
                    "{m}: improvement {improvement:+.4} is less than min_absolute_change {min}"
                ));
            }
        }
        if let Some(min) = g.min_relative_change {
            let ok = match relative_change {
                Some(r) => r >= min,
                None => improvement > 0.0,
            };
            if !ok {
                let shown = relative_change.map_or("undefined (champion is 0)".to_string(), |r| {
                    format!("{r:+.4}")
                });
                problems.push(format!(
                    "{m}: relative improvement {shown} is less than min_relative_change {min}"
                ));
            }
        }
        GateOutcome {
            metric: m,
            champion,
            challenger,
            delta,
            relative_change,
            ci,
            direction,
            threshold_met,
            passed: problems.is_empty(),
            problems,
        }
    }

    /// True when this gate alone forces a keep: a regression or a missed threshold.
    fn blocks(&self) -> bool {
        self.direction == Direction::Worse || !self.threshold_met
    }
}

/// The verdict with its reasons and every gate's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The decision.
    pub verdict: Verdict,
    /// Why, one sentence per reason.
    pub reasons: Vec<String>,
    /// Each gate, in policy order.
    pub gates: Vec<GateOutcome>,
}

#[cfg(test)]
mod tests;
