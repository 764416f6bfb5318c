//! Tests of the oracle against workloads alone: correct end states built from the workload must
//! pass, and injected faults must be reported exactly, with the right class and key.

mod checks;
mod inject;

use std::collections::BTreeMap;

use faultline_workload::{generate, Partitioner, Workload, WorkloadSpec};
use proptest::prelude::*;

use crate::state::Placement;

/// A generated workload with where a producer would have put each record.
pub(crate) struct Produced {
    pub workload: Workload,
    pub placement: Placement,
    pub high_watermarks: BTreeMap<i32, i64>,
}

/// Generates `spec` and places it like a producer would: explicit partitions where the workload
/// says, otherwise the spec's key partitioner, offsets counting up per partition.
pub(crate) fn produce(spec: &WorkloadSpec) -> Produced {
    let workload = generate(spec).expect("valid spec");
    let mut high_watermarks: BTreeMap<i32, i64> = (0..spec.partitions).map(|p| (p, 0)).collect();
    let mut placement = Placement::new();
    for r in &workload.records {
        let p = r.partition.unwrap_or_else(|| {
            spec.partitioner
                .partition(r.key.as_deref().unwrap_or_default(), spec.partitions)
        });
        let next = high_watermarks.get_mut(&p).expect("partition in range");
        placement.insert(r.seq, (p, *next));
        *next += 1;
    }
    Produced {
        workload,
        placement,
        high_watermarks,
    }
}

/// Small workloads with every family of record: duplicates (also across partitions), malformed
/// records of every reason, poison pills, oversized records, late and reordered events.
pub(crate) fn small_spec() -> impl Strategy<Value = WorkloadSpec> {
    let families = (
        0.0..0.6f64,
        1u32..4,
        any::<bool>(),
        0.0..0.5f64,
        0u64..2,
        0u64..2,
    );
    let shape = (
        any::<u64>(),
        0u64..40,
        1u64..8,
        1i32..4,
        0.0..1.0f64,
        0u32..5,
        0.0..0.3f64,
        any::<bool>(),
    );
    (shape, families).prop_map(
        |(
            (seed, events, accounts, partitions, v2, window, late, murmur),
            (dup, burst, cross, malformed, pills, oversized),
        )| {
            WorkloadSpec {
                seed,
                events,
                accounts,
                partitions,
                duplicate_ratio: dup,
                duplicate_burst: burst,
                cross_partition_duplicates: cross && partitions >= 2,
                partitioner: if murmur {
                    Partitioner::Murmur2Random
                } else {
                    Partitioner::ConsistentRandom
                },
                out_of_order_window: window,
                late_ratio: late,
                malformed_ratio: malformed,
                poison_pills: pills,
                oversized,
                schema_v2_ratio: v2,
                ..WorkloadSpec::default()
            }
        },
    )
}
