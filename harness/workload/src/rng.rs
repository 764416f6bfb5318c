//! The seeded RNG tree: one ChaCha20 key per seed, one independent stream per concern.
//!
//! Every draw goes through [`SeededRng`]'s own integer helpers instead of `rand`'s distributions so the
//! bytes a seed produces depend only on ChaCha20 and this file, not on a `rand` release.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

/// What a stream is used for. Each concern reads its own ChaCha20 stream, so turning one knob (say
/// `malformed_ratio`) never shifts the draws of another (the valid events' ids and amounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    /// Valid events: transaction ids, accounts, kinds, amounts.
    Events = 1,
    /// Inter-arrival gaps of event time, and the base time.
    Timestamps = 2,
    /// Which events are late, and by how much.
    Late = 3,
    /// The bounded out-of-order shuffle of the send order.
    Order = 4,
    /// Which events use schema version 2, and their channel.
    Schema = 5,
    /// Which events are re-sent, how often, where, and to which partition.
    Duplicates = 6,
    /// Ratio-driven malformed records: kind, variant, content, place in the send order.
    Malformed = 7,
    /// Poison pills.
    PoisonPills = 8,
    /// Oversized records from the `oversized` count.
    Oversized = 9,
    /// The fault schedule of a scenario (drawn faults, their times and targets); used by
    /// faultline-scenario so a scenario's seed fixes its faults as well as its records.
    FaultSchedule = 10,
}

/// One independent, deterministic random stream.
pub struct SeededRng(ChaCha20Rng);

impl SeededRng {
    /// The stream for `concern` under `seed`.
    pub fn new(seed: u64, concern: Concern) -> Self {
        // The key is a hash of the seed so that nearby seeds give unrelated keys without relying on
        // any particular seed-expansion routine.
        let mut hasher = Sha256::new();
        hasher.update(b"faultline-workload/v1/");
        hasher.update(seed.to_le_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(&hasher.finalize());
        let mut rng = ChaCha20Rng::from_seed(key);
        rng.set_stream(concern as u64);
        SeededRng(rng)
    }

    /// A uniformly random 64-bit word.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n`, without modulo bias (Lemire's multiply-and-reject). `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "SeededRng::below needs a positive bound");
        let mut wide = u128::from(self.next_u64()) * u128::from(n);
        if (wide as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (wide as u64) < threshold {
                wide = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (wide >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "SeededRng::range_inclusive needs lo <= hi");
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.below(span),
            None => self.next_u64(),
        }
    }

    /// True with probability `p` (clamped to 0..=1). Always consumes exactly one word, so the stream
    /// stays aligned whatever `p` is.
    pub fn chance(&mut self, p: f64) -> bool {
        let word = self.next_u64();
        if p >= 1.0 {
            return true;
        }
        if p.is_nan() || p <= 0.0 {
            return false;
        }
        // p * 2^64 is exact IEEE arithmetic, so the threshold is the same on every platform.
        let threshold = (p * 18_446_744_073_709_551_616.0) as u64;
        word < threshold
    }

    /// A uniformly chosen element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `k` distinct indices out of `0..n`, in increasing order. Draws `min(k, n)` words.
    pub fn sample_indices(&mut self, n: usize, k: usize) -> Vec<usize> {
        let k = k.min(n);
        // Partial Fisher-Yates over a sparse map keeps this O(k) even when n is large.
        let mut swapped = std::collections::BTreeMap::<usize, usize>::new();
        let mut chosen = Vec::with_capacity(k);
        for i in 0..k {
            let j = i + self.below((n - i) as u64) as usize;
            let at_j = *swapped.get(&j).unwrap_or(&j);
            let at_i = *swapped.get(&i).unwrap_or(&i);
            swapped.insert(j, at_i);
            chosen.push(at_j);
        }
        chosen.sort_unstable();
        chosen
    }

    /// Sixteen random bytes.
    pub fn bytes16(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        out[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn same_seed_and_concern_repeat_and_concerns_differ() {
        let a: Vec<u64> = (0..8)
            .map({
                let mut r = SeededRng::new(7, Concern::Events);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..8)
            .map({
                let mut r = SeededRng::new(7, Concern::Events);
                move |_| r.next_u64()
            })
            .collect();
        let c: Vec<u64> = (0..8)
            .map({
                let mut r = SeededRng::new(7, Concern::Malformed);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn chance_extremes_are_exact() {
        let mut r = SeededRng::new(1, Concern::Late);
        assert!((0..1000).all(|_| r.chance(1.0)));
        assert!((0..1000).all(|_| !r.chance(0.0)));
    }

    proptest! {
        #[test]
        fn below_stays_in_range(seed: u64, n in 1u64..=u64::MAX) {
            let mut r = SeededRng::new(seed, Concern::Order);
            for _ in 0..16 {
                prop_assert!(r.below(n) < n);
            }
        }

        #[test]
        fn sample_indices_are_distinct_sorted_and_in_range(seed: u64, n in 0usize..500, k in 0usize..600) {
            let mut r = SeededRng::new(seed, Concern::Duplicates);
            let got = r.sample_indices(n, k);
            prop_assert_eq!(got.len(), k.min(n));
            prop_assert!(got.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(got.iter().all(|&i| i < n));
        }
    }
}
