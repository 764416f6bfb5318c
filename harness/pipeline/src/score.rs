//! Scoring with the champion model and, in shadow, the challenger. Both scores and both model
//! versions are stored on every transaction row.
//!
//! Models are faultline-models' (`Model`): when `FAULTLINE_CHAMPION_MODEL` / `FAULTLINE_CHALLENGER_MODEL`
//! name files, any format it loads (JSON scorecard, `.onnx` with its sidecar, HTTP); otherwise the
//! built-in scorecards below. Features come from `faultline_models::Features`, the one definition
//! the offline comparison and the shipped models use, so a model file means the same thing here and
//! in `faultline compare`.
//!
//! Every record is scored on its own, never as part of a batch matrix: a record's score must not
//! depend on which other records a batch happened to hold, or a rebalance or a crash (which change
//! batch boundaries) could change what lands.

use std::collections::BTreeMap;
use std::sync::Arc;

use faultline_models::features::{Channel, Kind as ModelKind, RiskTier, FEATURE_NAMES};
use faultline_models::model::{Scorecard, ScorecardKind};
use faultline_models::{Features, Model, TxnInput};

use crate::config::ConfigError;
use crate::enrich::Profile;
use crate::validate::{Event, Kind};

/// The environment variable naming the champion model file.
pub const CHAMPION_VAR: &str = "FAULTLINE_CHAMPION_MODEL";
/// The environment variable naming the challenger model file.
pub const CHALLENGER_VAR: &str = "FAULTLINE_CHALLENGER_MODEL";

/// The feature inputs of one enriched event. A risk tier the models do not know (`unknown`, when
/// the profile service has no answer) counts as the base level, `low`.
pub fn txn_input(e: &Event, p: &Profile) -> TxnInput {
    TxnInput {
        kind: match e.kind {
            Kind::Credit => ModelKind::Credit,
            Kind::Debit => ModelKind::Debit,
        },
        amount_cents: e.amount_cents,
        created_at: faultline_models::time::UtcTimestamp::from_unix(e.created_at.timestamp()),
        channel: e.channel.as_deref().and_then(|c| c.parse::<Channel>().ok()),
        account_age_days: u32::try_from(p.account_age_days.max(0)).unwrap_or(0),
        risk_tier: p.risk_tier.parse().unwrap_or(RiskTier::Low),
    }
}

/// The features a model sees, by faultline-models' stable names.
pub fn features(e: &Event, p: &Profile) -> BTreeMap<String, f64> {
    Features::from_event(&txn_input(e, p))
}

/// The champion and the shadow challenger.
#[derive(Debug, Clone)]
pub struct Models {
    pub champion: Arc<dyn Model>,
    pub challenger: Option<Arc<dyn Model>>,
}

impl Models {
    /// The built-in scorecards.
    pub fn builtin() -> Self {
        Self {
            champion: Arc::new(builtin_champion()),
            challenger: Some(Arc::new(builtin_challenger())),
        }
    }

    /// The files named by [`CHAMPION_VAR`] / [`CHALLENGER_VAR`], each defaulting to its built-in.
    pub fn from_paths(
        champion: Option<&str>,
        challenger: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let builtin = Self::builtin();
        Ok(Self {
            champion: match champion {
                Some(path) => load(CHAMPION_VAR, path)?,
                None => builtin.champion,
            },
            challenger: match challenger {
                Some(path) => Some(load(CHALLENGER_VAR, path)?),
                None => builtin.challenger,
            },
        })
    }
}

/// Loads one model file and checks that the pipeline computes every feature it reads.
pub fn load(var: &'static str, path: &str) -> Result<Arc<dyn Model>, ConfigError> {
    let model = faultline_models::load_model(path).map_err(|e| ConfigError {
        var,
        problem: format!("cannot use `{path}` as a model: {e}"),
    })?;
    let unknown: Vec<&str> = model
        .feature_names()
        .iter()
        .map(String::as_str)
        .filter(|f| !FEATURE_NAMES.contains(f))
        .collect();
    if !unknown.is_empty() {
        return Err(ConfigError {
            var,
            problem: format!(
                "model `{path}` reads feature(s) {} that the pipeline does not compute; it computes {}",
                unknown.join(", "),
                FEATURE_NAMES.join(", ")
            ),
        });
    }
    Ok(Arc::from(model))
}

fn scorecard(version: &str, weights: &[(&str, f64)], bias: f64) -> Scorecard {
    let weights = weights.iter().map(|(n, w)| (n.to_string(), *w)).collect();
    Scorecard::new(version, ScorecardKind::Logistic, weights, bias, 0.5)
        .expect("the built-in scorecards are valid")
}

/// The built-in champion.
pub fn builtin_champion() -> Scorecard {
    scorecard(
        "builtin-champion-1",
        &[
            ("account_age_days_log", -0.35),
            ("amount_log", 0.55),
            ("is_debit", 0.4),
            ("risk_high", 1.6),
        ],
        -3.0,
    )
}

/// The built-in challenger.
pub fn builtin_challenger() -> Scorecard {
    scorecard(
        "builtin-challenger-2",
        &[
            ("account_age_days_log", -0.4),
            ("amount_log", 0.6),
            ("channel_atm", 0.7),
            ("hour_cos", 0.3),
            ("is_debit", 0.5),
            ("risk_high", 1.9),
            ("risk_medium", 0.6),
        ],
        -3.2,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn golden(name: &str) -> String {
        format!("{}/../../golden/models/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn event() -> Event {
        Event {
            transaction_id: "t-1".into(),
            account_id: "acct-000001".into(),
            kind: Kind::Debit,
            amount_cents: 9_900,
            created_at: "2024-05-04T06:00:00Z".parse().unwrap(),
            schema_version: 2,
            channel: Some("atm".into()),
        }
    }

    fn profile(tier: &str) -> Profile {
        Profile {
            account_age_days: 0,
            risk_tier: tier.into(),
            country: "NL".into(),
            status: "ok",
        }
    }

    #[test]
    fn features_are_faultline_models_features_and_cover_every_shipped_model() {
        let f = features(&event(), &profile("high"));
        assert_eq!(
            f.keys().map(String::as_str).collect::<Vec<_>>(),
            FEATURE_NAMES.to_vec()
        );
        assert_eq!(
            (f["channel_atm"], f["is_weekend"], f["risk_high"]),
            (1.0, 1.0, 1.0)
        );
        assert!((f["amount_x_risk_high"] - 100f64.ln()).abs() < 1e-12);
        for name in ["champion.json", "challenger.json", "challenger.onnx"] {
            let m = load(CHAMPION_VAR, &golden(name)).unwrap();
            let s = m.score(&f).unwrap();
            assert!((0.0..=1.0).contains(&s), "{name}: {s}");
        }
    }

    #[test]
    fn an_unknown_risk_tier_scores_like_low() {
        let m = Models::builtin();
        let score = |tier| {
            m.champion
                .score(&features(&event(), &profile(tier)))
                .unwrap()
        };
        assert_eq!(score("unknown"), score("low"));
        assert!(score("high") > score("low"));
    }

    #[test]
    fn the_fallback_profile_gives_faultline_models_default_profile_features() {
        let real = profile("high");
        let defaults = features(&event(), &Profile::fallback("fallback"));
        let documented = Features::from_event(&txn_input(&event(), &real).with_default_profile());
        assert_eq!(defaults, documented);
        assert_ne!(features(&event(), &real), documented);
    }

    #[test]
    fn model_files_replace_the_builtins_one_at_a_time() {
        let m = Models::from_paths(Some(&golden("champion.json")), None).unwrap();
        assert_eq!(m.champion.version(), "2023-11-champion");
        assert_eq!(
            m.challenger.as_ref().unwrap().version(),
            "builtin-challenger-2"
        );
        let both = Models::from_paths(
            Some(&golden("champion.json")),
            Some(&golden("challenger.onnx")),
        )
        .unwrap();
        assert_eq!(
            both.challenger.unwrap().version(),
            "2024-06-challenger-onnx"
        );
    }

    #[test]
    fn a_bad_model_file_names_the_variable_and_the_file() {
        let dir = std::env::temp_dir().join(format!("ledger-score-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let garbled = dir.join("garbled.json");
        std::fs::write(
            &garbled,
            "{\"format\": \"scorecard\", \"kind\": \"logistic\"",
        )
        .unwrap();
        let alien = dir.join("alien.json");
        std::fs::write(
            &alien,
            r#"{"format":"scorecard","kind":"logistic","version":"v9","features":["velocity_1h"],"weights":{"velocity_1h":1.0},"bias":0.0,"threshold":0.5}"#,
        )
        .unwrap();
        let cases = [
            (
                Models::from_paths(Some("/nonexistent/champion.json"), None).unwrap_err(),
                CHAMPION_VAR,
                "/nonexistent/champion.json",
                "",
            ),
            (
                Models::from_paths(None, Some(garbled.to_str().unwrap())).unwrap_err(),
                CHALLENGER_VAR,
                "garbled.json",
                "not JSON",
            ),
            (
                Models::from_paths(None, Some(alien.to_str().unwrap())).unwrap_err(),
                CHALLENGER_VAR,
                "alien.json",
                "velocity_1h",
            ),
        ];
        for (e, var, file, why) in cases {
            let shown = e.to_string();
            assert_eq!(e.var, var);
            assert!(
                shown.starts_with(var) && shown.contains(file) && shown.contains(why),
                "{shown}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
