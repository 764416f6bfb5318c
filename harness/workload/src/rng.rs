//! The seeded RNG tree: one ChaCha20 key per seed, one independent stream per concern.
//!
//! The key derivation is here; the draws are [`faultline_rng::SeededRng`]'s, written there instead of
//! taken from `rand`'s distributions, so the bytes a seed produces depend only on ChaCha20, this
//! derivation and those draws, not on a `rand` release.

use sha2::{Digest, Sha256};

pub use faultline_rng::SeededRng;

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
    /// Recorded workloads: the bounded shuffle of the user's records.
    RecordedOrder = 11,
    /// Recorded workloads: which records are re-sent, how often and where.
    RecordedDuplicates = 12,
    /// Recorded workloads: ratio-driven malformed copies (kind, source record, damage, place).
    RecordedMalformed = 13,
    /// Recorded workloads: poison pills (source record, shape, place).
    RecordedPoisonPills = 14,
    /// Recorded workloads: oversized copies from the `oversized` count.
    RecordedOversized = 15,
}

/// The stream for `concern` under `seed`.
pub fn seeded(seed: u64, concern: Concern) -> SeededRng {
    // The key is a hash of the seed so that nearby seeds give unrelated keys without relying on
    // any particular seed-expansion routine.
    let mut hasher = Sha256::new();
    hasher.update(b"faultline-workload/v1/");
    hasher.update(seed.to_le_bytes());
    SeededRng::chacha20(hasher.finalize().into(), concern as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_concern_repeat_and_concerns_differ() {
        let words = |concern| {
            let mut r = seeded(7, concern);
            (0..8).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(words(Concern::Events), words(Concern::Events));
        assert_ne!(words(Concern::Events), words(Concern::Malformed));
    }

    const PIN_WORDS: [u64; 3] = [
        5_620_621_194_711_966_468,
        11_368_721_296_387_045_733,
        3_614_816_943_956_223_826,
    ];
    const PIN_BELOW: [u64; 4] = [768, 800, 692, 83];
    const PIN_RANGES: [u64; 3] = [15, 13, 12];
    const PIN_CHANCES: [bool; 8] = [false, false, false, true, false, true, false, false];
    const PIN_SAMPLE: [usize; 5] = [14, 28, 70, 74, 97];
    const PIN_BYTES: [u8; 16] = [
        32, 15, 14, 146, 150, 191, 77, 64, 163, 120, 153, 224, 30, 82, 136, 158,
    ];
    const PIN_FAULT: u64 = 12_484_847_209_878_472_957;

    /// Recorded seeds must keep their workloads: these values were drawn before the draws moved to
    /// faultline-rng and must never change.
    #[test]
    fn draws_are_pinned() {
        let mut r = seeded(42, Concern::Events);
        let words: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let below: Vec<u64> = (0..4).map(|_| r.below(1000)).collect();
        let ranges: Vec<u64> = (0..3).map(|_| r.range_inclusive(10, 20)).collect();
        let chances: Vec<bool> = (0..8).map(|_| r.chance(0.3)).collect();
        let sample = r.sample_indices(100, 5);
        let bytes = r.bytes16();
        assert_eq!(words, PIN_WORDS);
        assert_eq!(below, PIN_BELOW);
        assert_eq!(ranges, PIN_RANGES);
        assert_eq!(chances, PIN_CHANCES);
        assert_eq!(sample, PIN_SAMPLE);
        assert_eq!(bytes, PIN_BYTES);
        assert_eq!(seeded(7, Concern::FaultSchedule).next_u64(), PIN_FAULT);
    }
}
