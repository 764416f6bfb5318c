//! Same scenario and seed: identical workload bytes and identical fault schedule.

use faultline_scenario::load::load;
use faultline_scenario::plan;
use faultline_workload::generate;

#[test]
fn same_scenario_and_seed_give_identical_workload_bytes_and_fault_schedule() {
    let s = load(&crate::repo().join("scenarios/mixed.toml")).unwrap();
    let bytes = |seed: u64| {
        let mut spec = s.workload.clone();
        spec.seed = seed;
        spec.partitions = s.infra.partitions;
        let w = generate(&spec).unwrap();
        (
            w.digest(),
            w.records
                .iter()
                .map(|r| r.value.clone())
                .collect::<Vec<_>>(),
        )
    };
    let (d1, r1) = bytes(77);
    let (d2, r2) = bytes(77);
    assert_eq!(d1, d2);
    assert_eq!(r1, r2, "record bytes differ for the same seed");
    assert_ne!(bytes(78).0, d1, "another seed must give another workload");

    let p1 = plan(&s, 77).unwrap();
    let p2 = plan(&s, 77).unwrap();
    assert_eq!(p1.len(), 8, "mixed draws 8 faults");
    assert_eq!(
        serde_json::to_string(&p1).unwrap(),
        serde_json::to_string(&p2).unwrap()
    );
    assert_ne!(
        serde_json::to_string(&plan(&s, 78).unwrap()).unwrap(),
        serde_json::to_string(&p1).unwrap()
    );
    // Drawn faults cover more than one family, so `mixed` really mixes.
    let families: std::collections::BTreeSet<_> = p1
        .iter()
        .map(|p| format!("{:?}", p.action.family()))
        .collect();
    assert!(families.len() >= 2, "{families:?}");
}

#[test]
fn every_shipped_scenario_has_a_plan_and_a_workload() {
    for dir in ["scenarios", "scenarios/smoke"] {
        for (path, s) in
            faultline_scenario::load::load_target(&crate::repo().join(dir), None).unwrap()
        {
            let p = plan(&s, s.workload.seed).unwrap();
            let mut spec = s.workload.clone();
            spec.partitions = s.infra.partitions;
            let w = generate(&spec).unwrap();
            assert!(w.records.len() as u64 >= spec.events, "{}", path.display());
            if path.file_name().unwrap() != "baseline.toml"
                && !path.to_string_lossy().contains("smoke-1")
            {
                assert!(
                    !p.is_empty()
                        || spec.duplicate_ratio > 0.0
                        || spec.malformed_ratio > 0.0
                        || spec.out_of_order_window > 0,
                    "{} provokes nothing",
                    path.display()
                );
            }
        }
    }
}
