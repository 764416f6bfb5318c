//! JSON scorecards: a weighted sum of features plus a bias.
//!
//! ```json
//! {"format": "scorecard", "kind": "logistic", "version": "2024-06-challenger",
//!  "features": ["amount_log", "is_debit"], "weights": {"amount_log": 0.8, "is_debit": 0.4},
//!  "bias": -4.0, "threshold": 0.35}
//! ```
//!
//! `logistic` scores are `1 / (1 + e^-(bias + Σ w·x))`; `linear` scores are `bias + Σ w·x` clamped to
//! `[0, 1]`, so both compare against a threshold in `[0, 1]`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{ModelError, Result};
use crate::matrix::FeatureMatrix;
use crate::model::fields::{finite, Fields};
use crate::model::{feature, Model};

/// How the weighted sum becomes a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScorecardKind {
    /// Sigmoid of the sum.
    Logistic,
    /// The sum, clamped to `[0, 1]`.
    Linear,
}

/// A validated scorecard.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorecard {
    version: String,
    kind: ScorecardKind,
    features: Vec<String>,
    /// Aligned with `features`.
    weights: Vec<f64>,
    bias: f64,
    threshold: f64,
}

impl Scorecard {
    /// Builds a scorecard in code; `weights` gives each feature in `features` order.
    ///
    /// Returns an error (naming `<inline>`) on mismatched lengths, non-finite numbers or a threshold
    /// outside `[0, 1]`, the same rules as a file.
    pub fn new(
        version: impl Into<String>,
        kind: ScorecardKind,
        weights: Vec<(String, f64)>,
        bias: f64,
        threshold: f64,
    ) -> Result<Self> {
        let inline = Path::new("<inline>");
        if let Some((name, _)) = weights.iter().find(|(_, w)| !w.is_finite()) {
            return Err(ModelError::model_field(
                inline,
                format!("weights.{name}"),
                "not a finite number",
            ));
        }
        if !bias.is_finite() {
            return Err(ModelError::model_field(
                inline,
                "bias",
                "not a finite number",
            ));
        }
        if !(0.0..=1.0).contains(&threshold) {
            return Err(ModelError::model_field(
                inline,
                "threshold",
                format!("{threshold} is outside [0, 1]"),
            ));
        }
        let (features, weights) = weights.into_iter().unzip();
        Ok(Scorecard {
            version: version.into(),
            kind,
            features,
            weights,
            bias,
            threshold,
        })
    }

    /// Reads the scorecard fields of a model file whose `format` is `scorecard`.
    pub(crate) fn from_fields(f: &Fields<'_>) -> Result<Self> {
        f.deny_unknown(&[
            "format",
            "kind",
            "version",
            "features",
            "weights",
            "bias",
            "threshold",
            "description",
        ])?;
        let kind = match f.string("kind")?.as_str() {
            "logistic" => ScorecardKind::Logistic,
            "linear" => ScorecardKind::Linear,
            other => return Err(f.err("kind", format!("`{other}` is not one of logistic, linear"))),
        };
        let version = f.string("version")?;
        let features = f.feature_list()?;
        let raw = f.object("weights")?;
        let mut weights = Vec::with_capacity(features.len());
        for name in &features {
            let field = format!("weights.{name}");
            let v = raw
                .get(name)
                .ok_or_else(|| f.err(&field, "missing; every declared feature needs a weight"))?;
            weights.push(finite(v).map_err(|p| f.err(&field, p))?);
        }
        if let Some(extra) = raw.keys().find(|k| !features.contains(k)) {
            return Err(f.err(
                format!("weights.{extra}"),
                "has a weight but is not listed in `features`",
            ));
        }
        let bias = f.number("bias")?;
        let threshold = f.threshold()?;
        Ok(Scorecard {
            version,
            kind,
            features,
            weights,
            bias,
            threshold,
        })
    }

    /// Logistic or linear.
    pub fn kind(&self) -> ScorecardKind {
        self.kind
    }

    /// The weight of each feature, by name.
    pub fn weights(&self) -> BTreeMap<&str, f64> {
        self.features
            .iter()
            .map(String::as_str)
            .zip(self.weights.iter().copied())
            .collect()
    }

    /// The bias term.
    pub fn bias(&self) -> f64 {
        self.bias
    }

    fn link(&self, sum: f64) -> f64 {
        match self.kind {
            ScorecardKind::Logistic => 1.0 / (1.0 + (-sum).exp()),
            ScorecardKind::Linear => sum.clamp(0.0, 1.0),
        }
    }
}

impl Model for Scorecard {
    fn format(&self) -> &'static str {
        "scorecard"
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn feature_names(&self) -> &[String] {
        &self.features
    }

    fn score(&self, features: &BTreeMap<String, f64>) -> Result<f64> {
        let mut sum = self.bias;
        for (name, w) in self.features.iter().zip(&self.weights) {
            sum += w * feature(&self.version, features, name)?;
        }
        Ok(self.link(sum))
    }

    fn threshold(&self) -> f64 {
        self.threshold
    }

    fn score_matrix(&self, m: &FeatureMatrix) -> Result<Vec<f64>> {
        let cols = m
            .columns_of(&self.features)
            .map_err(|missing| ModelError::MissingFeature {
                version: self.version.clone(),
                feature: missing.join(", "),
            })?;
        Ok((0..m.rows())
            .map(|i| {
                let row = m.row(i);
                let sum = cols
                    .iter()
                    .zip(&self.weights)
                    .fold(self.bias, |acc, (&c, w)| acc + w * row[c]);
                self.link(sum)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(kind: ScorecardKind) -> Scorecard {
        Scorecard::new(
            "t",
            kind,
            vec![("a".into(), 2.0), ("b".into(), -1.0)],
            0.5,
            0.5,
        )
        .unwrap()
    }

    fn map(a: f64, b: f64) -> BTreeMap<String, f64> {
        [
            ("a".to_string(), a),
            ("b".to_string(), b),
            ("unused".to_string(), 9.0),
        ]
        .into()
    }

    #[test]
    fn logistic_score_is_the_sigmoid_of_the_sum() {
        // 0.5 + 2·1 - 1·2.5 = 0 → 0.5
        assert!((card(ScorecardKind::Logistic).score(&map(1.0, 2.5)).unwrap() - 0.5).abs() < 1e-15);
        let s = card(ScorecardKind::Logistic).score(&map(1.0, 0.0)).unwrap();
        assert!((s - 1.0 / (1.0 + (-2.5f64).exp())).abs() < 1e-15);
    }

    #[test]
    fn linear_score_is_clamped_into_unit_interval() {
        let c = card(ScorecardKind::Linear);
        assert_eq!(c.score(&map(0.1, 0.0)).unwrap(), 0.7);
        assert_eq!(c.score(&map(5.0, 0.0)).unwrap(), 1.0);
        assert_eq!(c.score(&map(0.0, 5.0)).unwrap(), 0.0);
    }

    #[test]
    fn matrix_scores_equal_row_by_row_scores() {
        let c = card(ScorecardKind::Logistic);
        let mut m = FeatureMatrix::new(vec!["b".into(), "x".into(), "a".into()]);
        m.push_row(&[0.3, 7.0, -1.0]);
        m.push_row(&[2.0, 7.0, 4.0]);
        let bulk = c.score_matrix(&m).unwrap();
        for (i, s) in bulk.iter().enumerate() {
            assert_eq!(*s, c.score(&m.row_map(i)).unwrap());
        }
    }

    #[test]
    fn missing_feature_names_the_model_and_feature() {
        let e = card(ScorecardKind::Logistic)
            .score(&BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("`t`") && e.contains("`a`"), "{e}");
    }

    #[test]
    fn inline_construction_rejects_nan_and_bad_threshold() {
        assert!(Scorecard::new(
            "t",
            ScorecardKind::Linear,
            vec![("a".into(), f64::NAN)],
            0.0,
            0.5
        )
        .is_err());
        assert!(Scorecard::new(
            "t",
            ScorecardKind::Linear,
            vec![("a".into(), 1.0)],
            0.0,
            -0.1
        )
        .is_err());
    }
}
