//! The seeded synthetic labelled dataset and the hidden "true" process behind its labels.
//!
//! Labels come from a logistic model of the standard features ([`TRUE_WEIGHTS`], [`TRUE_BIAS`])
//! whose logit is perturbed by Gaussian noise (sd [`TRUE_NOISE_SD`]) before a Bernoulli draw:
//!
//! ```text
//! z = TRUE_BIAS + Σ TRUE_WEIGHTS[f] · x_f + ε,   ε ~ N(0, TRUE_NOISE_SD²)
//! label ~ Bernoulli(1 / (1 + e^-z))
//! ```
//!
//! so no model can be perfect, and a model that uses the right features with roughly the right
//! weights (the shipped challenger) beats one that ignores some of them (the shipped champion).
//! `golden/data/README.md` documents the same process for readers of the data.
//!
//! All draws come from one [`DetRng`] on [`stream::DATASET`] in a fixed order, and the conversions
//! are this crate's own, so `generate_rows(n, seed)` is byte-for-byte stable.

use crate::dataset::LabelledRow;
use crate::features::{Channel, Features, Kind, RiskTier, TxnInput, FEATURE_COUNT, FEATURE_NAMES};
use crate::rng::{stream, DetRng};
use crate::time::UtcTimestamp;

/// Seed of the shipped `golden/data/labelled.jsonl`.
pub const GOLDEN_SEED: u64 = 20_240_601;
/// Row count of the shipped dataset.
pub const GOLDEN_ROWS: usize = 20_000;

/// Intercept of the true logit.
pub const TRUE_BIAS: f64 = -4.6;
/// Standard deviation of the Gaussian noise added to the true logit.
pub const TRUE_NOISE_SD: f64 = 0.6;
/// Weight of each feature in the true logit (features not listed weigh 0).
pub const TRUE_WEIGHTS: [(&str, f64); 12] = [
    ("account_age_days_log", -0.40),
    ("amount_log", 0.55),
    ("amount_x_risk_high", 0.35),
    ("channel_atm", 0.90),
    ("channel_pos", -0.30),
    ("channel_web", 0.45),
    ("hour_cos", 0.70),
    ("hour_sin", -0.25),
    ("is_debit", 0.80),
    ("is_weekend", 0.30),
    ("risk_high", 0.60),
    ("risk_medium", 0.55),
];

/// Accounts the rows are spread over; each keeps one profile.
const ACCOUNTS: u64 = 2_000;
/// First possible `created_at`: 2024-03-01T00:00:00Z.
const START_UNIX: i64 = 1_709_251_200;
/// Span of `created_at`: 90 days.
const SPAN_SECONDS: u64 = 90 * 86_400;
const COUNTRIES: [&str; 8] = ["DE", "ES", "FR", "GB", "IT", "NL", "PL", "US"];

/// The true logit of a feature row, without noise.
pub fn true_logit(row: &[f64; FEATURE_COUNT]) -> f64 {
    TRUE_WEIGHTS.iter().fold(TRUE_BIAS, |acc, (name, w)| {
        let i = Features::index_of(name).expect("TRUE_WEIGHTS names are feature names");
        acc + w * row[i]
    })
}

/// One account's profile, as the profile service would return it.
struct Profile {
    account_age_days: u32,
    risk_tier: RiskTier,
    country: &'static str,
}

fn profile(rng: &mut DetRng) -> Profile {
    // Log-uniform age between 0 and ten years: many young accounts, a long tail of old ones.
    let account_age_days = ((3_651f64).powf(rng.uniform()) - 1.0).floor() as u32;
    let risk_tier =
        [RiskTier::Low, RiskTier::Medium, RiskTier::High][rng.weighted(&[0.70, 0.20, 0.10])];
    let country = COUNTRIES[rng.below(COUNTRIES.len() as u64) as usize];
    Profile {
        account_age_days,
        risk_tier,
        country,
    }
}

/// `n` labelled rows from the true process, reproducible from `seed`.
pub fn generate_rows(n: usize, seed: u64) -> Vec<LabelledRow> {
    debug_assert_eq!(FEATURE_NAMES.len(), TRUE_WEIGHTS.len());
    let mut rng = DetRng::new(seed, stream::DATASET);
    let profiles: Vec<Profile> = (0..ACCOUNTS).map(|_| profile(&mut rng)).collect();
    let mut row = [0.0; FEATURE_COUNT];
    (0..n)
        .map(|i| {
            let account = rng.below(ACCOUNTS);
            let p = &profiles[account as usize];
            let kind = if rng.bernoulli(0.7) {
                Kind::Debit
            } else {
                Kind::Credit
            };
            // Log-normal amounts around 30.00 in currency units, capped at 100k.
            let amount_cents = (3_000f64.ln() + 1.2 * rng.normal())
                .exp()
                .round()
                .min(10_000_000.0) as i64;
            let created_at = UtcTimestamp::from_unix(START_UNIX + rng.below(SPAN_SECONDS) as i64);
            let v2 = rng.bernoulli(0.75);
            let channel =
                [Channel::Web, Channel::Pos, Channel::Atm][rng.weighted(&[0.50, 0.35, 0.15])];
            let input = TxnInput {
                kind,
                amount_cents,
                created_at,
                channel: v2.then_some(channel),
                account_age_days: p.account_age_days,
                risk_tier: p.risk_tier,
            };
            Features::write_row(&input, &mut row);
            let z = true_logit(&row) + TRUE_NOISE_SD * rng.normal();
            let label = rng.bernoulli(1.0 / (1.0 + (-z).exp()));
            LabelledRow {
                transaction_id: format!("txn-{i:06}"),
                account_id: format!("acct-{account:04}"),
                schema_version: if v2 { 2 } else { 1 },
                country: p.country.to_string(),
                input,
                label,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_rows_different_seed_different_rows() {
        assert_eq!(generate_rows(200, 5), generate_rows(200, 5));
        assert_ne!(generate_rows(200, 5), generate_rows(200, 6));
    }

    #[test]
    fn rows_respect_the_event_schema() {
        for r in generate_rows(2_000, 11) {
            assert!(r.input.amount_cents >= 0);
            assert_eq!(r.schema_version == 1, r.input.channel.is_none());
            assert!(r.input.account_age_days <= 3_650);
            assert!(r.input.created_at.unix_seconds >= START_UNIX);
        }
    }

    #[test]
    fn fraud_rate_is_a_realistic_minority() {
        let rows = generate_rows(20_000, GOLDEN_SEED);
        let rate = rows.iter().filter(|r| r.label).count() as f64 / rows.len() as f64;
        assert!((0.05..0.25).contains(&rate), "fraud rate {rate}");
    }
}
