//! Events generated from the manifest's `[input] schema` (crate `faultline-schemagen`), with the
//! scenario's record faults on top: re-sends, reordering, poison pills, oversized copies, and
//! malformed copies of the byte-level kinds and of the schema-level kinds the schema has a place
//! for (`missing_field`, `wrong_type`, `invalid_value` as out of range or not in the enum,
//! `unknown_field`).

use faultline_manifest::SchemaInput;
use faultline_schemagen::{generate, malformed_for, Defect, GenSpec, Generated};
use faultline_workload::{from_made, MadeRecord, ReasonCode, SchemaDamage, Workload, WorkloadSpec};

use crate::error::{Result, RunnerError};

/// `spec.events` events from `input`'s schema with `spec.seed`, and `spec`'s record faults.
pub fn workload(input: &SchemaInput, spec: &WorkloadSpec) -> Result<Workload> {
    let gen = input.gen_spec(spec.seed, spec.events);
    let made = generate(&input.schema, &gen)
        .map_err(|e| RunnerError::Usage(format!("[input] schema: {e}")))?;
    let records = made
        .iter()
        .map(|g| MadeRecord {
            key: g.key.clone(),
            value: g.value.clone(),
        })
        .collect();
    let damage = Damage {
        input,
        gen: &gen,
        made: &made,
    };
    Ok(from_made(records, spec, &damage)?)
}

/// Schema-level damage to the generated records.
struct Damage<'a> {
    input: &'a SchemaInput,
    gen: &'a GenSpec,
    made: &'a [Generated],
}

/// The schema defects that make a record of kind `reason`, in the order to try them.
fn defects(reason: ReasonCode, draw: u64) -> Vec<Defect> {
    match reason {
        ReasonCode::MissingField => vec![Defect::MissingField],
        ReasonCode::WrongType => vec![Defect::WrongType],
        ReasonCode::UnknownField => vec![Defect::UnknownField],
        ReasonCode::InvalidValue if draw.is_multiple_of(2) => {
            vec![Defect::OutOfRange, Defect::NotInEnum]
        }
        ReasonCode::InvalidValue => vec![Defect::NotInEnum, Defect::OutOfRange],
        _ => Vec::new(),
    }
}

impl Damage<'_> {
    fn make(&self, of: usize, defect: Defect, draw: u64) -> Option<Vec<u8>> {
        let g = self.made.get(of)?;
        let (value, _field) = malformed_for(&self.input.schema, self.gen, &g.json, defect, draw)?;
        serde_json::to_vec(&value).ok()
    }
}

impl SchemaDamage for Damage<'_> {
    fn supports(&self, reason: ReasonCode) -> bool {
        // Judged on the first records: a schema with no place for a defect has none in any.
        defects(reason, 0)
            .into_iter()
            .any(|d| (0..self.made.len().min(16)).any(|of| self.make(of, d, of as u64).is_some()))
    }

    fn damage(&self, of: usize, reason: ReasonCode, draw: u64) -> Option<Vec<u8>> {
        defects(reason, draw)
            .into_iter()
            .find_map(|d| self.make(of, d, draw))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use faultline_manifest::Input;
    use faultline_workload::Expectation;

    use super::*;

    fn spend() -> SchemaInput {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/spend-python/faultline.toml");
        match faultline_manifest::load::load(&path).unwrap().input {
            Some(Input::Schema(input)) => input,
            other => panic!("{other:?}"),
        }
    }

    fn spec(seed: u64) -> WorkloadSpec {
        serde_json::from_value(serde_json::json!({
            "seed": seed, "events": 2000, "duplicate_ratio": 0.05, "malformed_ratio": 0.1,
            "poison_pills": 2, "out_of_order_window": 20
        }))
        .unwrap()
    }

    #[test]
    fn the_same_seed_sends_the_same_bytes_and_another_seed_others() {
        let input = spend();
        let a = workload(&input, &spec(7)).unwrap();
        assert_eq!(a.digest(), workload(&input, &spec(7)).unwrap().digest());
        for other in [8, 9, 1_000] {
            assert_ne!(a.digest(), workload(&input, &spec(other)).unwrap().digest());
        }
    }

    #[test]
    fn schema_level_malformed_records_break_the_schema_once_each() {
        let input = spend();
        let w = workload(&input, &spec(11)).unwrap();
        let mut kinds = BTreeSet::new();
        for r in &w.records {
            let value = serde_json::from_slice::<serde_json::Value>(&r.value);
            match (&r.expect, value) {
                (Expectation::Malformed { reason }, Ok(v)) if !reason.is_byte_level() => {
                    kinds.insert(reason.as_str());
                    assert!(input.schema.check(&v).is_err(), "{reason:?}: {v}");
                }
                (Expectation::Recorded { .. }, Ok(v)) => input.schema.check(&v).unwrap(),
                _ => {}
            }
        }
        assert_eq!(
            kinds,
            BTreeSet::from([
                "invalid_value",
                "missing_field",
                "unknown_field",
                "wrong_type"
            ])
        );
    }
}
