//! `Workload`: the records in send order, each with what the pipeline must do with it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::reason::ReasonCode;

/// What the pipeline must do with one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Expectation {
    /// Apply it: the transaction is stored once and moves `account_id`'s balance by `delta_cents`.
    Valid {
        /// The transaction's idempotency key.
        transaction_id: String,
        /// The account it changes.
        account_id: String,
        /// Signed balance change (credit positive, debit negative).
        delta_cents: i64,
    },
    /// Byte-identical re-send of record `of_seq`: must have no effect.
    Duplicate {
        /// `seq` of the first copy.
        of_seq: u64,
        /// The transaction it repeats.
        transaction_id: String,
    },
    /// Quarantine it with `reason`.
    Malformed {
        /// The reason code the pipeline must report.
        reason: ReasonCode,
    },
    /// A record from the user's file (see [`from_recorded`](crate::from_recorded())): the harness
    /// knows nothing of its meaning; the pipeline must process it as it would in production.
    Recorded {
        /// 1-based line of the user's file it was read from.
        line: u64,
    },
    /// Byte-identical re-send (key, value, headers and partition) of recorded record `of_seq`: the
    /// pipeline must treat it as it treats any re-delivery of that record in production.
    RecordedDuplicate {
        /// `seq` of the first copy.
        of_seq: u64,
    },
}

/// One Kafka record to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadRecord {
    /// Position in send order, from 0.
    pub seq: u64,
    /// Record key: the account id bytes for generated records.
    pub key: Option<Vec<u8>>,
    /// Record value, exactly as it must be sent.
    pub value: Vec<u8>,
    /// Explicit partition; `Some` only for cross-partition duplicates and recorded records that name
    /// one, otherwise the producer's key partitioner decides.
    pub partition: Option<i32>,
    /// Record headers in send order, a name may repeat; empty for generated records.
    pub headers: Vec<(String, Vec<u8>)>,
    /// What the pipeline must do with it.
    pub expect: Expectation,
}

/// What the oracle knows about one valid transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedEvent {
    /// `seq` of its first copy.
    pub seq: u64,
    /// The account it changes.
    pub account_id: String,
    /// Signed balance change.
    pub delta_cents: i64,
}

/// How many records of each kind a workload holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// All records.
    pub records: u64,
    /// First copies of valid events.
    pub valid: u64,
    /// First copies of the user's recorded records; left out of the JSON when zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub recorded: u64,
    /// Byte-identical re-sends, of valid events and of recorded records.
    pub duplicates: u64,
    /// Of the duplicates, those sent with an explicit partition.
    pub cross_partition_duplicates: u64,
    /// Malformed records by reason; reasons with no records are absent.
    pub malformed: BTreeMap<ReasonCode, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Counts {
    /// All malformed records.
    pub fn malformed_total(&self) -> u64 {
        self.malformed.values().sum()
    }
}

/// A generated workload: records in send order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workload {
    /// The records, `records[i].seq == i`.
    pub records: Vec<WorkloadRecord>,
}

impl Workload {
    /// Hex SHA-256 over every record's key, value, partition and headers, in order. Equal digests
    /// mean the same bytes go to Kafka in the same order. Records without headers hash exactly as
    /// before headers existed, so the digests of generated workloads (which have none) are unchanged.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"faultline-workload-digest/v1");
        for r in &self.records {
            match &r.key {
                Some(key) => {
                    h.update([1u8]);
                    h.update((key.len() as u64).to_le_bytes());
                    h.update(key);
                }
                None => h.update([0u8]),
            }
            h.update((r.value.len() as u64).to_le_bytes());
            h.update(&r.value);
            match r.partition {
                Some(p) => {
                    h.update([1u8]);
                    h.update(p.to_le_bytes());
                }
                None => h.update([0u8]),
            }
            if !r.headers.is_empty() {
                // 2 cannot start a record (a key is marked 0 or 1), so this never reads as one.
                h.update([2u8]);
                h.update((r.headers.len() as u64).to_le_bytes());
                for (name, value) in &r.headers {
                    h.update((name.len() as u64).to_le_bytes());
                    h.update(name.as_bytes());
                    h.update((value.len() as u64).to_le_bytes());
                    h.update(value);
                }
            }
        }
        to_hex(&h.finalize())
    }

    /// Final balance of every account that has at least one valid event: the sum of its unique
    /// valid deltas. Cannot overflow: at most 2,000,000 events of at most 10^11 cents.
    pub fn expected_balances(&self) -> BTreeMap<String, i64> {
        let mut balances = BTreeMap::new();
        for r in &self.records {
            if let Expectation::Valid {
                account_id,
                delta_cents,
                ..
            } = &r.expect
            {
                *balances.entry(account_id.clone()).or_insert(0) += delta_cents;
            }
        }
        balances
    }

    /// Every transaction that must be stored exactly once, by transaction id.
    pub fn expected_valid(&self) -> BTreeMap<String, ExpectedEvent> {
        self.records
            .iter()
            .filter_map(|r| match &r.expect {
                Expectation::Valid {
                    transaction_id,
                    account_id,
                    delta_cents,
                } => Some((
                    transaction_id.clone(),
                    ExpectedEvent {
                        seq: r.seq,
                        account_id: account_id.clone(),
                        delta_cents: *delta_cents,
                    },
                )),
                _ => None,
            })
            .collect()
    }

    /// Every record that must be quarantined, as `(seq, reason)` in send order.
    pub fn expected_quarantine(&self) -> Vec<(u64, ReasonCode)> {
        self.records
            .iter()
            .filter_map(|r| match r.expect {
                Expectation::Malformed { reason } => Some((r.seq, reason)),
                _ => None,
            })
            .collect()
    }

    /// Records by kind.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            records: self.records.len() as u64,
            ..Counts::default()
        };
        for r in &self.records {
            match r.expect {
                Expectation::Valid { .. } => counts.valid += 1,
                Expectation::Duplicate { .. } => {
                    counts.duplicates += 1;
                    if r.partition.is_some() {
                        counts.cross_partition_duplicates += 1;
                    }
                }
                Expectation::Malformed { reason } => {
                    *counts.malformed.entry(reason).or_insert(0) += 1
                }
                Expectation::Recorded { .. } => counts.recorded += 1,
                // A recorded record's partition is the user's, never a cross-partition move.
                Expectation::RecordedDuplicate { .. } => counts.duplicates += 1,
            }
        }
        counts
    }
}

/// Lower-case hex.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Parses hex (either case); `None` on odd length or a non-hex digit.
pub(crate) fn from_hex(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rec(seq: u64, value: &[u8], expect: Expectation) -> WorkloadRecord {
        WorkloadRecord {
            seq,
            key: Some(b"acct-000001".to_vec()),
            value: value.to_vec(),
            partition: None,
            headers: Vec::new(),
            expect,
        }
    }

    fn valid(seq: u64, id: &str, account: &str, delta: i64) -> WorkloadRecord {
        rec(
            seq,
            id.as_bytes(),
            Expectation::Valid {
                transaction_id: id.into(),
                account_id: account.into(),
                delta_cents: delta,
            },
        )
    }

    #[test]
    fn summaries_follow_the_expectations() {
        let w = Workload {
            records: vec![
                valid(0, "t1", "acct-000001", 500),
                valid(1, "t2", "acct-000002", -200),
                rec(
                    2,
                    b"t1",
                    Expectation::Duplicate {
                        of_seq: 0,
                        transaction_id: "t1".into(),
                    },
                ),
                rec(
                    3,
                    b"",
                    Expectation::Malformed {
                        reason: ReasonCode::EmptyRecord,
                    },
                ),
                valid(4, "t3", "acct-000001", -700),
            ],
        };
        assert_eq!(
            w.expected_balances(),
            BTreeMap::from([
                ("acct-000001".to_string(), -200),
                ("acct-000002".to_string(), -200)
            ])
        );
        assert_eq!(
            w.expected_valid()["t3"],
            ExpectedEvent {
                seq: 4,
                account_id: "acct-000001".into(),
                delta_cents: -700
            }
        );
        assert_eq!(w.expected_quarantine(), vec![(3, ReasonCode::EmptyRecord)]);
        let c = w.counts();
        assert_eq!(
            (c.records, c.valid, c.duplicates, c.malformed_total()),
            (5, 3, 1, 1)
        );
    }

    #[test]
    fn digest_sees_partition_and_key_presence() {
        let a = Workload {
            records: vec![valid(0, "t1", "a", 1)],
        };
        let mut b = a.clone();
        b.records[0].partition = Some(0);
        let mut c = a.clone();
        c.records[0].key = None;
        assert_eq!(a.digest(), a.clone().digest());
        assert_ne!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
        assert_eq!(a.digest().len(), 64);
    }

    #[test]
    fn digest_sees_headers_only_when_there_are_some() {
        let a = Workload {
            records: vec![valid(0, "t1", "a", 1), valid(1, "t2", "a", 2)],
        };
        // Headerless digests are pinned by generate's `pinned_digest_for_seed_42`.
        let mut b = a.clone();
        b.records[0].headers = vec![("h".into(), b"v".to_vec())];
        let mut c = a.clone();
        c.records[0].headers = vec![("h".into(), b"w".to_vec())];
        let mut d = a.clone();
        d.records[1].headers = vec![("h".into(), b"v".to_vec())];
        let digests = [a.digest(), b.digest(), c.digest(), d.digest()];
        let distinct: std::collections::BTreeSet<_> = digests.iter().collect();
        assert_eq!(distinct.len(), 4, "{digests:?}");
    }

    #[test]
    fn recorded_records_are_counted_and_judge_nothing() {
        let w = Workload {
            records: vec![
                rec(0, b"{}", Expectation::Recorded { line: 1 }),
                rec(1, b"{}", Expectation::RecordedDuplicate { of_seq: 0 }),
                rec(
                    2,
                    b"",
                    Expectation::Malformed {
                        reason: ReasonCode::EmptyRecord,
                    },
                ),
            ],
        };
        let c = w.counts();
        assert_eq!(
            (
                c.records,
                c.valid,
                c.recorded,
                c.duplicates,
                c.malformed_total()
            ),
            (3, 0, 1, 1, 1)
        );
        assert!(w.expected_balances().is_empty());
        assert!(w.expected_valid().is_empty());
        assert_eq!(w.expected_quarantine(), vec![(2, ReasonCode::EmptyRecord)]);
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"recorded\":1"), "{json}");
        let generated = serde_json::to_string(&Counts::default()).unwrap();
        assert!(!generated.contains("recorded"), "{generated}");
    }

    #[test]
    fn digest_does_not_confuse_split_points() {
        let mut a = Workload {
            records: vec![valid(0, "ab", "a", 1)],
        };
        a.records[0].key = Some(b"x".to_vec());
        let mut b = a.clone();
        b.records[0].key = Some(b"xa".to_vec());
        b.records[0].value = b"b".to_vec();
        assert_ne!(a.digest(), b.digest());
    }

    proptest! {
        #[test]
        fn hex_round_trips(bytes: Vec<u8>) {
            prop_assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes));
        }
    }

    #[test]
    fn bad_hex_is_refused() {
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex("AB"), Some(vec![0xab]));
    }
}
