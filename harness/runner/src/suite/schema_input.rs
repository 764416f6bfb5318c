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
