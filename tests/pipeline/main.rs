//! Reference pipeline integration tests: real Kafka, real Postgres, `ledger-worker` processes driven
//! through the process contract, a wiremock profile service. Every test asserts on the data that
//! landed: transactions, balances, quarantine reasons, lineage offsets, the offset log.

mod contract;
mod dead_letters;
mod exactly_once;
mod observability;
mod recovery;

use anyhow::Result;
use faultline_infra::{backend::start, BackendKind, Stack, StackSpec};
use faultline_workload::{generate, Workload, WorkloadSpec};

/// A stack on the processes backend (always available; the infra tests cover containers).
pub async fn stack() -> Result<Box<dyn Stack>> {
    Ok(start(BackendKind::Processes, &StackSpec::single()).await?)
}

/// A workload with duplicates, cross-partition duplicates, reordering and every malformed kind.
pub fn workload(seed: u64, events: u64, partitions: i32) -> Result<Workload> {
    let spec = WorkloadSpec {
        seed,
        events,
        accounts: 500,
        partitions,
        duplicate_ratio: 0.05,
        cross_partition_duplicates: true,
        malformed_ratio: 0.02,
        poison_pills: 5,
        oversized: 5,
        schema_v2_ratio: 0.2,
        late_ratio: 0.01,
        out_of_order_window: 50,
        ..WorkloadSpec::default()
    };
    Ok(generate(&spec)?)
}
