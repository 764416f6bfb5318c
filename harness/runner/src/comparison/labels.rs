//! The oracle's labels: each valid workload event through the workload's reference validator,
//! with the profile the enrichment double serves for its account, labelled by
//! `faultline_models::generate::true_label` (the documented process in golden/data/README.md).

use std::collections::BTreeMap;

use faultline_models::features::{Channel, Kind, RiskTier};
use faultline_models::time::UtcTimestamp;
use faultline_models::TxnInput;
use faultline_workload::{Expectation, ValidEvent, Workload};

use crate::profile::profile_of;

/// The feature inputs of a valid workload event, with the profile the enrichment double serves.
pub fn txn_input(e: &ValidEvent) -> TxnInput {
    let p = profile_of(&e.account_id);
    TxnInput {
        kind: match e.kind {
            faultline_workload::Kind::Credit => Kind::Credit,
            faultline_workload::Kind::Debit => Kind::Debit,
        },
        amount_cents: e.amount_cents,
        created_at: UtcTimestamp::from_unix(e.created_at.unix_timestamp()),
        channel: e.channel.map(|c| match c {
            faultline_workload::Channel::Web => Channel::Web,
            faultline_workload::Channel::Pos => Channel::Pos,
            faultline_workload::Channel::Atm => Channel::Atm,
        }),
        account_age_days: p.account_age_days,
        risk_tier: p.risk_tier.parse().unwrap_or(RiskTier::Low),
    }
}

/// The documented label of every valid transaction of the workload, by transaction id.
pub fn expected_labels(workload: &Workload) -> BTreeMap<String, bool> {
    workload
        .records
        .iter()
        .filter(|r| matches!(r.expect, Expectation::Valid { .. }))
        .map(|r| {
            let e = faultline_workload::validate(&r.value)
                .expect("a record the workload expects to be valid passes its reference validator");
            let label = faultline_models::generate::true_label(&e.transaction_id, &txn_input(&e));
            (e.transaction_id, label)
        })
        .collect()
}
