//! `report.json` (the suite) and `runs/<scenario>-<seed>/report.json` (one run): pretty-printed,
//! fields in declaration order, map keys sorted (serde_json's default map is ordered), and a final
//! newline, so two runs with the same results diff cleanly.

use serde::Serialize;

use crate::model::{RunReport, SuiteReport};

/// The suite as pretty JSON.
pub fn suite_json(suite: &SuiteReport) -> Result<String, serde_json::Error> {
    pretty(suite)
}

/// One run as pretty JSON.
pub fn run_json(run: &RunReport) -> Result<String, serde_json::Error> {
    pretty(run)
}

fn pretty(value: &impl Serialize) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(value)?;
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample_suite;

    #[test]
    fn suite_json_round_trips_with_fields_in_model_order() {
        let suite = sample_suite();
        let json = suite_json(&suite).unwrap();
        assert_eq!(serde_json::from_str::<SuiteReport>(&json).unwrap(), suite);
        let pos = |needle: &str| {
            json.find(needle)
                .unwrap_or_else(|| panic!("{needle} missing"))
        };
        assert!(pos("\"target\"") < pos("\"started_at\""));
        assert!(pos("\"started_at\"") < pos("\"runs\""));
        assert!(json.ends_with("}\n"));
    }

    #[test]
    fn run_json_carries_verdict_and_failing_rows() {
        let suite = sample_suite();
        let failing = suite
            .runs
            .iter()
            .find(|r| r.failed_checks().next().is_some())
            .unwrap();
        let value: serde_json::Value = serde_json::from_str(&run_json(failing).unwrap()).unwrap();
        assert_eq!(value["verdict"], "fail");
        assert_eq!(value["checks"][0]["failing_rows"][0]["class"], "lost");
    }
}
