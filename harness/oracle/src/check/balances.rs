//! `balances`: one row per account with a valid event, holding the sum of its unique valid deltas.

use std::collections::BTreeSet;

use faultline_workload::Workload;

use crate::anomaly::{Anomaly, AnomalyClass};
use faultline_report::CheckResult;

use crate::report::finding;
use crate::state::EndState;

/// An account without a row is wrong even when its expected balance is zero (the contract has a
/// row per account), and so is a row for an account no valid event touched.
pub(crate) fn check(w: &Workload, state: &EndState) -> CheckResult<Anomaly> {
    let want = w.expected_balances();
    let accounts: BTreeSet<&String> = want.keys().chain(state.account_balances.keys()).collect();
    let mut found = Vec::new();
    let mut net = 0i128;
    for account in accounts {
        let (expected, actual) = (want.get(account), state.account_balances.get(account));
        if expected == actual {
            continue;
        }
        let difference =
            i128::from(actual.copied().unwrap_or(0)) - i128::from(expected.copied().unwrap_or(0));
        net += difference;
        found.push(
            Anomaly::new(AnomalyClass::WrongBalance, account, &state.topic)
                .expected(expected.map_or("no row".into(), |v| v.to_string()))
                .actual(match actual {
                    Some(v) => format!("{v} (difference {difference:+})"),
                    None => format!("no row (difference {difference:+})"),
                }),
        );
    }
    let detail = format!(
        "{} of {} expected accounts have a wrong or missing balance, {} rows for accounts without valid events; net difference {net:+} cents.",
        found.iter().filter(|a| want.contains_key(&a.key)).count(),
        want.len(),
        found.iter().filter(|a| !want.contains_key(&a.key)).count(),
    );
    finding("balances", detail, found)
}
