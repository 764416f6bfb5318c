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
//! All draws come from one [`SeededRng8`] on [`stream::DATASET`] in a fixed order, and the conversions
//! are faultline-rng's own (not a `rand` release's), so `generate_rows(n, seed)` is byte-for-byte
//! stable.
//!
//! [`true_label`] applies the same process to a transaction that was not generated here (an event
//! the live pipeline scored, plus the profile its enrichment returned). Its two draws (ε, then the
//! Bernoulli uniform) come from a [`SeededRng8`] keyed by the FNV-1a 64-bit hash of the transaction id
//! on [`stream::LABEL`], so a transaction's label depends on nothing but the transaction.

use crate::dataset::LabelledRow;
use crate::features::{Channel, Features, Kind, RiskTier, TxnInput, FEATURE_COUNT, FEATURE_NAMES};
use crate::rng::{seeded, stream, SeededRng8};
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

/// The "true" label of one transaction: the documented process (true logit of its features, plus
/// Gaussian noise, then a Bernoulli draw), with both draws taken from a [`SeededRng8`] keyed by
/// [`fnv1a64`] of `transaction_id` on [`stream::LABEL`]. Same id and input, same label, on every
/// machine and in every run.
pub fn true_label(transaction_id: &str, input: &TxnInput) -> bool {
    let mut row = [0.0; FEATURE_COUNT];
    Features::write_row(input, &mut row);
    let mut rng = seeded(fnv1a64(transaction_id.as_bytes()), stream::LABEL);
    draw_label(&row, &mut rng)
}

/// FNV-1a, 64-bit: a stable, dependency-free hash used to key per-transaction draws.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The noisy logit, then the Bernoulli draw: two draws from `rng`, in that order.
fn draw_label(row: &[f64; FEATURE_COUNT], rng: &mut SeededRng8) -> bool {
    let z = true_logit(row) + TRUE_NOISE_SD * rng.normal();
    rng.bernoulli(1.0 / (1.0 + (-z).exp()))
}

/// One account's profile, as the profile service would return it.
struct Profile {
    account_age_days: u32,
    risk_tier: RiskTier,
    country: &'static str,
}

fn profile(rng: &mut SeededRng8) -> Profile {
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
    let mut rng = seeded(seed, stream::DATASET);
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
            let label = draw_label(&row, &mut rng);
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
    fn true_label_depends_only_on_the_transaction() {
        let rows = generate_rows(3_000, 8);
        let labels = |rows: &[LabelledRow]| -> Vec<bool> {
            rows.iter()
                .map(|r| true_label(&r.transaction_id, &r.input))
                .collect()
        };
        let first = labels(&rows);
        assert_eq!(first, labels(&rows), "same id and input, same label");
        let mut reversed = rows.clone();
        reversed.reverse();
        let mut again = labels(&reversed);
        again.reverse();
        assert_eq!(first, again, "no state carries over between transactions");
        // The process, not a constant: a realistic minority, and riskier inputs are likelier fraud.
        let rate = first.iter().filter(|&&l| l).count() as f64 / first.len() as f64;
        assert!((0.03..0.30).contains(&rate), "live fraud rate {rate}");
        let risky = |mut input: TxnInput| {
            input.risk_tier = RiskTier::High;
            input.channel = Some(Channel::Atm);
            input.account_age_days = 0;
            input
        };
        let risky_rate = rows
            .iter()
            .filter(|r| true_label(&r.transaction_id, &risky(r.input.clone())))
            .count() as f64
            / rows.len() as f64;
        assert!(risky_rate > rate * 1.5, "{risky_rate} vs {rate}");
    }

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn fraud_rate_is_a_realistic_minority() {
        let rows = generate_rows(20_000, GOLDEN_SEED);
        let rate = rows.iter().filter(|r| r.label).count() as f64 / rows.len() as f64;
        assert!((0.05..0.25).contains(&rate), "fraud rate {rate}");
    }
}
