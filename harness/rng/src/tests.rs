//! The draws' contracts. Each consumer pins its own streams' values next to its key derivation
//! (workload, proxy and models `rng` modules).

use super::{CanonWord, RngCore, SeededRng};
use proptest::prelude::*;

fn words<C: RngCore>(mut r: SeededRng<C>) -> Vec<u64> {
    (0..8).map(|_| r.next_u64()).collect()
}

#[test]
fn same_key_and_stream_repeat_and_streams_differ() {
    let key = [7u8; 32];
    assert_eq!(
        words(SeededRng::chacha20(key, 1)),
        words(SeededRng::chacha20(key, 1))
    );
    assert_ne!(
        words(SeededRng::chacha20(key, 1)),
        words(SeededRng::chacha20(key, 2))
    );
    assert_eq!(
        words(SeededRng::chacha8(7, 2)),
        words(SeededRng::chacha8(7, 2))
    );
    assert_ne!(
        words(SeededRng::chacha8(7, 2)),
        words(SeededRng::chacha8(7, 1))
    );
}

#[test]
fn chance_extremes_are_exact() {
    let mut r = SeededRng::chacha20([1; 32], 3);
    assert!((0..1000).all(|_| r.chance(1.0)));
    assert!((0..1000).all(|_| !r.chance(0.0)));
    assert!((0..1000).all(|_| !r.chance(f64::NAN)));
}

#[test]
fn below_covers_its_range() {
    let mut r = SeededRng::chacha8(1, 0);
    let mut seen = [0usize; 5];
    for _ in 0..1000 {
        seen[r.below(5) as usize] += 1;
    }
    assert!(seen.iter().all(|&c| c > 150), "{seen:?}");
}

#[test]
fn normal_has_roughly_unit_moments() {
    let mut r = SeededRng::chacha8(3, 0);
    let xs: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
    assert!(mean.abs() < 0.03, "mean {mean}");
    assert!((var - 1.0).abs() < 0.05, "var {var}");
}

#[test]
fn weighted_never_picks_a_zero_weight() {
    let mut r = SeededRng::chacha8(9, 0);
    for _ in 0..500 {
        assert_ne!(r.weighted(&[1.0, 0.0, 2.0]), 1);
    }
}

#[test]
fn wide_multiplication_of_128_bit_words_is_exact() {
    assert_eq!(u128::MAX.wide_mul(u128::MAX), (u128::MAX - 1, 1));
    assert_eq!(
        (u128::from(u64::MAX)).wide_mul(u128::from(u64::MAX)),
        (0, u128::from(u64::MAX) * u128::from(u64::MAX))
    );
    assert_eq!((1u128 << 100).wide_mul(1 << 100), (1 << 72, 0));
}

#[test]
fn canon_full_ranges_return_the_raw_draw() {
    let mut a = SeededRng::chacha20([4; 32], 0);
    let mut b = a.clone();
    let raw = (u128::from(b.next_u64()) | (u128::from(b.next_u64()) << 64)) as i128;
    assert_eq!(a.canon_i128(i128::MIN, i128::MAX), raw);
}

/// `binomial` delegates to `rand_distr`: these values pin its output (inversion, Poisson and BTPE
/// branches), so a release that changes them fails here before it moves a recorded interval.
#[test]
fn binomial_draws_are_pinned() {
    let mut r = SeededRng::chacha8(42, 9);
    let got: Vec<u64> = [
        (20, 0.3),
        (1_000_000, 0.000_002),
        (1_000_000, 0.4),
        (50, 0.97),
    ]
    .iter()
    .map(|&(n, p)| r.binomial(n, p))
    .collect();
    assert_eq!(got, PIN_BINOMIAL);
}

const PIN_BINOMIAL: [u64; 4] = [8, 2, 400_517, 47];

#[test]
fn binomial_has_the_right_mean_and_variance() {
    let mut r = SeededRng::chacha8(3, 0);
    let (n, p, k) = (10_000u64, 0.3, 4_000);
    let xs: Vec<f64> = (0..k).map(|_| r.binomial(n, p) as f64).collect();
    let mean = xs.iter().sum::<f64>() / k as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
    let (m0, v0) = (n as f64 * p, n as f64 * p * (1.0 - p));
    assert!(
        (mean - m0).abs() < 4.0 * (v0 / k as f64).sqrt(),
        "mean {mean} vs {m0}"
    );
    assert!((var / v0 - 1.0).abs() < 0.1, "variance {var} vs {v0}");
}

proptest! {
    #[test]
    fn multinomial_draws_sum_to_n_and_skip_empty_cells(
        seed: u64,
        n in 0u64..2_000_000,
        weights in prop::collection::vec(prop_oneof![Just(0.0), 0.0f64..1e6], 1..40),
    ) {
        let mut r = SeededRng::chacha8(seed, 0);
        let mut out = vec![0; weights.len()];
        r.multinomial(n, &weights, &mut out);
        let total: u64 = out.iter().sum();
        let any_weight = weights.iter().any(|&w| w > 0.0);
        prop_assert_eq!(total, if any_weight { n } else { 0 });
        for (w, o) in weights.iter().zip(&out) {
            prop_assert!(*w > 0.0 || *o == 0);
        }
    }

    #[test]
    fn below_stays_in_range(seed: u64, n in 1u64..=u64::MAX) {
        let mut r = SeededRng::chacha8(seed, 0);
        for _ in 0..16 {
            prop_assert!(r.below(n) < n);
        }
    }

    #[test]
    fn sample_indices_are_distinct_sorted_and_in_range(seed: u64, n in 0usize..500, k in 0usize..600) {
        let mut r = SeededRng::chacha8(seed, 0);
        let got = r.sample_indices(n, k);
        prop_assert_eq!(got.len(), k.min(n));
        prop_assert!(got.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(got.iter().all(|&i| i < n));
    }

    #[test]
    fn canon_draws_stay_in_range(seed: u64, lo: i64, span in 0u64..u64::MAX, ulo in 0usize..1 << 40, uspan in 0usize..1 << 40) {
        let mut r = SeededRng::chacha20([0; 32], seed);
        let hi = i128::from(lo) + i128::from(span);
        let x = r.canon_i128(i128::from(lo), hi);
        prop_assert!(i128::from(lo) <= x && x <= hi);
        let y = r.canon_usize(ulo, ulo + uspan);
        prop_assert!(ulo <= y && y <= ulo + uspan);
    }
}
