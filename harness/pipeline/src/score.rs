//! Scoring with the champion model and, in shadow, the challenger. Both scores and both model
//! versions are stored on every transaction row. The built-in scorecards stand in until model files
//! are configured (`FAULTLINE_CHAMPION_MODEL` / `FAULTLINE_CHALLENGER_MODEL`).

use std::collections::BTreeMap;

use chrono::Timelike;

use crate::enrich::Profile;
use crate::validate::{Event, Kind};

/// A fraud score in [0, 1] and the model version that produced it.
pub trait Scorer: Send {
    fn version(&self) -> &str;
    fn score(&self, features: &BTreeMap<&'static str, f64>) -> f64;
    fn threshold(&self) -> f64;
}

/// The features a model sees, by stable name.
pub fn features(e: &Event, p: &Profile) -> BTreeMap<&'static str, f64> {
    let hour = f64::from(e.created_at.hour()) * std::f64::consts::TAU / 24.0;
    BTreeMap::from([
        ("amount_log", (1.0 + e.amount_cents as f64 / 100.0).ln()),
        ("is_debit", f64::from(u8::from(e.kind == Kind::Debit))),
        ("hour_sin", hour.sin()),
        ("hour_cos", hour.cos()),
        ("account_age_days_log", (1.0 + f64::from(p.account_age_days.max(0))).ln()),
        ("risk_medium", f64::from(u8::from(p.risk_tier == "medium"))),
        ("risk_high", f64::from(u8::from(p.risk_tier == "high"))),
        ("channel_atm", f64::from(u8::from(e.channel.as_deref() == Some("atm")))),
    ])
}

/// A logistic scorecard.
#[derive(Debug, Clone)]
pub struct Scorecard {
    pub version: String,
    pub weights: BTreeMap<&'static str, f64>,
    pub bias: f64,
    pub threshold: f64,
}

impl Scorer for Scorecard {
    fn version(&self) -> &str {
        &self.version
    }
    fn score(&self, f: &BTreeMap<&'static str, f64>) -> f64 {
        let z = self.bias + self.weights.iter().map(|(k, w)| w * f.get(k).copied().unwrap_or(0.0)).sum::<f64>();
        1.0 / (1.0 + (-z).exp())
    }
    fn threshold(&self) -> f64 {
        self.threshold
    }
}

/// The built-in champion.
pub fn builtin_champion() -> Scorecard {
    Scorecard {
        version: "builtin-champion-1".into(),
        weights: BTreeMap::from([("amount_log", 0.55), ("is_debit", 0.4), ("risk_high", 1.6), ("account_age_days_log", -0.35)]),
        bias: -3.0,
        threshold: 0.5,
    }
}

/// The built-in challenger.
pub fn builtin_challenger() -> Scorecard {
    Scorecard {
        version: "builtin-challenger-2".into(),
        weights: BTreeMap::from([
            ("amount_log", 0.6),
            ("is_debit", 0.5),
            ("risk_high", 1.9),
            ("risk_medium", 0.6),
            ("account_age_days_log", -0.4),
            ("channel_atm", 0.7),
            ("hour_cos", 0.3),
        ]),
        bias: -3.2,
        threshold: 0.5,
    }
}
