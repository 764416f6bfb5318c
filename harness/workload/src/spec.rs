//! `WorkloadSpec`: the knobs of one workload, as written in a scenario file, and their ranges.

use serde::{Deserialize, Serialize};

use crate::partition::Partitioner;
use crate::reason::ReasonCode;

/// Upper bound of `events`.
pub const MAX_EVENTS: u64 = 2_000_000;
/// Upper bound of `accounts` (account ids have six digits).
pub const MAX_ACCOUNTS: u64 = 1_000_000;
/// Upper bound of `partitions`.
pub const MAX_PARTITIONS: i32 = 10_000;
/// Upper bound of `duplicate_burst`.
pub const MAX_DUPLICATE_BURST: u32 = 10;
/// Upper bound of `out_of_order_window`.
pub const MAX_OUT_OF_ORDER_WINDOW: u32 = 100_000;
/// Upper bound of `poison_pills`.
pub const MAX_POISON_PILLS: u64 = 100_000;
/// Upper bound of `oversized` (each such record is up to 256 KiB).
pub const MAX_OVERSIZED: u64 = 10_000;

/// What to generate. Every field has a default, so `{}` is a valid spec: 1,000 clean events.
///
/// Ratios are fractions of `events` and turn into exact counts (`round(events * ratio)`), so a spec
/// always yields the same number of each kind of record. For a workload of recorded events
/// ([`from_recorded`](crate::from_recorded())) they are fractions of the file's records, and only
/// some fields apply: see [`recorded`](crate::recorded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadSpec {
    /// Seed of every random draw. Default 0.
    pub seed: u64,
    /// Number of valid, unique events (distinct transaction ids). Default 1,000; 0..=2,000,000.
    pub events: u64,
    /// Number of accounts the events spread over, `acct-000000` upwards. Default 100; 1..=1,000,000.
    pub accounts: u64,
    /// Partitions of the topic; only used to pick a wrong partition for cross-partition
    /// duplicates. Default 6; 1..=10,000.
    pub partitions: i32,
    /// Fraction of valid events that are re-sent as byte-identical copies. Default 0.0; 0.0..=1.0.
    pub duplicate_ratio: f64,
    /// Most copies one re-sent event gets (each gets 1..=burst). Default 3; 1..=10.
    pub duplicate_burst: u32,
    /// When true, about half of the copies carry an explicit partition different from the one
    /// their key hashes to, so deduplication must work across partitions. Needs `partitions >= 2`.
    /// Default false.
    pub cross_partition_duplicates: bool,
    /// The producer's key partitioner (`consistent_random`, librdkafka's default, or
    /// `murmur2_random`, the Java client's); cross-partition duplicates avoid the partition it picks.
    /// Default `consistent_random`.
    pub partitioner: Partitioner,
    /// Valid events are sent out of event-time order, each moved by fewer than this many places.
    /// 0 or 1 keeps event-time order. Default 0; 0..=100,000.
    pub out_of_order_window: u32,
    /// Fraction of valid events whose `created_at` lies 1 to 30 days before their neighbours'.
    /// Default 0.0; 0.0..=1.0.
    pub late_ratio: f64,
    /// Malformed records to add, as a fraction of `events`; each has exactly one problem, drawn
    /// from `malformed_kinds`. Default 0.0; 0.0..=1.0.
    pub malformed_ratio: f64,
    /// Which problems malformed records may have (reason codes). Default: the whole catalogue.
    /// Must be non-empty when `malformed_ratio > 0`.
    pub malformed_kinds: Vec<ReasonCode>,
    /// Extra poison-pill records: unterminated JSON nested 10,000 deep (`invalid_json`).
    /// Default 0; 0..=100,000.
    pub poison_pills: u64,
    /// Extra records just over the size limit, up to 256 KiB (`oversized`). Default 0; 0..=10,000.
    pub oversized: u64,
    /// Fraction of valid events written with schema version 2 (with `channel`).
    /// Default 0.0; 0.0..=1.0.
    pub schema_v2_ratio: f64,
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            seed: 0,
            events: 1_000,
            accounts: 100,
            partitions: 6,
            duplicate_ratio: 0.0,
            duplicate_burst: 3,
            cross_partition_duplicates: false,
            partitioner: Partitioner::ConsistentRandom,
            out_of_order_window: 0,
            late_ratio: 0.0,
            malformed_ratio: 0.0,
            malformed_kinds: ReasonCode::ALL.to_vec(),
            poison_pills: 0,
            oversized: 0,
            schema_v2_ratio: 0.0,
        }
    }
}

/// A spec field outside its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("workload spec: field `{field}` = {value} is not allowed; expected {allowed}")]
pub struct SpecError {
    /// The offending field, as spelled in the scenario file.
    pub field: &'static str,
    /// The value found.
    pub value: String,
    /// The allowed range, in words.
    pub allowed: String,
}

impl WorkloadSpec {
    /// Checks every field against its range; the error names the first offending field.
    pub fn validate(&self) -> Result<(), SpecError> {
        int_in("events", self.events, 0, MAX_EVENTS)?;
        int_in("accounts", self.accounts, 1, MAX_ACCOUNTS)?;
        int_in("partitions", self.partitions, 1, MAX_PARTITIONS)?;
        ratio("duplicate_ratio", self.duplicate_ratio)?;
        int_in(
            "duplicate_burst",
            self.duplicate_burst,
            1,
            MAX_DUPLICATE_BURST,
        )?;
        if self.cross_partition_duplicates && self.partitions < 2 {
            return Err(SpecError {
                field: "cross_partition_duplicates",
                value: "true".into(),
                allowed: format!(
                    "false when partitions = {} (needs partitions >= 2)",
                    self.partitions
                ),
            });
        }
        int_in(
            "out_of_order_window",
            self.out_of_order_window,
            0,
            MAX_OUT_OF_ORDER_WINDOW,
        )?;
        ratio("late_ratio", self.late_ratio)?;
        ratio("malformed_ratio", self.malformed_ratio)?;
        if self.malformed_ratio > 0.0 && self.malformed_kinds.is_empty() {
            let names: Vec<&str> = ReasonCode::ALL.iter().map(|r| r.as_str()).collect();
            return Err(SpecError {
                field: "malformed_kinds",
                value: "[]".into(),
                allowed: format!(
                    "a non-empty list when malformed_ratio > 0, of: {}",
                    names.join(", ")
                ),
            });
        }
        int_in("poison_pills", self.poison_pills, 0, MAX_POISON_PILLS)?;
        int_in("oversized", self.oversized, 0, MAX_OVERSIZED)?;
        ratio("schema_v2_ratio", self.schema_v2_ratio)?;
        Ok(())
    }

    /// `malformed_kinds` without repeats, in catalogue order, so the list's order and repeats in
    /// the scenario file do not change the draws.
    pub(crate) fn distinct_malformed_kinds(&self) -> Vec<ReasonCode> {
        ReasonCode::ALL
            .into_iter()
            .filter(|r| self.malformed_kinds.contains(r))
            .collect()
    }

    /// `round(events * ratio)`; exact IEEE arithmetic, the same on every platform.
    pub(crate) fn count_of(&self, ratio: f64) -> u64 {
        share_of(self.events, ratio)
    }
}

/// `round(n * ratio)`, the one rounding rule that turns every ratio into a count.
pub(crate) fn share_of(n: u64, ratio: f64) -> u64 {
    (n as f64 * ratio).round() as u64
}

fn ratio(field: &'static str, value: f64) -> Result<(), SpecError> {
    // NaN fails `contains` too, so it is reported like any other bad value.
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(SpecError {
            field,
            value: value.to_string(),
            allowed: "a fraction in 0.0..=1.0".into(),
        })
    }
}

fn int_in<T: PartialOrd + std::fmt::Display>(
    field: &'static str,
    value: T,
    lo: T,
    hi: T,
) -> Result<(), SpecError> {
    if value >= lo && value <= hi {
        Ok(())
    } else {
        Err(SpecError {
            field,
            value: value.to_string(),
            allowed: format!("an integer in {lo}..={hi}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_spec_takes_every_default() {
        let spec: WorkloadSpec = serde_json::from_str("{}").unwrap();
        assert_eq!(spec, WorkloadSpec::default());
        assert_eq!(spec.malformed_kinds.len(), ReasonCode::ALL.len());
        spec.validate().unwrap();
    }

    #[test]
    fn misspelled_field_is_rejected_by_name() {
        let err = serde_json::from_str::<WorkloadSpec>(r#"{"duplicate_ration": 0.1}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate_ration"), "{err}");
    }

    #[test]
    fn unknown_malformed_kind_is_rejected() {
        let err = serde_json::from_str::<WorkloadSpec>(r#"{"malformed_kinds": ["bad_json"]}"#)
            .unwrap_err();
        assert!(err.to_string().contains("bad_json"), "{err}");
    }

    #[test]
    fn each_out_of_range_field_is_named_with_its_range() {
        let cases: Vec<(&str, WorkloadSpec)> = vec![
            (
                "events",
                WorkloadSpec {
                    events: MAX_EVENTS + 1,
                    ..Default::default()
                },
            ),
            (
                "accounts",
                WorkloadSpec {
                    accounts: 0,
                    ..Default::default()
                },
            ),
            (
                "partitions",
                WorkloadSpec {
                    partitions: 0,
                    ..Default::default()
                },
            ),
            (
                "duplicate_ratio",
                WorkloadSpec {
                    duplicate_ratio: 1.5,
                    ..Default::default()
                },
            ),
            (
                "duplicate_burst",
                WorkloadSpec {
                    duplicate_burst: 0,
                    ..Default::default()
                },
            ),
            (
                "cross_partition_duplicates",
                WorkloadSpec {
                    cross_partition_duplicates: true,
                    partitions: 1,
                    ..Default::default()
                },
            ),
            (
                "out_of_order_window",
                WorkloadSpec {
                    out_of_order_window: MAX_OUT_OF_ORDER_WINDOW + 1,
                    ..Default::default()
                },
            ),
            (
                "late_ratio",
                WorkloadSpec {
                    late_ratio: -0.1,
                    ..Default::default()
                },
            ),
            (
                "malformed_ratio",
                WorkloadSpec {
                    malformed_ratio: f64::NAN,
                    ..Default::default()
                },
            ),
            (
                "malformed_kinds",
                WorkloadSpec {
                    malformed_ratio: 0.1,
                    malformed_kinds: vec![],
                    ..Default::default()
                },
            ),
            (
                "poison_pills",
                WorkloadSpec {
                    poison_pills: MAX_POISON_PILLS + 1,
                    ..Default::default()
                },
            ),
            (
                "oversized",
                WorkloadSpec {
                    oversized: MAX_OVERSIZED + 1,
                    ..Default::default()
                },
            ),
            (
                "schema_v2_ratio",
                WorkloadSpec {
                    schema_v2_ratio: 2.0,
                    ..Default::default()
                },
            ),
        ];
        for (field, spec) in cases {
            let err = spec.validate().expect_err(field);
            assert_eq!(err.field, field);
            let message = err.to_string();
            assert!(message.contains(&format!("`{field}`")), "{message}");
            assert!(message.contains("expected"), "{message}");
        }
    }

    #[test]
    fn range_message_spells_out_the_bounds() {
        let err = WorkloadSpec {
            duplicate_burst: 11,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "workload spec: field `duplicate_burst` = 11 is not allowed; expected an integer in 1..=10"
        );
    }

    #[test]
    fn kinds_are_deduplicated_in_catalogue_order() {
        let spec = WorkloadSpec {
            malformed_kinds: vec![
                ReasonCode::WrongType,
                ReasonCode::NotUtf8,
                ReasonCode::WrongType,
            ],
            ..Default::default()
        };
        assert_eq!(
            spec.distinct_malformed_kinds(),
            vec![ReasonCode::NotUtf8, ReasonCode::WrongType]
        );
    }

    proptest! {
        #[test]
        fn every_ratio_in_unit_interval_validates(r in 0.0f64..=1.0) {
            let spec = WorkloadSpec {
                duplicate_ratio: r, late_ratio: r, malformed_ratio: r, schema_v2_ratio: r,
                ..Default::default()
            };
            prop_assert!(spec.validate().is_ok());
            prop_assert!(spec.count_of(r) <= spec.events);
        }
    }
}
