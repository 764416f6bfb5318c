//! The pipeline's validator and the workload's expectations agree on every generated record: each
//! malformed record gets exactly its intended reason code, each valid or duplicate record validates.

use anyhow::{ensure, Result};
use faultline_pipeline::validate::validate;
use faultline_workload::{generate, Expectation, WorkloadSpec};

#[test]
fn pipeline_validator_agrees_with_every_generated_expectation() -> Result<()> {
    let mut checked = 0;
    for seed in 0..12 {
        let spec = WorkloadSpec {
            seed,
            events: 3000,
            accounts: 100,
            partitions: 4,
            malformed_ratio: 0.3,
            schema_v2_ratio: 0.5,
            poison_pills: 3,
            oversized: 3,
            duplicate_ratio: 0.1,
            ..WorkloadSpec::default()
        };
        for r in generate(&spec)?.records {
            let got = validate(&r.value);
            match (&r.expect, got) {
                (Expectation::Malformed { reason }, Err(rej)) => {
                    ensure!(
                        rej.reason.as_str() == reason.as_str(),
                        "seed {seed} record {}: {} vs expected {}: {}",
                        r.seq,
                        rej.reason.as_str(),
                        reason.as_str(),
                        String::from_utf8_lossy(&r.value[..r.value.len().min(300)])
                    );
                }
                (Expectation::Malformed { reason }, Ok(_)) => anyhow::bail!(
                    "seed {seed} record {} should be {} but validated",
                    r.seq,
                    reason.as_str()
                ),
                (_, Err(rej)) => anyhow::bail!(
                    "seed {seed} record {} is valid but was rejected: {rej:?}",
                    r.seq
                ),
                (_, Ok(_)) => {}
            }
            checked += 1;
        }
    }
    ensure!(checked > 36_000);
    Ok(())
}
