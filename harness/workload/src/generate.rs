//! `generate`: valid events, duplicates and malformed records merged into one send order.
//!
//! The valid events fix the skeleton. Every other record is placed into one of the `events + 1` gaps
//! around them (a duplicate only into a gap after its original) with a random tie-break, so adding
//! or removing one family of records never moves the valid events relative to each other.

use crate::malformed::{malformed, oversized, poison_pill, Bad, TemplateParams};
use crate::place::{duplicate_gap, interleave, Placed, Slot};
use crate::reason::ReasonCode;
use crate::rng::{seeded, Concern, SeededRng};
use crate::spec::{SpecError, WorkloadSpec};
use crate::valid::{base_time_ms, valid_events};
use crate::workload::{Expectation, Workload, WorkloadRecord};

/// A record placed between the valid events.
type Extra = Placed<ExtraBody>;

enum ExtraBody {
    Duplicate { of: usize, partition: Option<i32> },
    Malformed { bad: Bad, reason: ReasonCode },
}

/// Generates the workload a spec describes. Same spec, same records, byte for byte.
pub fn generate(spec: &WorkloadSpec) -> Result<Workload, SpecError> {
    spec.validate()?;
    let valid = valid_events(spec);
    let n = valid.len() as u64;

    let mut extras = duplicates(spec, &valid);
    extras.extend(malformed_records(spec, n));

    let values: Vec<Vec<u8>> = valid.iter().map(|e| e.to_bytes()).collect();
    let mut original_seq = vec![0u64; valid.len()];
    let mut records = Vec::with_capacity(valid.len() + extras.len());
    for slot in interleave(valid.len(), extras) {
        let seq = records.len() as u64;
        records.push(match slot {
            Slot::Extra(ExtraBody::Duplicate { of, partition }) => WorkloadRecord {
                seq,
                key: Some(valid[of].account_id.clone().into_bytes()),
                value: values[of].clone(),
                partition,
                headers: Vec::new(),
                expect: Expectation::Duplicate {
                    of_seq: original_seq[of],
                    transaction_id: valid[of].transaction_id.clone(),
                },
            },
            Slot::Extra(ExtraBody::Malformed { bad, reason }) => WorkloadRecord {
                seq,
                key: Some(bad.key),
                value: bad.value,
                partition: None,
                headers: Vec::new(),
                expect: Expectation::Malformed { reason },
            },
            Slot::Base(i) => {
                let event = &valid[i];
                original_seq[i] = seq;
                WorkloadRecord {
                    seq,
                    key: Some(event.account_id.clone().into_bytes()),
                    value: values[i].clone(),
                    partition: None,
                    headers: Vec::new(),
                    expect: Expectation::Valid {
                        transaction_id: event.transaction_id.clone(),
                        account_id: event.account_id.clone(),
                        delta_cents: event.delta_cents(),
                    },
                }
            }
        });
    }
    Ok(Workload { records })
}

/// Byte-identical re-sends of valid events, all drawn from the `Duplicates` stream.
fn duplicates(spec: &WorkloadSpec, valid: &[crate::event::Event]) -> Vec<Extra> {
    let n = valid.len() as u64;
    let mut rng = seeded(spec.seed, Concern::Duplicates);
    let chosen = rng.sample_indices(valid.len(), spec.count_of(spec.duplicate_ratio) as usize);
    let mut extras = Vec::new();
    for of in chosen {
        let copies = rng.range_inclusive(1, u64::from(spec.duplicate_burst));
        for _ in 0..copies {
            let gap = duplicate_gap(&mut rng, of, n);
            let tiebreak = rng.next_u64();
            // Drawn whatever the flag, so turning it on does not move any duplicate.
            let moved = rng.chance(0.5);
            let others = (spec.partitions - 1).max(1) as u64;
            let shift = 1 + rng.below(others) as i32;
            let partition = (spec.cross_partition_duplicates && moved).then(|| {
                let home = spec
                    .partitioner
                    .partition(valid[of].account_id.as_bytes(), spec.partitions);
                (home + shift) % spec.partitions
            });
            extras.push(Extra {
                gap,
                tiebreak,
                item: ExtraBody::Duplicate { of, partition },
            });
        }
    }
    extras
}

/// Ratio-driven malformed records, poison pills and oversized records, each family from its own
/// stream, each record placed uniformly among the valid events.
fn malformed_records(spec: &WorkloadSpec, n: u64) -> Vec<Extra> {
    let params = TemplateParams {
        accounts: spec.accounts,
        base_ms: base_time_ms(spec.seed),
        span_ms: n.max(1) * 1_000,
        v2_ratio: spec.schema_v2_ratio,
    };
    let mut extras = Vec::new();
    let mut place = |rng: &mut SeededRng, bad: Bad, reason: ReasonCode| {
        let gap = rng.below(n + 1);
        let tiebreak = rng.next_u64();
        extras.push(Extra {
            gap,
            tiebreak,
            item: ExtraBody::Malformed { bad, reason },
        });
    };

    let kinds = spec.distinct_malformed_kinds();
    let mut rng = seeded(spec.seed, Concern::Malformed);
    for _ in 0..spec.count_of(spec.malformed_ratio) {
        let reason = *rng.pick(&kinds);
        let bad = malformed(&mut rng, &params, reason);
        place(&mut rng, bad, reason);
    }

    let mut rng = seeded(spec.seed, Concern::PoisonPills);
    for _ in 0..spec.poison_pills {
        let bad = poison_pill(&mut rng, spec.accounts);
        place(&mut rng, bad, ReasonCode::InvalidJson);
    }

    let mut rng = seeded(spec.seed, Concern::Oversized);
    for _ in 0..spec.oversized {
        let bad = oversized(&mut rng, &params);
        place(&mut rng, bad, ReasonCode::Oversized);
    }
    extras
}

#[cfg(test)]
mod tests;
