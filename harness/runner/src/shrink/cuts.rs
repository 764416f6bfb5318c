//! The cuts `shrink` tries on a scenario, biggest first: half of the events (every fault's start
//! halved with them, so faults land at the same point of the stream; every later candidate runs
//! faster), every record fault at once, half of the faults (delta debugging's complements at
//! granularity 2, which recurse as halves are accepted), the drawn faults, each fault alone, each record-fault group alone, a worker
//! fewer, each fault window halved, each fault moved earlier. Pure: a cut is a new [`Scenario`].

use faultline_report::ScenarioSize;
use faultline_scenario::Scenario;
use faultline_workload::WorkloadSpec;

/// One candidate: what it changes, and the scenario it makes.
#[derive(Debug, Clone)]
pub struct Cut {
    pub change: String,
    pub scenario: Scenario,
}

/// Fewest events a cut leaves.
pub const MIN_EVENTS: u64 = 100;
/// Shortest fault window a cut leaves, ms.
pub const MIN_WINDOW_MS: u64 = 200;

/// A record-fault group: its name, whether `spec` has it on, and how to switch it off.
struct Group {
    name: &'static str,
    on: fn(&WorkloadSpec) -> bool,
    off: fn(&mut WorkloadSpec),
}

const GROUPS: [Group; 6] = [
    Group {
        name: "duplicates",
        on: |w| w.duplicate_ratio > 0.0,
        off: |w| {
            w.duplicate_ratio = 0.0;
            w.cross_partition_duplicates = false;
        },
    },
    Group {
        name: "reordering and late events",
        on: |w| w.out_of_order_window > 0 || w.late_ratio > 0.0,
        off: |w| {
            w.out_of_order_window = 0;
            w.late_ratio = 0.0;
        },
    },
    Group {
        name: "malformed records",
        on: |w| w.malformed_ratio > 0.0,
        off: |w| w.malformed_ratio = 0.0,
    },
    Group {
        name: "poison pills",
        on: |w| w.poison_pills > 0,
        off: |w| w.poison_pills = 0,
    },
    Group {
        name: "oversized records",
        on: |w| w.oversized > 0,
        off: |w| w.oversized = 0,
    },
    Group {
        name: "schema v2 events",
        on: |w| w.schema_v2_ratio > 0.0,
        off: |w| w.schema_v2_ratio = 0.0,
    },
];

/// How big `s` is in the dimensions the cuts shrink.
pub fn size(s: &Scenario) -> ScenarioSize {
    ScenarioSize {
        faults: s.faults.len() as u32 + s.random.as_ref().map_or(0, |r| r.count),
        events: s.workload.events,
        workers: s.pipeline.workers,
        record_fault_groups: GROUPS.iter().filter(|g| (g.on)(&s.workload)).count() as u32,
    }
}

/// Every cut of `s`, biggest first.
pub fn cuts(s: &Scenario) -> Vec<Cut> {
    let mut out = Vec::new();
    let mut push = |change: String, f: &dyn Fn(&mut Scenario)| {
        let mut c = s.clone();
        f(&mut c);
        out.push(Cut {
            change,
            scenario: c,
        });
    };
    if s.workload.events / 2 >= MIN_EVENTS {
        let e = s.workload.events;
        push(format!("halve the events ({e} -> {})", e / 2), &|c| {
            compress(c);
            c.workload.events = e / 2;
        });
    }
    let on: Vec<&Group> = GROUPS.iter().filter(|g| (g.on)(&s.workload)).collect();
    if on.len() > 1 {
        push("drop every record fault".into(), &|c| {
            GROUPS.iter().for_each(|g| (g.off)(&mut c.workload))
        });
    }
    let n = s.faults.len();
    if n > 1 {
        let half = n / 2;
        push(format!("drop faults 1-{half} of {n}"), &|c| {
            c.faults.drain(..half);
        });
        push(format!("drop faults {}-{n} of {n}", half + 1), &|c| {
            c.faults.truncate(half);
        });
    }
    if let Some(r) = &s.random {
        push("drop the drawn faults ([random])".into(), &|c| {
            c.random = None
        });
        if r.count > 1 {
            let count = r.count;
            push(
                format!("halve the drawn faults ({count} -> {})", count / 2),
                &|c| {
                    if let Some(r) = c.random.as_mut() {
                        r.count = count / 2;
                    }
                },
            );
        }
    }
    for (i, f) in s.faults.iter().enumerate() {
        push(
            format!("drop fault {} of {n} ({})", i + 1, describe(f)),
            &|c| {
                c.faults.remove(i);
            },
        );
    }
    for g in &on {
        push(format!("drop {}", g.name), &|c| (g.off)(&mut c.workload));
    }
    if s.pipeline.workers > 1 {
        let w = s.pipeline.workers;
        push(format!("one worker fewer ({w} -> {})", w - 1), &|c| {
            c.pipeline.workers = w - 1
        });
    }
    for (i, f) in s.faults.iter().enumerate() {
        if let Some(d) = f.duration_ms.filter(|d| d / 2 >= MIN_WINDOW_MS) {
            push(
                format!("halve the window of fault {} ({d} -> {} ms)", i + 1, d / 2),
                &|c| c.faults[i].duration_ms = Some(d / 2),
            );
        }
    }
    for (i, f) in s.faults.iter().enumerate() {
        if let Some(at) = f.at_ms.filter(|a| *a >= 2 * MIN_WINDOW_MS) {
            push(
                format!("move fault {} earlier ({at} -> {} ms)", i + 1, at / 2),
                &|c| c.faults[i].at_ms = Some(at / 2),
            );
        }
    }
    out
}

/// Halves every fault's start (`at_ms`, `after_records`, and the `[random]` window), so that with
/// half the events at the same rate each fault still lands at the same point of the stream.
fn compress(c: &mut Scenario) {
    for f in &mut c.faults {
        f.at_ms = f.at_ms.map(|a| a / 2);
        f.after_records = f.after_records.map(|n| n / 2);
    }
    if let Some(r) = c.random.as_mut() {
        r.from_ms /= 2;
        r.to_ms = (r.to_ms / 2).max(r.from_ms);
    }
}

/// `kill_worker at 800 ms`, `latency after 500 records`.
fn describe(f: &faultline_scenario::fault::FaultEntry) -> String {
    match (f.at_ms, f.after_records) {
        (Some(ms), _) => format!("{} at {ms} ms", f.kind),
        (None, Some(n)) => format!("{} after {n} records", f.kind),
        _ => f.kind.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smoke(name: &str) -> Scenario {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../scenarios/smoke")
            .join(format!("{name}.toml"));
        faultline_scenario::load::load(&file).unwrap()
    }

    #[test]
    fn every_cut_is_smaller_in_one_dimension_and_is_a_valid_scenario() {
        for name in ["smoke-1-records", "smoke-2-kill-workers", "smoke-3-zombie"] {
            let s = smoke(name);
            let before = size(&s);
            let all = cuts(&s);
            assert!(!all.is_empty(), "{name}");
            for cut in all {
                let after = size(&cut.scenario);
                let windows = |x: &Scenario| -> u64 {
                    x.faults
                        .iter()
                        .map(|f| f.duration_ms.unwrap_or(0) + f.at_ms.unwrap_or(0))
                        .sum()
                };
                assert!(
                    after.faults < before.faults
                        || after.events < before.events
                        || after.workers < before.workers
                        || after.record_fault_groups < before.record_fault_groups
                        || windows(&cut.scenario) < windows(&s),
                    "{name}: `{}` cuts nothing",
                    cut.change
                );
                let text = toml::to_string(&cut.scenario)
                    .unwrap_or_else(|e| panic!("{name}: `{}`: {e}", cut.change));
                let back = faultline_scenario::load::parse(&text, "cut.toml")
                    .unwrap_or_else(|e| panic!("{name}: `{}`: {e}\n{text}", cut.change));
                assert_eq!(back, cut.scenario, "{name}: `{}` round trip", cut.change);
            }
        }
    }

    #[test]
    fn halving_the_events_halves_every_faults_start() {
        let s = smoke("smoke-2-kill-workers");
        let half = &cuts(&s)[0].scenario;
        assert_eq!(half.workload.events, 7000);
        let starts =
            |x: &Scenario| -> Vec<Option<u64>> { x.faults.iter().map(|f| f.at_ms).collect() };
        let expected: Vec<Option<u64>> = starts(&s).iter().map(|a| a.map(|a| a / 2)).collect();
        assert_eq!(starts(half), expected);
        assert_eq!(
            half.faults[0].duration_ms, s.faults[0].duration_ms,
            "windows are cut on their own"
        );
    }

    #[test]
    fn the_biggest_cuts_come_first() {
        let s = smoke("smoke-2-kill-workers");
        let changes: Vec<String> = cuts(&s).into_iter().map(|c| c.change).collect();
        assert_eq!(changes[0], "halve the events (14000 -> 7000)");
        assert_eq!(changes[1], "drop faults 1-4 of 9");
        assert_eq!(changes[2], "drop faults 5-9 of 9");
        assert_eq!(changes[3], "drop fault 1 of 9 (limit_data at 300 ms)");
        let records = cuts(&smoke("smoke-1-records"));
        assert_eq!(records[1].change, "drop every record fault");
        assert_eq!(size(&records[1].scenario).record_fault_groups, 0);
        assert_eq!(size(&smoke("smoke-1-records")).record_fault_groups, 5);
    }
}
