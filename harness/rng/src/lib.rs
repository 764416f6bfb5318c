//! The workspace's one seeded random source: a ChaCha stream and the draws built on it.
//!
//! Consumers keep their own key derivation (the workload hashes its seed, the proxy lays seed,
//! connection and toxic side by side, the models expand a `u64`), because that derivation decides
//! which stream a seed gives and recorded seeds must keep their draws. Everything after the key is
//! here: every conversion from raw words to integers, floats and choices is written in this file
//! rather than taken from `rand`'s distributions, so a seed's draws depend only on ChaCha's specified
//! output and this file, never on a `rand` release.
//!
//! One exception: [`SeededRng::binomial`] (and [`SeededRng::multinomial`] built on it) hands the
//! stream to `rand_distr`'s BTPE sampler, because a correct constant-time binomial is a paper's
//! worth of rejection sampling that a well-kept crate already has. Its draws are pinned in this
//! crate's tests, so a `rand_distr` release that changes them fails there, not silently in a
//! recorded interval.
//!
//! Module map: none; [`SeededRng`], its two constructors and its draws are this file.

use rand_chacha::rand_core::{RngCore, SeedableRng};
pub use rand_chacha::{ChaCha20Rng, ChaCha8Rng};

/// One independent, deterministic random stream over a ChaCha core (ChaCha20 unless named).
#[derive(Debug, Clone)]
pub struct SeededRng<C = ChaCha20Rng>(C);

/// The ChaCha8 variant: a third of ChaCha20's rounds, for the models' bulk bootstrap draws.
pub type SeededRng8 = SeededRng<ChaCha8Rng>;

impl SeededRng<ChaCha20Rng> {
    /// ChaCha20 keyed by `key`, reading stream number `stream`.
    pub fn chacha20(key: [u8; 32], stream: u64) -> Self {
        let mut core = ChaCha20Rng::from_seed(key);
        core.set_stream(stream);
        SeededRng(core)
    }
}

impl SeededRng<ChaCha8Rng> {
    /// ChaCha8 keyed by `rand_core`'s `seed_from_u64` expansion of `seed` (PCG32, specified by
    /// `rand_core`), reading stream number `stream`.
    pub fn chacha8(seed: u64, stream: u64) -> Self {
        let mut core = ChaCha8Rng::seed_from_u64(seed);
        core.set_stream(stream);
        SeededRng(core)
    }
}

impl<C: RngCore> SeededRng<C> {
    /// A uniformly random 64-bit word.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n`, without modulo bias (Lemire's multiply-and-reject). `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "SeededRng::below needs a positive bound");
        let mut wide = u128::from(self.next_u64()) * u128::from(n);
        // The rejection threshold (2^64 mod n) is below n, so a low half of at least n never needs
        // it: skipping the division then changes no draw.
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

    /// Uniform in `[0, 1)`: the top 53 bits of one word, scaled (the same conversion `rand` 0.9
    /// uses for `f64`).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (clamped to 0..=1), decided on the whole 64-bit word. Always
    /// consumes exactly one word, so the stream stays aligned whatever `p` is.
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

    /// True with probability `p`, decided as `uniform() < p` (53 bits). Differs from [`chance`]
    /// for a few words out of 2^64 at some `p`; both stay because recorded seeds depend on each.
    ///
    /// [`chance`]: SeededRng::chance
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// A standard normal draw (Box–Muller; one value per call, the pair's twin is discarded).
    pub fn normal(&mut self) -> f64 {
        // 1 - uniform() lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// An index picked according to non-negative `weights` (which need not sum to one).
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

    /// The number of successes in `n` trials of probability `p` (clamped to 0..=1), by
    /// `rand_distr`'s Binomial (inversion below a mean of 10, BTPE above): constant expected time
    /// whatever `n` is.
    pub fn binomial(&mut self, n: u64, p: f64) -> u64 {
        if n == 0 || p.is_nan() || p <= 0.0 {
            return 0;
        }
        if p >= 1.0 {
            return n;
        }
        let dist = rand_distr::Binomial::new(n, p).expect("p lies strictly between 0 and 1");
        rand_distr::Distribution::sample(&dist, &mut Core010(&mut self.0))
    }

    /// A multinomial draw of `n` trials over cells of non-negative `weights` (need not sum to
    /// one), written into `out` (same length), as sequential binomials: cell `k` gets
    /// `Binomial(n − drawn so far, w_k / Σ_{j≥k} w_j)`. One binomial per cell, so the cost follows
    /// the number of cells, not `n`.
    pub fn multinomial(&mut self, n: u64, weights: &[f64], out: &mut [u64]) {
        assert_eq!(weights.len(), out.len(), "one output per weight");
        let mut left_weight: f64 = weights.iter().sum();
        let mut left = n;
        for (w, o) in weights.iter().zip(out.iter_mut()) {
            // The last cell with weight takes the remainder exactly; rounding in `left_weight`
            // must never leave trials undrawn.
            let x = if left == 0 || *w <= 0.0 {
                0
            } else if *w >= left_weight {
                left
            } else {
                self.binomial(left, w / left_weight)
            };
            *o = x;
            left -= x;
            left_weight -= w;
        }
    }

    /// Sixteen random bytes.
    pub fn bytes16(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        out[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        out
    }

    /// Roughly uniform in `lo..=hi` by Canon's method with one correction draw, exactly as `rand`
    /// 0.9's `random_range` samples an `i128` (bias below 2^-64 per draw). The proxy's jitter was
    /// drawn this way, so its seeds keep their delays; new code wants [`range_inclusive`].
    ///
    /// [`range_inclusive`]: SeededRng::range_inclusive
    pub fn canon_i128(&mut self, lo: i128, hi: i128) -> i128 {
        assert!(lo <= hi, "SeededRng::canon_i128 needs lo <= hi");
        let range = hi.wrapping_sub(lo).wrapping_add(1) as u128;
        if range == 0 {
            return u128::draw(&mut self.0) as i128;
        }
        lo.wrapping_add(self.canon(range) as i128)
    }

    /// [`canon_i128`]'s method for a `usize`, as `rand` 0.9 samples one: from 32-bit words when
    /// `hi` fits in 32 bits (so 32- and 64-bit platforms agree), else from 64-bit words. The
    /// proxy's slice sizes were drawn this way.
    ///
    /// [`canon_i128`]: SeededRng::canon_i128
    pub fn canon_usize(&mut self, lo: usize, hi: usize) -> usize {
        assert!(lo <= hi, "SeededRng::canon_usize needs lo <= hi");
        match u32::try_from(hi) {
            Ok(hi) => {
                let lo = lo as u32;
                let range = hi.wrapping_sub(lo).wrapping_add(1);
                if range == 0 {
                    return u32::draw(&mut self.0) as usize;
                }
                lo.wrapping_add(self.canon(range)) as usize
            }
            Err(_) => {
                let (lo, hi) = (lo as u64, hi as u64);
                let range = hi.wrapping_sub(lo).wrapping_add(1);
                if range == 0 {
                    return u64::draw(&mut self.0) as usize;
                }
                lo.wrapping_add(self.canon(range)) as usize
            }
        }
    }

    /// An offset in `0..range` (`range > 0`) by Canon's method: the high half of `word * range`,
    /// plus the carry of one more product when the low half is close enough to overflow.
    fn canon<W: CanonWord>(&mut self, range: W) -> W {
        let (high, low) = W::draw(&mut self.0).wide_mul(range);
        if low > range.wrapping_neg() {
            let (extra, _) = W::draw(&mut self.0).wide_mul(range);
            if low.checked_add(extra).is_none() {
                return high.plus_one();
            }
        }
        high
    }
}

/// The stream as `rand_core` 0.10 sees a generator, which is what `rand_distr` 0.6 samples from.
struct Core010<'a, C>(&'a mut C);

impl<C: RngCore> rand_core_010::TryRng for Core010<'_, C> {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.0.next_u32())
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.0.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

/// The word sizes Canon's method runs on, each drawn as `rand` 0.9 draws it.
trait CanonWord: Copy + PartialOrd {
    fn draw(core: &mut impl RngCore) -> Self;
    /// The full product as (high half, low half).
    fn wide_mul(self, other: Self) -> (Self, Self);
    fn wrapping_neg(self) -> Self;
    fn checked_add(self, other: Self) -> Option<Self>;
    fn plus_one(self) -> Self;
}

macro_rules! canon_word {
    ($word:ty, $wide:ty, $draw:ident) => {
        impl CanonWord for $word {
            fn draw(core: &mut impl RngCore) -> Self {
                core.$draw()
            }
            fn wide_mul(self, other: Self) -> (Self, Self) {
                let product = <$wide>::from(self) * <$wide>::from(other);
                ((product >> <$word>::BITS) as $word, product as $word)
            }
            fn wrapping_neg(self) -> Self {
                <$word>::wrapping_neg(self)
            }
            fn checked_add(self, other: Self) -> Option<Self> {
                <$word>::checked_add(self, other)
            }
            fn plus_one(self) -> Self {
                self + 1
            }
        }
    };
}

canon_word!(u32, u64, next_u32);
canon_word!(u64, u128, next_u64);

impl CanonWord for u128 {
    /// Two words, the first one low.
    fn draw(core: &mut impl RngCore) -> Self {
        let low = u128::from(core.next_u64());
        (u128::from(core.next_u64()) << 64) | low
    }
    fn wide_mul(self, other: Self) -> (Self, Self) {
        // Schoolbook on 64-bit halves; `middle` is below 3 * 2^64, so it cannot overflow.
        let half = |x: u128| (x >> 64, x & u128::from(u64::MAX));
        let ((a1, a0), (b1, b0)) = (half(self), half(other));
        let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
        let middle = (p00 >> 64) + (p01 & u128::from(u64::MAX)) + (p10 & u128::from(u64::MAX));
        let low = (p00 & u128::from(u64::MAX)) | (middle << 64);
        let high = p11 + (p01 >> 64) + (p10 >> 64) + (middle >> 64);
        (high, low)
    }
    fn wrapping_neg(self) -> Self {
        u128::wrapping_neg(self)
    }
    fn checked_add(self, other: Self) -> Option<Self> {
        u128::checked_add(self, other)
    }
    fn plus_one(self) -> Self {
        self + 1
    }
}

#[cfg(test)]
mod tests;
