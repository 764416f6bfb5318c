//! `from_recorded`: a workload of the user's own recorded events, with the scenario's record faults
//! on top.
//!
//! # The file
//!
//! JSON lines, one record per line, in send order. Blank lines are skipped; an empty file is an
//! error.
//!
//! ```text
//! {"key": "o-000123", "value": {"order_id": "o-000123", "status": "paid"}}
//! {"key": null, "value_b64": "//4AZ2FyYmFnZQ==", "partition": 2, "headers": {"trace": "abc"}}
//! ```
//!
//! | field | | meaning |
//! | --- | --- | --- |
//! | `key` | string or null, may be left out (null) | the record key, as UTF-8 bytes; null sends no key |
//! | `value` | any JSON but `null` | the value: the bytes of the JSON text exactly as written on the line (spacing, key order and escapes kept), not a re-rendering |
//! | `value_b64` | string | the value as standard base64 with `=` padding, for bytes that are not JSON |
//! | `partition` | integer, optional | explicit partition, `0..spec.partitions`; left out, the producer's partitioner chooses |
//! | `headers` | object of strings, optional | headers in the order written (a repeated name is sent twice), values as UTF-8 bytes |
//!
//! Exactly one of `value` and `value_b64`. Any other field is an error; so are a `null` value (a
//! tombstone cannot be sent), bad base64, and a negative or out-of-range partition. Every error
//! names the file, the 1-based line and the fix.
//!
//! # What the spec does here
//!
//! Ratios are fractions of the file's record count `n`, rounded as in [`generate`](crate::generate())
//! (`round(n * ratio)`). Applied:
//!
//! - `seed`: every draw below, each family from its own stream (`Recorded*` in [`Concern`]).
//! - `partitions`: the topic's partition count; a line's `partition` must be below it.
//! - `out_of_order_window`: each recorded record is moved by fewer than this many places among the
//!   recorded records (0 or 1 keeps file order).
//! - `duplicate_ratio`, `duplicate_burst`: `round(n * duplicate_ratio)` distinct records are re-sent
//!   `1..=duplicate_burst` times each, as copies identical in key, value, headers and partition,
//!   always after the first copy ([`Expectation::RecordedDuplicate`]).
//! - `malformed_ratio`, `malformed_kinds`: `round(n * malformed_ratio)` copies of random recorded
//!   records, each with one byte-level problem drawn from `malformed_kinds` (`oversized`,
//!   `empty_record`, `not_utf8`, `invalid_json`, `not_an_object`; the schema-level kinds mean
//!   nothing for events whose schema the harness does not know and are skipped). A positive ratio
//!   with no byte-level kind is an error.
//! - `poison_pills`, `oversized`: that many extra copies of random recorded records with the value
//!   replaced by a poison pill, or padded with spaces to 64 KiB + 1 ..= 256 KiB.
//!
//! Ignored: `events`, `accounts`, `late_ratio`, `schema_v2_ratio`, `cross_partition_duplicates` and
//! `partitioner` (they describe generated ledger events). The whole spec is still validated.
//!
//! Every added record keeps the key, headers and partition of the record it copies. The recorded
//! records are [`Expectation::Recorded`]: the harness knows nothing of their meaning, and the
//! pipeline must process them as it would in production. The same file and spec give the same
//! records, byte for byte and in the same order.

mod damage;
mod parse;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::file::FileError;
use crate::malformed::poison_pill_value;
use crate::place::{duplicate_gap, interleave, within_window, Placed, Slot};
use crate::reason::{ReasonCode, MAX_RECORD_BYTES};
use crate::rng::{seeded, Concern, SeededRng};
use crate::spec::{share_of, SpecError, WorkloadSpec};
use crate::workload::{Expectation, Workload, WorkloadRecord};

use damage::{damaged, padded};
use parse::{read_sources, Source};

/// A record added to the recorded ones.
enum Extra {
    /// A re-send of file record `of`.
    Duplicate { of: usize },
    /// A copy of file record `of` with `value` in place of its own.
    Malformed {
        of: usize,
        value: Vec<u8>,
        reason: ReasonCode,
    },
}

/// One record made by the caller (events generated from the user's schema), sent as a recorded
/// one: [`Expectation::Recorded`] with `line` its 1-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeRecord {
    /// The record key.
    pub key: Option<Vec<u8>>,
    /// The value bytes.
    pub value: Vec<u8>,
}

/// Schema-level damage for made records: the caller knows their schema, so it can make a record
/// with a missing field, a wrong type, a bad value or an unknown field.
pub trait SchemaDamage {
    /// Whether the schema has a place for a problem of kind `reason` at all.
    fn supports(&self, reason: ReasonCode) -> bool;
    /// A copy of made record `of` with exactly one problem of kind `reason`, drawn with `draw`;
    /// `None` when that record has no place for it (a byte-level problem is made instead).
    fn damage(&self, of: usize, reason: ReasonCode, draw: u64) -> Option<Vec<u8>>;
}

/// The workload of `made` records with `spec`'s record faults on top, as for recorded events,
/// except that the malformed copies may also be of the schema-level kinds `damage` supports.
pub fn from_made(
    made: Vec<MadeRecord>,
    spec: &WorkloadSpec,
    damage: &dyn SchemaDamage,
) -> Result<Workload, SpecError> {
    spec.validate()?;
    let kinds: Vec<ReasonCode> = spec
        .distinct_malformed_kinds()
        .into_iter()
        .filter(|r| r.is_byte_level() || damage.supports(*r))
        .collect();
    if spec.malformed_ratio > 0.0 && kinds.is_empty() {
        return Err(SpecError {
            field: "malformed_kinds",
            value: format!(
                "[{}]",
                spec.malformed_kinds
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            allowed: "at least one kind the input schema can carry, or a byte-level one (or set \
                      malformed_ratio = 0)"
                .into(),
        });
    }
    let sources: Vec<Source> = made
        .into_iter()
        .enumerate()
        .map(|(i, r)| Source {
            line: i as u64 + 1,
            key: r.key,
            value: r.value,
            partition: None,
            headers: Vec::new(),
        })
        .collect();
    if sources.is_empty() {
        return Err(SpecError {
            field: "events",
            value: "0".into(),
            allowed: "at least 1 event to generate".into(),
        });
    }
    Ok(build(&sources, spec, &kinds, Some(damage)))
}

/// The workload of the recorded events in `path`, with `spec`'s record faults on top (see the
/// module docs for the file format and which spec fields apply).
pub fn from_recorded(path: &Path, spec: &WorkloadSpec) -> Result<Workload, FileError> {
    let file = File::open(path).map_err(|source| FileError::Io {
        path: path.to_owned(),
        source,
    })?;
    from_recorded_lines(BufReader::new(file), path, spec)
}

/// [`from_recorded`] from any reader; `path` is only used in error messages.
pub fn from_recorded_lines(
    input: impl BufRead,
    path: &Path,
    spec: &WorkloadSpec,
) -> Result<Workload, FileError> {
    let spec_error = |source| FileError::Spec {
        path: path.to_owned(),
        source,
    };
    spec.validate().map_err(spec_error)?;
    let kinds = byte_level_kinds(spec).map_err(spec_error)?;
    let sources = read_sources(input, path, spec.partitions)?;
    Ok(build(&sources, spec, &kinds, None))
}

/// The byte-level kinds of `malformed_kinds`, in catalogue order; an error if a positive
/// `malformed_ratio` has none to draw from.
fn byte_level_kinds(spec: &WorkloadSpec) -> Result<Vec<ReasonCode>, SpecError> {
    let kinds: Vec<ReasonCode> = spec
        .distinct_malformed_kinds()
        .into_iter()
        .filter(|r| r.is_byte_level())
        .collect();
    if spec.malformed_ratio > 0.0 && kinds.is_empty() {
        let given: Vec<&str> = spec.malformed_kinds.iter().map(|r| r.as_str()).collect();
        let usable: Vec<&str> = ReasonCode::ALL
            .into_iter()
            .filter(|r| r.is_byte_level())
            .map(ReasonCode::as_str)
            .collect();
        return Err(SpecError {
            field: "malformed_kinds",
            value: format!("[{}]", given.join(", ")),
            allowed: format!(
                "at least one of {} when malformed_ratio > 0 with recorded events: their schema \
                 is unknown, so only byte-level problems can be made (or set malformed_ratio = 0)",
                usable.join(", ")
            ),
        });
    }
    Ok(kinds)
}

fn build(
    sources: &[Source],
    spec: &WorkloadSpec,
    kinds: &[ReasonCode],
    damage: Option<&dyn SchemaDamage>,
) -> Workload {
    let n = sources.len();
    // `order[p]` is the file record sent at skeleton position `p`; `position` is its inverse.
    let mut order_rng = seeded(spec.seed, Concern::RecordedOrder);
    let order = within_window((0..n).collect(), spec.out_of_order_window, &mut order_rng);
    let mut position = vec![0usize; n];
    for (p, &i) in order.iter().enumerate() {
        position[i] = p;
    }

    let mut extras = duplicates(spec, &position);
    extras.extend(malformed(spec, sources, kinds, damage));

    let mut first_seq = vec![0u64; n];
    let mut records = Vec::with_capacity(n + extras.len());
    for slot in interleave(n, extras) {
        let seq = records.len() as u64;
        let (of, value, expect) = match slot {
            Slot::Base(p) => {
                let i = order[p];
                first_seq[i] = seq;
                let line = sources[i].line;
                (i, sources[i].value.clone(), Expectation::Recorded { line })
            }
            Slot::Extra(Extra::Duplicate { of }) => (
                of,
                sources[of].value.clone(),
                Expectation::RecordedDuplicate {
                    of_seq: first_seq[of],
                },
            ),
            Slot::Extra(Extra::Malformed { of, value, reason }) => {
                (of, value, Expectation::Malformed { reason })
            }
        };
        let source = &sources[of];
        records.push(WorkloadRecord {
            seq,
            key: source.key.clone(),
            value,
            partition: source.partition,
            headers: source.headers.clone(),
            expect,
        });
    }
    Workload { records }
}

/// Re-sends: which file records (independent of the reordering), how many copies, and where (after
/// the first copy's position).
fn duplicates(spec: &WorkloadSpec, position: &[usize]) -> Vec<Placed<Extra>> {
    let n = position.len();
    let mut rng = seeded(spec.seed, Concern::RecordedDuplicates);
    let chosen = rng.sample_indices(n, share_of(n as u64, spec.duplicate_ratio) as usize);
    let mut extras = Vec::new();
    for of in chosen {
        let copies = rng.range_inclusive(1, u64::from(spec.duplicate_burst));
        for _ in 0..copies {
            let gap = duplicate_gap(&mut rng, position[of], n as u64);
            let tiebreak = rng.next_u64();
            extras.push(Placed {
                gap,
                tiebreak,
                item: Extra::Duplicate { of },
            });
        }
    }
    extras
}

/// Ratio-driven malformed copies, poison pills and oversized copies, each family from its own
/// stream, each placed uniformly in the send order.
fn malformed(
    spec: &WorkloadSpec,
    sources: &[Source],
    kinds: &[ReasonCode],
    damage: Option<&dyn SchemaDamage>,
) -> Vec<Placed<Extra>> {
    let n = sources.len() as u64;
    let mut extras = Vec::new();
    let mut place = |rng: &mut SeededRng, of: usize, value: Vec<u8>, reason: ReasonCode| {
        let gap = rng.below(n + 1);
        let tiebreak = rng.next_u64();
        extras.push(Placed {
            gap,
            tiebreak,
            item: Extra::Malformed { of, value, reason },
        });
    };

    let mut rng = seeded(spec.seed, Concern::RecordedMalformed);
    for _ in 0..share_of(n, spec.malformed_ratio) {
        let mut reason = *rng.pick(kinds);
        let of = rng.below(n) as usize;
        let value = match damage.filter(|_| !reason.is_byte_level()) {
            Some(d) => {
                let draw = rng.next_u64();
                d.damage(of, reason, draw).unwrap_or_else(|| {
                    reason = ReasonCode::InvalidJson;
                    damaged(&mut rng, &sources[of].value, reason)
                })
            }
            None => damaged(&mut rng, &sources[of].value, reason),
        };
        place(&mut rng, of, value, reason);
    }

    let mut rng = seeded(spec.seed, Concern::RecordedPoisonPills);
    for _ in 0..spec.poison_pills {
        let of = rng.below(n) as usize;
        let value = poison_pill_value(&mut rng);
        place(&mut rng, of, value, ReasonCode::InvalidJson);
    }

    let mut rng = seeded(spec.seed, Concern::RecordedOversized);
    for _ in 0..spec.oversized {
        let of = rng.below(n) as usize;
        let value = padded(&mut rng, &sources[of].value, 3 * MAX_RECORD_BYTES as u64);
        place(&mut rng, of, value, ReasonCode::Oversized);
    }
    extras
}

#[cfg(test)]
mod tests;
