//! The seeded draws: one ChaCha20 stream per (proxy seed, connection index, toxic id, concern).
//!
//! The key is the three numbers side by side, not a hash of them, so no two streams of one proxy
//! can collide. Each concern (whether the toxic applies, the upstream stream's draws, the downstream
//! stream's draws) has its own ChaCha stream number, so the two pumps of a connection never share
//! or race for draws. The draws themselves are faultline-rng's: `bernoulli` and its Canon-method
//! ranges, the conversions `rand` 0.9 made when the proxy used it, so recorded seeds keep their
//! decisions.

use std::time::Duration;

use faultline_rng::SeededRng;

use crate::{Direction, ToxicId};

/// What a stream of draws is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Concern {
    /// The one per-connection probability draw.
    Applies,
    /// Jitter and slice sizes of one direction's byte stream.
    Stream(Direction),
}

/// The stream of draws for `concern` of toxic `toxic` on connection `conn` of a proxy seeded `seed`.
pub(crate) fn draws(seed: u64, conn: u64, toxic: ToxicId, concern: Concern) -> SeededRng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&conn.to_le_bytes());
    key[16..24].copy_from_slice(&toxic.0.to_le_bytes());
    let stream = match concern {
        Concern::Applies => 0,
        Concern::Stream(Direction::Upstream) => 1,
        Concern::Stream(Direction::Downstream) => 2,
        Concern::Stream(Direction::Both) => 3,
    };
    SeededRng::chacha20(key, stream)
}

/// Whether toxic `toxic` with `probability` applies to connection `conn`; the same answer for both
/// directions, every time it is asked.
pub(crate) fn applies(seed: u64, conn: u64, toxic: ToxicId, probability: f64) -> bool {
    if probability >= 1.0 {
        return true;
    }
    if probability.is_nan() || probability <= 0.0 {
        return false;
    }
    draws(seed, conn, toxic, Concern::Applies).bernoulli(probability)
}

/// One chunk's delay: `latency_ms` plus a uniform draw in `-jitter_ms..=jitter_ms`, at microsecond
/// resolution, never below zero.
pub(crate) fn latency(rng: &mut SeededRng, latency_ms: u64, jitter_ms: u64) -> Duration {
    let base = latency_ms.saturating_mul(1000) as i128;
    if jitter_ms == 0 {
        return Duration::from_micros(base as u64);
    }
    let jitter = jitter_ms.saturating_mul(1000) as i128;
    let offset = rng.canon_i128(-jitter, jitter);
    Duration::from_micros((base + offset).max(0) as u64)
}

/// One slice's length: a uniform draw in `average ± variation`, at least 1 byte.
pub(crate) fn slice_len(rng: &mut SeededRng, average: usize, variation: usize) -> usize {
    if variation == 0 {
        return average.max(1);
    }
    rng.canon_usize(
        average.saturating_sub(variation),
        average.saturating_add(variation),
    )
    .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOWN: Concern = Concern::Stream(Direction::Downstream);

    fn jitters(seed: u64, conn: u64, toxic: u64) -> Vec<Duration> {
        let mut rng = draws(seed, conn, ToxicId(toxic), DOWN);
        (0..32).map(|_| latency(&mut rng, 100, 40)).collect()
    }

    #[test]
    fn same_seed_connection_and_toxic_give_the_same_jitter() {
        assert_eq!(jitters(7, 3, 1), jitters(7, 3, 1));
        assert_ne!(
            jitters(7, 3, 1),
            jitters(8, 3, 1),
            "the seed changes the draws"
        );
        assert_ne!(
            jitters(7, 3, 1),
            jitters(7, 4, 1),
            "the connection index changes the draws"
        );
        assert_ne!(
            jitters(7, 3, 1),
            jitters(7, 3, 2),
            "the toxic id changes the draws"
        );
        assert!(jitters(7, 3, 1)
            .iter()
            .all(|d| (60_000..=140_000).contains(&d.as_micros())));
    }

    #[test]
    fn directions_draw_from_separate_streams() {
        let mut up = draws(1, 0, ToxicId(1), Concern::Stream(Direction::Upstream));
        let mut down = draws(1, 0, ToxicId(1), DOWN);
        let up: Vec<_> = (0..8).map(|_| slice_len(&mut up, 100, 50)).collect();
        let down: Vec<_> = (0..8).map(|_| slice_len(&mut down, 100, 50)).collect();
        assert_ne!(up, down);
    }

    #[test]
    fn same_seed_gives_the_same_slice_sizes_within_bounds() {
        let sizes = |seed| {
            let mut rng = draws(seed, 0, ToxicId(1), DOWN);
            (0..64)
                .map(|_| slice_len(&mut rng, 10, 4))
                .collect::<Vec<_>>()
        };
        assert_eq!(sizes(42), sizes(42));
        assert_ne!(sizes(42), sizes(43));
        assert!(sizes(42).iter().all(|n| (6..=14).contains(n)));
        assert!(sizes(42).iter().any(|&n| n != 10), "variation is used");
    }

    #[test]
    fn jitter_never_goes_negative() {
        let mut rng = draws(0, 0, ToxicId(1), DOWN);
        let delays: Vec<_> = (0..200).map(|_| latency(&mut rng, 1, 50)).collect();
        assert!(
            delays.contains(&Duration::ZERO),
            "draws below zero are clamped to zero"
        );
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(51)));
    }

    const PIN_APPLIES: [bool; 16] = [
        true, false, false, false, false, true, true, true, true, false, false, false, false, true,
        false, true,
    ];
    const PIN_LATENCY: [u128; 5] = [93_231, 97_088, 117_226, 82_072, 129_584];
    const PIN_WIDE: [u128; 3] = [13_067_600_563_680_967_257, 0, 16_471_554_425_875_411_576];
    const PIN_SMALL: [usize; 5] = [89, 75, 69, 74, 113];
    const PIN_LARGE: [usize; 3] = [1_071_371_598_958, 823_205_095_958, 1_158_012_550_572];
    const PIN_AFTER: [usize; 3] = [6, 7, 7];

    /// Recorded seeds must keep their faults: these values were drawn with `rand` 0.9's
    /// `random`/`random_range` before the draws moved to faultline-rng, and must never change.
    #[test]
    fn draws_are_pinned() {
        let applies: Vec<bool> = (0..16).map(|c| applies(42, c, ToxicId(3), 0.4)).collect();
        let mut up = draws(42, 1, ToxicId(3), Concern::Stream(Direction::Upstream));
        let lat: Vec<u128> = (0..5)
            .map(|_| latency(&mut up, 100, 40).as_micros())
            .collect();
        // A jitter range wider than 64 bits takes the 128-bit path.
        let wide: Vec<u128> = (0..3)
            .map(|_| latency(&mut up, 5, u64::MAX / 1000).as_micros())
            .collect();
        let mut down = draws(42, 1, ToxicId(3), DOWN);
        let small: Vec<usize> = (0..5).map(|_| slice_len(&mut down, 100, 50)).collect();
        // Bounds past 32 bits draw 64-bit words instead of 32-bit ones.
        let large: Vec<usize> = (0..3)
            .map(|_| slice_len(&mut down, 1 << 40, 1 << 39))
            .collect();
        let after: Vec<usize> = (0..3).map(|_| slice_len(&mut down, 7, 3)).collect();
        assert_eq!(applies, PIN_APPLIES);
        assert_eq!(lat, PIN_LATENCY);
        assert_eq!(wide, PIN_WIDE);
        assert_eq!(small, PIN_SMALL);
        assert_eq!(large, PIN_LARGE);
        assert_eq!(after, PIN_AFTER);
    }

    #[test]
    fn probability_zero_never_applies_and_one_always_does() {
        for conn in 0..200 {
            assert!(!applies(9, conn, ToxicId(1), 0.0));
            assert!(applies(9, conn, ToxicId(1), 1.0));
        }
        let hits = (0..1000)
            .filter(|&conn| applies(9, conn, ToxicId(1), 0.3))
            .count();
        assert!(
            (200..400).contains(&hits),
            "p=0.3 applied to {hits} of 1000 connections"
        );
        let replay = (0..1000)
            .filter(|&conn| applies(9, conn, ToxicId(1), 0.3))
            .count();
        assert_eq!(hits, replay);
    }
}
