//! What a row the pipeline scored on fallback features must hold: each model's score of the
//! transaction with the default profile (`TxnInput::with_default_profile`), the profile the
//! reference pipeline falls back to during an enrichment outage (`FAULTLINE_ENRICH_FALLBACK=default`).

use std::collections::{BTreeMap, BTreeSet};

use faultline_models::Features;
use faultline_workload::{Expectation, Workload};

use super::labels::txn_input;
use super::setup::CompareSetup;
use crate::error::{Result, RunnerError};

/// The champion's and the challenger's score on the default profile of each transaction in `ids`
/// (ids that are no valid transaction of the workload are left out). Models score on a blocking
/// thread: an HTTP model blocks.
pub async fn default_profile_scores(
    workload: &Workload,
    ids: &BTreeSet<String>,
    setup: &CompareSetup,
) -> Result<BTreeMap<String, [f64; 2]>> {
    let mut features = BTreeMap::new();
    for r in &workload.records {
        if !matches!(r.expect, Expectation::Valid { .. }) {
            continue;
        }
        let e = faultline_workload::validate(&r.value)
            .expect("a record the workload expects to be valid passes its reference validator");
        if ids.contains(&e.transaction_id) && !features.contains_key(&e.transaction_id) {
            let f = Features::from_event(&txn_input(&e).with_default_profile());
            features.insert(e.transaction_id, f);
        }
    }
    let models = [setup.champion.model.clone(), setup.challenger.model.clone()];
    tokio::task::spawn_blocking(move || {
        features
            .into_iter()
            .map(|(id, f)| Ok((id, [models[0].score(&f)?, models[1].score(&f)?])))
            .collect::<Result<BTreeMap<_, _>>>()
    })
    .await
    .map_err(|e| RunnerError::Usage(format!("scoring the default profiles panicked: {e}")))?
}
