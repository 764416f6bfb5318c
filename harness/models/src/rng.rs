//! The one seeded random source of this crate.
//!
//! Every draw (dataset generation, bootstrap resampling) comes from a [`DetRng`] built from the run's
//! seed and a fixed stream id, and is passed down explicitly. The conversions from raw `u64`s to
//! uniforms, indices and normals are written here rather than taken from `rand`'s distributions so
//! that the golden dataset and bootstrap intervals stay byte-identical across `rand` releases: only
//! ChaCha8's output stream, which is specified, has to stay fixed.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Stream ids: independent sub-streams of one seed, one per consumer.
pub mod stream {
    /// Synthetic labelled dataset generation.
    pub const DATASET: u64 = 1;
    /// Paired bootstrap resampling in a comparison.
    pub const BOOTSTRAP: u64 = 2;
    /// The label draws of one live transaction ([`crate::generate::true_label`]).
    pub const LABEL: u64 = 3;
}

/// A deterministic random source: ChaCha8 keyed by a seed, on one of its streams.
#[derive(Debug, Clone)]
pub struct DetRng {
    inner: ChaCha8Rng,
}

impl DetRng {
    /// The generator for `seed` on sub-stream `stream` (see [`stream`]).
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream);
        DetRng { inner }
    }

    /// The next raw 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform draw in `[0, 1)` with 53 bits of precision.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform index in `0..n` without modulo bias (Lemire's multiply-and-reject).
    ///
    /// # Panics
    /// If `n == 0`: there is no index to draw, and every caller checks emptiness first.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "DetRng::below(0) has no valid result");
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// A standard normal draw (Box–Muller; one value per call, the pair's twin is discarded).
    pub fn normal(&mut self) -> f64 {
        // 1 - uniform() lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// True with probability `p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Picks an index according to non-negative `weights` (which need not sum to one).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.uniform() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_stream_repeat_and_streams_differ() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = DetRng::new(7, stream::BOOTSTRAP);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = DetRng::new(7, stream::BOOTSTRAP);
                move |_| r.next_u64()
            })
            .collect();
        let c: Vec<u64> = (0..4)
            .map({
                let mut r = DetRng::new(7, stream::DATASET);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = DetRng::new(1, 0);
        let mut seen = [0usize; 5];
        for _ in 0..1000 {
            seen[r.below(5) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 150), "{seen:?}");
    }

    #[test]
    fn normal_has_roughly_unit_moments() {
        let mut r = DetRng::new(3, 0);
        let xs: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "var {var}");
    }

    #[test]
    fn weighted_never_picks_a_zero_weight() {
        let mut r = DetRng::new(9, 0);
        for _ in 0..500 {
            assert_ne!(r.weighted(&[1.0, 0.0, 2.0]), 1);
        }
    }
}
