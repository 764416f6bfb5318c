//! Which partition a key hashes to, so a cross-partition duplicate can be sent somewhere else.
//!
//! The producer decides partitions for records without an explicit one, so the workload must hash
//! keys the way the producer does. Both common key partitioners are here; the spec names the one the
//! harness's producer is configured with.

use serde::{Deserialize, Serialize};

/// A producer's key partitioner, named as librdkafka's `partitioner` setting names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Partitioner {
    /// librdkafka's default (`consistent_random`): CRC-32 of the key, modulo the partition count.
    #[default]
    ConsistentRandom,
    /// The Java client's default (`murmur2_random` in librdkafka): positive murmur2, modulo the count.
    Murmur2Random,
}

impl Partitioner {
    /// The partition `key` lands on among `partitions` (which must be positive).
    pub fn partition(self, key: &[u8], partitions: i32) -> i32 {
        assert!(partitions > 0, "a topic has at least one partition");
        let n = partitions as u32;
        let hash = match self {
            Partitioner::ConsistentRandom => crc32(key),
            Partitioner::Murmur2Random => murmur2(key) & 0x7fff_ffff,
        };
        (hash % n) as i32
    }
}

/// CRC-32 (IEEE 802.3, reflected), as librdkafka's `rd_crc32`.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

/// Kafka's murmur2 (seed 0x9747b28c), as the Java client's `Utils.murmur2`.
fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h: u32 = 0x9747_b28c ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate().rev() {
            h ^= u32::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn murmur2_matches_the_java_client() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (key, want) in cases {
            assert_eq!(
                murmur2(key) as i32,
                want,
                "{}",
                String::from_utf8_lossy(key)
            );
        }
    }

    proptest! {
        #[test]
        fn partition_is_in_range(key: Vec<u8>, n in 1i32..10_000) {
            for p in [Partitioner::ConsistentRandom, Partitioner::Murmur2Random] {
                let got = p.partition(&key, n);
                prop_assert!((0..n).contains(&got));
            }
        }
    }
}
