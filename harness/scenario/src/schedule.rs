//! The fault schedule: every fault of a run with its trigger and duration, fixed by the scenario and
//! the seed alone. The runner executes the plan; a fault never decides for itself when it runs.

use faultline_workload::rng::{seeded, Concern, SeededRng};
use serde::{Deserialize, Serialize};

use crate::error::ScenarioError;
use crate::fault::{FaultAction, FaultEntry};
use crate::scenario::Scenario;

/// When a planned fault starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// ms after the workload starts.
    AtMs(u64),
    /// Once this many records have been produced.
    AfterRecords(u64),
}

/// One fault of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedFault {
    /// `kind#n`, n counting faults of that kind in start order from 1.
    pub id: String,
    /// The kind as written.
    pub kind: String,
    pub action: FaultAction,
    pub trigger: Trigger,
    /// Window length (ms) for faults that heal; down time for kills; 0 when instantaneous.
    pub duration_ms: u64,
    /// A seeded draw the runner uses where the target is `any` (e.g. which live worker), so the
    /// choice replays with the seed.
    pub pick: u64,
    /// True when drawn by `[random]`.
    pub drawn: bool,
}

/// Builds the plan for `scenario` under `seed`: fixed faults and drawn ones, ordered by trigger
/// (time triggers first by time, then record triggers by count; ties keep file order).
pub fn plan(scenario: &Scenario, seed: u64) -> Result<Vec<PlannedFault>, ScenarioError> {
    let err = |field: String, message: String| ScenarioError {
        file: scenario.name.clone(),
        line: None,
        field,
        message,
    };
    let mut rng = seeded(seed, Concern::FaultSchedule);
    let mut out: Vec<PlannedFault> = Vec::new();
    for (i, e) in scenario.faults.iter().enumerate() {
        let action = e
            .action()
            .map_err(|(f, m)| err(format!("faults[{i}].{f}"), m))?;
        let trigger = match (e.at_ms, e.after_records) {
            (Some(ms), None) => Trigger::AtMs(ms),
            (None, Some(n)) => Trigger::AfterRecords(n),
            _ => {
                return Err(err(
                    format!("faults[{i}].at_ms"),
                    "set exactly one of `at_ms` and `after_records`".into(),
                ))
            }
        };
        if e.weight.is_some() {
            return Err(err(
                format!("faults[{i}].weight"),
                "only applies to [[random.faults]]".into(),
            ));
        }
        let duration_ms = duration(&action, e.duration_ms)
            .map_err(|m| err(format!("faults[{i}].duration_ms"), m))?;
        out.push(PlannedFault {
            id: String::new(),
            kind: e.kind.clone(),
            action,
            trigger,
            duration_ms,
            pick: rng.next_u64(),
            drawn: false,
        });
    }
    if let Some(r) = &scenario.random {
        out.extend(draw(r, &mut rng).map_err(|(f, m)| err(f, m))?);
    }
    out.sort_by_key(|p| match p.trigger {
        Trigger::AtMs(ms) => (0, ms),
        Trigger::AfterRecords(n) => (1, n),
    });
    let mut seen = std::collections::BTreeMap::<String, u32>::new();
    for p in &mut out {
        let n = seen.entry(p.kind.clone()).or_default();
        *n += 1;
        p.id = format!("{}#{n}", p.kind);
    }
    Ok(out)
}

fn duration(action: &FaultAction, given: Option<u64>) -> Result<u64, String> {
    match given {
        Some(0) if action.needs_duration() => Err("must be at least 1 ms for this kind".into()),
        Some(ms) if ms > 3_600_000 => {
            Err(format!("{ms} is over an hour; expected at most 3600000"))
        }
        Some(ms) => Ok(ms),
        None if action.needs_duration() => {
            Err("is required for this kind (how long before it is healed)".into())
        }
        None => Ok(0),
    }
}

fn draw(
    r: &crate::scenario::RandomFaults,
    rng: &mut SeededRng,
) -> Result<Vec<PlannedFault>, (String, String)> {
    if r.count > 100 {
        return Err(("random.count".into(), format!("{} is over 100", r.count)));
    }
    if r.from_ms > r.to_ms {
        return Err((
            "random.to_ms".into(),
            format!("{} is before from_ms {}", r.to_ms, r.from_ms),
        ));
    }
    let [dmin, dmax] = r.duration_ms;
    if dmin == 0 || dmin > dmax {
        return Err((
            "random.duration_ms".into(),
            format!("[{dmin}, {dmax}] must be [min, max] with 1 <= min <= max"),
        ));
    }
    if r.count > 0 && r.faults.is_empty() {
        return Err((
            "random.faults".into(),
            "is empty; add at least one [[random.faults]] to draw from".into(),
        ));
    }
    let mut templates: Vec<(&FaultEntry, FaultAction, u64)> = Vec::new();
    for (i, e) in r.faults.iter().enumerate() {
        let action = e
            .action()
            .map_err(|(f, m)| (format!("random.faults[{i}].{f}"), m))?;
        if e.at_ms.is_some() || e.after_records.is_some() {
            return Err((
                format!("random.faults[{i}].at_ms"),
                "drawn faults get their start from the seed; remove it".into(),
            ));
        }
        let w = u64::from(e.weight.unwrap_or(1));
        if w == 0 {
            return Err((
                format!("random.faults[{i}].weight"),
                "must be at least 1".into(),
            ));
        }
        if let Some(d) = e.duration_ms {
            duration(&action, Some(d))
                .map_err(|m| (format!("random.faults[{i}].duration_ms"), m))?;
        }
        templates.push((e, action, w));
    }
    let total: u64 = templates.iter().map(|t| t.2).sum();
    let mut out = Vec::new();
    for _ in 0..r.count {
        let mut x = rng.below(total);
        let (e, action, _) = templates
            .iter()
            .find(|t| {
                if x < t.2 {
                    true
                } else {
                    x -= t.2;
                    false
                }
            })
            .expect("weights sum to total");
        let at = rng.range_inclusive(r.from_ms, r.to_ms);
        let drawn_duration = rng.range_inclusive(dmin, dmax);
        let duration_ms = e.duration_ms.unwrap_or(if action.needs_duration() {
            drawn_duration
        } else {
            0
        });
        out.push(PlannedFault {
            id: String::new(),
            kind: e.kind.clone(),
            action: action.clone(),
            trigger: Trigger::AtMs(at),
            duration_ms,
            pick: rng.next_u64(),
            drawn: true,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::parse;
    use proptest::prelude::*;

    const MIXED: &str = r#"
[[faults]]
kind = "kill_worker"
after_records = 500

[random]
count = 6
from_ms = 100
to_ms = 9000
[[random.faults]]
kind = "pause_worker"
weight = 2
[[random.faults]]
kind = "latency"
latency_ms = 50
duration_ms = 700
"#;

    #[test]
    fn fixed_and_drawn_faults_are_ordered_and_numbered_per_kind() {
        let s = parse(MIXED, "mixed.toml").unwrap();
        let p = plan(&s, 3).unwrap();
        assert_eq!(p.len(), 7);
        assert_eq!(p.last().unwrap().trigger, Trigger::AfterRecords(500));
        let times: Vec<u64> = p
            .iter()
            .filter_map(|f| {
                if let Trigger::AtMs(t) = f.trigger {
                    Some(t)
                } else {
                    None
                }
            })
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        assert!(times.iter().all(|t| (100..=9000).contains(t)));
        for f in p.iter().filter(|f| f.kind == "latency") {
            assert_eq!(f.duration_ms, 700);
        }
        for f in p.iter().filter(|f| f.kind == "pause_worker") {
            assert!((1000..=5000).contains(&f.duration_ms), "{f:?}");
        }
        let pauses: Vec<&str> = p
            .iter()
            .filter(|f| f.kind == "pause_worker")
            .map(|f| f.id.as_str())
            .collect();
        assert_eq!(pauses.first(), Some(&"pause_worker#1"));
    }

    #[test]
    fn a_missing_trigger_or_duration_names_the_field() {
        let e = parse("[[faults]]\nkind = \"kill_worker\"\n", "t.toml").unwrap_err();
        assert_eq!((e.field.as_str(), e.line), ("faults[0].at_ms", Some(1)));
        let e = parse("[[faults]]\nkind = \"pause_worker\"\nat_ms = 5\n", "t.toml").unwrap_err();
        assert_eq!(e.field, "faults[0].duration_ms");
        assert!(e.message.contains("is required"));
    }

    proptest! {
        #[test]
        fn same_seed_same_plan_and_seeds_differ(seed: u64) {
            let s = parse(MIXED, "mixed.toml").unwrap();
            let a = plan(&s, seed).unwrap();
            prop_assert_eq!(&a, &plan(&s, seed).unwrap());
            let b = plan(&s, seed.wrapping_add(1)).unwrap();
            prop_assert_ne!(a, b);
        }
    }
}
