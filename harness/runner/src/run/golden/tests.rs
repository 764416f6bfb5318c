use super::*;

fn state(tables: &[(&str, usize)]) -> OutputState {
    let mut s = OutputState::default();
    for (t, n) in tables {
        let rows = (0..*n)
            .map(|i| {
                let id = format!("o-{i:06}");
                let mut m = Map::new();
                m.insert("order_id".into(), id.clone().into());
                m.insert("version".into(), 1.into());
                (Value::Array(vec![id.into()]).to_string(), m)
            })
            .collect();
        s.tables.insert((*t).to_string(), rows);
    }
    s
}

fn set_version(s: &mut OutputState, table: &str, i: usize, v: i64) {
    let key = format!("[\"o-{i:06}\"]");
    let row = s.tables.get_mut(table).unwrap().get_mut(&key).unwrap();
    row.insert("version".into(), v.into());
}

#[test]
fn a_small_table_is_written_row_by_row_in_key_order() {
    let mut s = state(&[("orders", 2)]);
    s.missing.push("order_events".into());
    assert_eq!(
        render(&s),
        "table order_events: missing (the pipeline never created it)\n\
         table orders: 2 rows\n\
         [\"o-000000\"] {\"order_id\":\"o-000000\",\"version\":1}\n\
         [\"o-000001\"] {\"order_id\":\"o-000001\",\"version\":1}\n"
    );
}

#[test]
fn a_table_above_the_cap_keeps_a_digest_per_row_and_a_huge_one_chunks() {
    let s = state(&[("orders", FULL_ROWS + 1)]);
    let text = render(&s);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), FULL_ROWS + 2);
    assert!(lines[0].starts_with("table orders: 201 rows, each as its key and a digest"));
    assert!(lines[1].starts_with("[\"o-000000\"] #"), "{}", lines[1]);
    assert_eq!(lines[1].len(), "[\"o-000000\"] #".len() + 12);

    // Far enough above the cap that one row fewer stays in the chunked form.
    let n = DIGEST_ROWS + 10;
    let big = state(&[("orders", n)]);
    let text = render(&big);
    let chunks: Vec<&str> = text.lines().skip(1).collect();
    assert!(chunks.len() < n / 50, "{} chunk lines", chunks.len());
    let counted: usize = chunks
        .iter()
        .map(|l| {
            let (_, rest) = l.split_once(": ").unwrap();
            rest.split(' ').next().unwrap().parse::<usize>().unwrap()
        })
        .sum();
    assert_eq!(counted, n);
    // One row fewer changes one chunk's line only.
    let mut fewer = big.clone();
    fewer
        .tables
        .get_mut("orders")
        .unwrap()
        .remove("[\"o-002500\"]");
    let after = render(&fewer);
    let changed = text
        .lines()
        .skip(1)
        .filter(|l| !after.lines().any(|a| a == *l))
        .count();
    assert_eq!(changed, 1);
}

#[test]
fn a_drift_lists_missing_then_extra_then_changed_rows_by_key() {
    let old = state(&[("orders", 3)]);
    let mut new = state(&[("orders", 3)]);
    new.tables
        .get_mut("orders")
        .unwrap()
        .remove("[\"o-000000\"]");
    set_version(&mut new, "orders", 2, 7);
    let mut extra = Map::new();
    extra.insert("order_id".into(), "o-000009".into());
    new.tables
        .get_mut("orders")
        .unwrap()
        .insert("[\"o-000009\"]".into(), extra);
    let rows = drift_rows(&normalize(&render(&old)), &normalize(&render(&new)), &new);
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap(),
                r["difference"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("[\"o-000000\"]", "missing"),
            ("[\"o-000009\"]", "extra"),
            ("[\"o-000002\"]", "changed"),
        ]
    );
    assert_eq!(
        rows[2]["diff"],
        "- [\"o-000002\"] {\"order_id\":\"o-000002\",\"version\":1}\n\
         + [\"o-000002\"] {\"order_id\":\"o-000002\",\"version\":7}"
    );
    assert_eq!(rows[2]["table"], "orders");
}

#[test]
fn a_digest_row_that_changed_shows_the_row_as_it_is_now() {
    let old = state(&[("orders", FULL_ROWS + 5)]);
    let mut new = old.clone();
    set_version(&mut new, "orders", 42, 3);
    let rows = drift_rows(&normalize(&render(&old)), &normalize(&render(&new)), &new);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["key"], "[\"o-000042\"]");
    assert_eq!(rows[0]["difference"], "changed");
    assert_eq!(rows[0]["now"]["version"], 3);
}

#[test]
fn first_run_warns_and_leaves_a_pending_snapshot_then_accepted_it_passes_and_drift_fails() {
    let dir = tempfile::tempdir().unwrap();
    let golden = dir.path().join("golden");
    let run_dir = dir.path().join("run");
    let input = GoldenInput {
        dir: &golden,
        source: "faultline.toml",
        id: SnapshotId {
            pipeline: "orders",
            scenario: "smoke-1-records",
            seed: 101,
        },
        run_dir: &run_dir,
    };
    let s = state(&[("orders", 3)]);
    let first = check(&input, &s).unwrap();
    assert_eq!(first.status, CheckStatus::Warn, "{}", first.detail);
    let pending = golden.join("orders__smoke-1-records-101.snap.new");
    assert!(first
        .detail
        .contains(&format!("faultline golden accept {}", golden.display())));
    // insta reads what the run wrote, body and all.
    let snap = insta::Snapshot::from_file(&pending).unwrap();
    assert_eq!(snap.as_text().unwrap().to_string(), normalize(&render(&s)));
    assert_eq!(
        snap.metadata().description(),
        Some("fault-free end state of pipeline orders, scenario smoke-1-records, seed 101")
    );
    assert_eq!(snap.module_name(), "orders");

    let accepted = accept(&golden).unwrap();
    assert_eq!(
        accepted,
        vec![golden.join("orders__smoke-1-records-101.snap")]
    );
    assert!(!pending.exists());
    let second = check(&input, &s).unwrap();
    assert_eq!(second.status, CheckStatus::Pass, "{}", second.detail);
    assert!(!pending.exists());

    let mut drifted = s.clone();
    set_version(&mut drifted, "orders", 1, 2);
    let third = check(&input, &drifted).unwrap();
    assert_eq!(third.status, CheckStatus::Fail);
    assert!(
        third
            .detail
            .contains("0 missing, 0 extra, 1 changed rows (tables orders"),
        "{}",
        third.detail
    );
    assert_eq!(third.failing_rows[0]["key"], "[\"o-000001\"]");
    assert!(pending.exists(), "a drift leaves the new state to review");
    let diff = std::fs::read_to_string(run_dir.join("golden.diff")).unwrap();
    assert!(
        diff.contains("-[\"o-000001\"] {\"order_id\":\"o-000001\",\"version\":1}"),
        "{diff}"
    );
    assert!(
        diff.contains("+[\"o-000001\"] {\"order_id\":\"o-000001\",\"version\":2}"),
        "{diff}"
    );
    // The accepted snapshot is never rewritten by a run.
    let accepted =
        std::fs::read_to_string(golden.join("orders__smoke-1-records-101.snap")).unwrap();
    assert!(
        accepted.contains("\"version\":1}\n[\"o-000002\"]"),
        "{accepted}"
    );
}

#[test]
fn a_long_diff_is_capped() {
    let old: String = (0..3000).map(|i| format!("[{i}] a\n")).collect();
    let new: String = (0..3000).map(|i| format!("[{i}] b\n")).collect();
    let d = unified_diff(&old, &new, Path::new("x.snap"));
    assert_eq!(d.lines().count(), MAX_DIFF_LINES + 1);
    let last = d.lines().last().unwrap();
    assert!(
        last.starts_with("... ") && last.ends_with(" more lines"),
        "{last}"
    );
    assert!(
        d.starts_with("--- x.snap\n+++ fault-free run\n"),
        "{}",
        &d[..60]
    );
}
