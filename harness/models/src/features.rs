//! The feature vector a model sees, built from one enriched transaction.
//!
//! Names are stable: models refer to them by name, and renaming one breaks every shipped model.
//! Add new features under new names instead.
//!
//! | name | value |
//! | --- | --- |
//! | `account_age_days_log` | ln(1 + account_age_days) |
//! | `amount_log` | ln(1 + amount_cents / 100), i.e. of the amount in currency units |
//! | `amount_x_risk_high` | `amount_log` × `risk_high`: large amounts matter more on risky accounts |
//! | `channel_atm`, `channel_pos`, `channel_web` | one-hot of `channel`; all 0 when absent (schema v1) |
//! | `hour_cos`, `hour_sin` | cos / sin of 2π·h/24 for the UTC hour h of `created_at` |
//! | `is_debit` | 1 for debits, 0 for credits |
//! | `is_weekend` | 1 on Saturday and Sunday (UTC) |
//! | `risk_high`, `risk_medium` | one-hot of the profile's risk tier (low is the base level) |

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::time::UtcTimestamp;

/// Every feature name, in the order of [`Features::write_row`] (sorted, like a `BTreeMap`).
pub const FEATURE_NAMES: [&str; 12] = [
    "account_age_days_log",
    "amount_log",
    "amount_x_risk_high",
    "channel_atm",
    "channel_pos",
    "channel_web",
    "hour_cos",
    "hour_sin",
    "is_debit",
    "is_weekend",
    "risk_high",
    "risk_medium",
];

/// Number of features.
pub const FEATURE_COUNT: usize = FEATURE_NAMES.len();

/// Credit or debit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Money in.
    Credit,
    /// Money out.
    Debit,
}

/// Where the transaction was made (schema v2 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Online.
    Web,
    /// Card terminal.
    Pos,
    /// Cash machine.
    Atm,
}

/// The account-profile service's risk tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskTier {
    /// Base level.
    Low,
    /// Elevated.
    Medium,
    /// Highest.
    High,
}

macro_rules! text_enum {
    ($ty:ty, $($text:literal => $variant:expr),+) => {
        impl $ty {
            /// The lowercase wire name.
            pub fn as_str(&self) -> &'static str {
                match self { $(v if *v == $variant => $text,)+ _ => unreachable!() }
            }
            /// Every wire name, for error messages.
            pub const NAMES: &'static [&'static str] = &[$($text),+];
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($variant),)+
                    other => Err(format!("`{other}` is not one of {}", <$ty>::NAMES.join(", "))),
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(Kind, "credit" => Kind::Credit, "debit" => Kind::Debit);
text_enum!(Channel, "web" => Channel::Web, "pos" => Channel::Pos, "atm" => Channel::Atm);
text_enum!(RiskTier, "low" => RiskTier::Low, "medium" => RiskTier::Medium, "high" => RiskTier::High);

/// The parts of an enriched transaction event that features are computed from.
///
/// The pipeline builds one of these from the Kafka event plus the account-profile response.
#[derive(Debug, Clone, PartialEq)]
pub struct TxnInput {
    /// Credit or debit.
    pub kind: Kind,
    /// Amount in cents, `>= 0` (negative values are treated as 0).
    pub amount_cents: i64,
    /// Event time.
    pub created_at: UtcTimestamp,
    /// Channel, absent in schema v1.
    pub channel: Option<Channel>,
    /// Account age from the profile service.
    pub account_age_days: u32,
    /// Risk tier from the profile service.
    pub risk_tier: RiskTier,
}

impl TxnInput {
    /// This transaction with the default profile a pipeline scores with when the account-profile
    /// service cannot answer: a new account (age 0 days) of the base risk tier (`low`). The
    /// reference pipeline's `FAULTLINE_ENRICH_FALLBACK=default` falls back to it during an
    /// enrichment outage.
    pub fn with_default_profile(self) -> Self {
        Self {
            account_age_days: 0,
            risk_tier: RiskTier::Low,
            ..self
        }
    }
}

/// Namespace for turning a [`TxnInput`] into model features.
pub struct Features;

impl Features {
    /// The named feature map of one transaction.
    pub fn from_event(input: &TxnInput) -> BTreeMap<String, f64> {
        let mut row = [0.0; FEATURE_COUNT];
        Features::write_row(input, &mut row);
        FEATURE_NAMES
            .iter()
            .zip(row)
            .map(|(n, v)| (n.to_string(), v))
            .collect()
    }

    /// Writes the features of `input` into `out` in [`FEATURE_NAMES`] order, without allocating;
    /// the dataset uses this to build its dense matrix.
    pub fn write_row(input: &TxnInput, out: &mut [f64; FEATURE_COUNT]) {
        let amount = input.amount_cents.max(0) as f64 / 100.0;
        let angle = std::f64::consts::TAU * f64::from(input.created_at.hour()) / 24.0;
        let one = |b: bool| if b { 1.0 } else { 0.0 };
        let amount_log = amount.ln_1p();
        let risk_high = one(input.risk_tier == RiskTier::High);
        *out = [
            f64::from(input.account_age_days).ln_1p(),
            amount_log,
            amount_log * risk_high,
            one(input.channel == Some(Channel::Atm)),
            one(input.channel == Some(Channel::Pos)),
            one(input.channel == Some(Channel::Web)),
            angle.cos(),
            angle.sin(),
            one(input.kind == Kind::Debit),
            one(input.created_at.weekday() >= 5),
            risk_high,
            one(input.risk_tier == RiskTier::Medium),
        ];
    }

    /// Column index of a feature name, if it is one.
    pub fn index_of(name: &str) -> Option<usize> {
        FEATURE_NAMES.iter().position(|n| *n == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TxnInput {
        TxnInput {
            kind: Kind::Debit,
            amount_cents: 9_900,
            created_at: "2024-05-04T06:00:00Z".parse().unwrap(),
            channel: Some(Channel::Atm),
            account_age_days: 0,
            risk_tier: RiskTier::High,
        }
    }

    #[test]
    fn hand_computed_features_of_a_saturday_atm_debit() {
        let f = Features::from_event(&sample());
        assert_eq!(f.len(), FEATURE_COUNT);
        assert!((f["amount_log"] - 100f64.ln()).abs() < 1e-12);
        assert_eq!(f["account_age_days_log"], 0.0);
        assert_eq!(
            (f["channel_atm"], f["channel_pos"], f["channel_web"]),
            (1.0, 0.0, 0.0)
        );
        assert!(
            (f["hour_sin"] - 1.0).abs() < 1e-12,
            "06:00 is a quarter turn"
        );
        assert!(f["hour_cos"].abs() < 1e-12);
        assert_eq!(f["is_debit"], 1.0);
        assert_eq!(f["is_weekend"], 1.0);
        assert_eq!((f["risk_high"], f["risk_medium"]), (1.0, 0.0));
        assert!((f["amount_x_risk_high"] - 100f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn missing_channel_and_negative_amount_are_zeroes() {
        let mut input = sample();
        input.channel = None;
        input.amount_cents = -5;
        input.risk_tier = RiskTier::Low;
        let f = Features::from_event(&input);
        assert_eq!(f["amount_log"], 0.0);
        assert_eq!(f["channel_atm"] + f["channel_pos"] + f["channel_web"], 0.0);
        assert_eq!(f["amount_x_risk_high"], 0.0);
    }

    #[test]
    fn names_are_sorted_and_unique_so_map_order_matches_row_order() {
        let mut sorted = FEATURE_NAMES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, FEATURE_NAMES.to_vec());
    }

    #[test]
    fn text_enums_round_trip_and_explain_bad_values() {
        assert_eq!("debit".parse::<Kind>().unwrap().to_string(), "debit");
        assert_eq!("atm".parse::<Channel>().unwrap(), Channel::Atm);
        let e = "severe".parse::<RiskTier>().unwrap_err();
        assert!(e.contains("low, medium, high"), "{e}");
    }
}
