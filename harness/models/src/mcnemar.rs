//! McNemar's exact test: do the two models make different numbers of errors on the same rows?
//!
//! Only discordant rows matter: `b` rows that only the champion gets right and `c` rows that only
//! the challenger gets right. Under the null hypothesis each discordant row is a fair coin, so the
//! two-sided p-value is `min(1, 2·P(X ≤ min(b, c)))` with `X ~ Binomial(b + c, 1/2)`. With no
//! discordant rows there is no evidence either way and the p-value is 1.

use serde::{Deserialize, Serialize};

/// The result of the test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McNemar {
    /// Rows the champion classifies correctly and the challenger does not (`b`).
    pub champion_only_correct: u64,
    /// Rows the challenger classifies correctly and the champion does not (`c`).
    pub challenger_only_correct: u64,
    /// `b + c`.
    pub discordant: u64,
    /// Exact two-sided p-value.
    pub p_value: f64,
}

impl McNemar {
    /// Counts discordant pairs from the two models' predictions and runs the test.
    pub fn from_predictions(labels: &[bool], champion: &[bool], challenger: &[bool]) -> Self {
        let (mut b, mut c) = (0u64, 0u64);
        for ((&l, &a), &z) in labels.iter().zip(champion).zip(challenger) {
            match (a == l, z == l) {
                (true, false) => b += 1,
                (false, true) => c += 1,
                _ => {}
            }
        }
        McNemar {
            champion_only_correct: b,
            challenger_only_correct: c,
            discordant: b + c,
            p_value: exact_p_value(b, c),
        }
    }
}

/// Two-sided exact McNemar p-value for discordant counts `b` and `c`.
pub fn exact_p_value(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    // Sum the binomial pmf for 0..=k in log space: 2^-n underflows past n ≈ 1074.
    let ln2 = std::f64::consts::LN_2;
    let mut log_pmf = -(n as f64) * ln2;
    let mut log_sum = log_pmf;
    for i in 0..k {
        log_pmf += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
        let (hi, lo) = if log_sum > log_pmf {
            (log_sum, log_pmf)
        } else {
            (log_pmf, log_sum)
        };
        log_sum = hi + (lo - hi).exp().ln_1p();
    }
    (2.0 * log_sum.exp()).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn zero_discordant_pairs_give_p_one() {
        assert_eq!(exact_p_value(0, 0), 1.0);
        let labels = [true, false, true];
        let m = McNemar::from_predictions(&labels, &[true, true, false], &[true, true, false]);
        assert_eq!((m.discordant, m.p_value), (0, 1.0));
    }

    #[test]
    fn hand_computed_small_cases() {
        // n = 10, k = 1: 2·(1 + 10)/1024
        assert!(close(exact_p_value(1, 9), 22.0 / 1024.0, 1e-12));
        assert!(
            close(exact_p_value(9, 1), 22.0 / 1024.0, 1e-12),
            "symmetric"
        );
        // n = 5, k = 0: 2/32
        assert!(close(exact_p_value(0, 5), 2.0 / 32.0, 1e-12));
        // Balanced discordance is capped at 1.
        assert_eq!(exact_p_value(3, 3), 1.0);
        assert_eq!(exact_p_value(1, 0), 1.0);
    }

    #[test]
    fn large_counts_do_not_underflow() {
        // n = 2000 discordant, 45% / 55% split: strongly significant but representable.
        let p = exact_p_value(900, 1100);
        assert!(p > 0.0 && p < 1e-5, "{p}");
        // A near-even split of a large n is far from significant.
        assert!(exact_p_value(4990, 5010) > 0.8);
    }

    #[test]
    fn counts_which_model_is_right() {
        let labels = [true, true, false, false];
        let champion = [true, false, true, false]; // right on rows 0, 3
        let challenger = [true, true, false, true]; // right on rows 0, 1, 2
        let m = McNemar::from_predictions(&labels, &champion, &challenger);
        assert_eq!(
            (
                m.champion_only_correct,
                m.challenger_only_correct,
                m.discordant
            ),
            (1, 2, 3)
        );
        assert_eq!(m.p_value, 1.0);
    }
}
