//! Validation: unsafe names, faults that can never happen, and that every error has its line.

use std::path::{Path, PathBuf};

use super::*;
use crate::GroupProtocol;

const RULE: &str = "1 to 64 characters of A-Z a-z 0-9 . _ -, not starting with `.` or `-`";

fn err(text: &str) -> String {
    parse(text, "s.toml").unwrap_err().to_string()
}

#[test]
fn a_name_that_is_a_path_is_refused_with_the_allowed_characters() {
    assert_eq!(
        err("description = \"x\"\nname = \"/some/dir/victim\"\n"),
        format!("scenario s.toml line 2: field `name`: `/some/dir/victim` contains '/'; a name becomes a directory name, so it must be {RULE}")
    );
    assert_eq!(
        err("name = \"..\"\n"),
        format!("scenario s.toml line 1: field `name`: `..` starts with `.`; a name becomes a directory name, so it must be {RULE}")
    );
    assert_eq!(
        parse("name = \"kill-2.v1\"\n", "s.toml").unwrap().name,
        "kill-2.v1"
    );
}

#[test]
fn an_unsafe_file_name_is_refused_unless_a_name_is_set() {
    let e = parse("", "scenarios/my scenario.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("scenario scenarios/my scenario.toml: field `name`: no `name` is set, so it comes from the file name: `my scenario` contains ' '; a name becomes a directory name, so it must be {RULE}; rename the file or set `name`")
    );
    let e = parse("", "scenarios/.hidden.toml").unwrap_err();
    assert!(e.message.contains("`.hidden` starts with `.`"), "{e}");
    let s = parse("name = \"mine\"\n", "scenarios/my scenario.toml").unwrap();
    assert_eq!(s.name, "mine");
}

#[test]
fn a_zero_time_limit_says_it_is_too_short() {
    assert_eq!(
        err("time_limit_s = 0\n"),
        "scenario s.toml line 1: field `time_limit_s`: is 0; it must be at least 1 second (expected 1..=86400)"
    );
    assert_eq!(
        err("time_limit_s = 86401\n"),
        "scenario s.toml line 1: field `time_limit_s`: 86401 is over a day; expected 1..=86400"
    );
}

#[test]
fn a_stall_limit_outside_the_time_limit_is_refused_with_its_line() {
    assert_eq!(
        err("description = \"x\"\ntime_limit_s = 60\nstall_limit_s = 61\n"),
        "scenario s.toml line 3: field `stall_limit_s`: 61 is outside 1..=time_limit_s (60); after this many seconds without progress the wait for the pipeline ends with a failed `caught_up`"
    );
    assert_eq!(
        err("stall_limit_s = 0\n"),
        "scenario s.toml line 1: field `stall_limit_s`: 0 is outside 1..=time_limit_s (300); after this many seconds without progress the wait for the pipeline ends with a failed `caught_up`"
    );
    let set = parse("time_limit_s = 60\nstall_limit_s = 60\n", "s.toml").unwrap();
    assert_eq!(set.stall_limit_s(), 60);
    // The default is 30 s, or the whole time limit when that is shorter.
    assert_eq!(parse("", "s.toml").unwrap().stall_limit_s(), 30);
    assert_eq!(
        parse("time_limit_s = 10\n", "s.toml")
            .unwrap()
            .stall_limit_s(),
        10
    );
}

#[test]
fn a_worker_id_no_run_starts_is_refused() {
    let text = "[pipeline]\nworkers = 2\n\n[[faults]]\nkind = \"pause_worker\"\nworker = \"w3\"\nat_ms = 1\nduration_ms = 5\n";
    assert_eq!(
        err(text),
        "scenario s.toml line 6: field `faults[0].worker`: `w3` never runs: pipeline.workers = 2 starts w1..w2; expected `any` or w1..w2"
    );
    assert!(parse(&text.replace("w3", "w2"), "s.toml").is_ok());

    // One kill starts a replacement, w3: w3 may run, w4 never does.
    let killed = "[pipeline]\nworkers = 2\n\n[[faults]]\nkind = \"kill_worker\"\nat_ms = 1\n\n[[faults]]\nkind = \"pause_worker\"\nworker = \"w4\"\nat_ms = 9\nduration_ms = 5\n";
    assert_eq!(
        err(killed),
        "scenario s.toml line 10: field `faults[1].worker`: `w4` never runs: pipeline.workers = 2 starts w1..w2 and replacements of killed or restarted workers up to w3; expected `any` or w1..w3"
    );
    assert!(parse(&killed.replace("w4", "w3"), "s.toml").is_ok());

    // scale_workers starts workers without a fixed bound: ids are not checked.
    let scaled = format!(
        "{text}\n[[faults]]\nkind = \"scale_workers\"\nworkers = 4\nat_ms = 1\nduration_ms = 5\n"
    );
    assert!(parse(&scaled.replace("w3", "w9"), "s.toml").is_ok());

    let drawn =
        "[random]\ncount = 1\n\n[[random.faults]]\nkind = \"restart_worker\"\nworker = \"w4\"\n";
    assert_eq!(
        err(drawn),
        "scenario s.toml line 6: field `random.faults[0].worker`: `w4` never runs: pipeline.workers = 2 starts w1..w2 and replacements of killed or restarted workers up to w3; expected `any` or w1..w3"
    );
}

#[test]
fn a_broker_id_above_the_cluster_names_its_line() {
    assert_eq!(
        err("[[faults]]\nkind = \"kill_broker\"\nbroker = \"3\"\nat_ms = 1\n"),
        "scenario s.toml line 3: field `faults[0].broker`: 3 is above infra.brokers = 1; expected `any` or 1..=1"
    );
}

#[test]
fn after_records_past_every_record_the_workload_can_send_is_refused() {
    // 100 events + ceil(100 * 0.1) * 3 copies + ceil(100 * 0.05) malformed + 2 pills + 1 oversized.
    let text = "[workload]\nevents = 100\nduplicate_ratio = 0.1\nmalformed_ratio = 0.05\npoison_pills = 2\noversized = 1\n\n[[faults]]\nkind = \"kill_worker\"\nafter_records = 139\n";
    assert_eq!(
        err(text),
        "scenario s.toml line 10: field `faults[0].after_records`: 139 can never be reached: the workload sends at most 138 records (events plus every duplicate, malformed, poison-pill and oversized record); expected at most 138"
    );
    assert!(parse(&text.replace("139", "138"), "s.toml").is_ok());
    let plain =
        "[workload]\nevents = 100\n\n[[faults]]\nkind = \"kill_worker\"\nafter_records = 101\n";
    assert!(err(plain).contains("at most 100 records"), "{}", err(plain));
}

#[test]
fn a_fault_window_past_the_time_limit_is_refused() {
    let text = "time_limit_s = 10\n\n[[faults]]\nkind = \"pause_worker\"\nat_ms = 9000\nduration_ms = 2000\n";
    assert_eq!(
        err(text),
        "scenario s.toml line 6: field `faults[0].duration_ms`: the fault ends at 11000 ms (at_ms + duration_ms), after time_limit_s = 10 (10000 ms); start it earlier, shorten it or raise time_limit_s"
    );
    assert!(parse(&text.replace("2000", "1000"), "s.toml").is_ok());
    let kill = "time_limit_s = 10\n\n[[faults]]\nkind = \"kill_worker\"\nat_ms = 10001\n";
    assert_eq!(
        err(kill),
        "scenario s.toml line 5: field `faults[0].at_ms`: the fault ends at 10001 ms (at_ms + duration_ms), after time_limit_s = 10 (10000 ms); start it earlier, shorten it or raise time_limit_s"
    );
}

#[test]
fn a_random_window_that_can_end_past_the_time_limit_is_refused() {
    let text = "time_limit_s = 30\n\n[random]\ncount = 2\nto_ms = 26000\n\n[[random.faults]]\nkind = \"kill_worker\"\n\n[[random.faults]]\nkind = \"pause_worker\"\n";
    assert_eq!(
        err(text),
        "scenario s.toml line 5: field `random.to_ms`: a drawn `pause_worker` (random.faults[1]) can start at 26000 ms and last 5000 ms, ending at 31000 ms, after time_limit_s = 30 (30000 ms); lower to_ms, shorten the duration or raise time_limit_s"
    );
    assert!(parse(&text.replace("26000", "25000"), "s.toml").is_ok());
    // Without [random] written, the line is the first [[random.faults]].
    let e = parse(
        "time_limit_s = 20\n\n[[random.faults]]\nkind = \"pause_worker\"\n",
        "s.toml",
    )
    .unwrap_err();
    assert_eq!((e.field.as_str(), e.line), ("random.to_ms", Some(3)));
}

/// One scenario per validation error (range checks, the plan, the drawn faults, the fault checks),
/// each written the way that used to hide its line.
#[test]
fn every_validation_error_names_its_line() {
    let cases = [
        "name = \"a/b\"\n",
        "time_limit_s = 0\n",
        "[infra]\nbrokers = 2\n",
        "[infra]\npartitions = 0\n",
        "[pipeline]\nworkers = 0\n",
        "[compare]\nbaseline = false\n",
        "[pipeline.env]\nBAD-KEY = \"1\"\n",
        "[infra]\npartitions = 2\n[workload]\npartitions = 3\n",
        "[workload]\nlate_ratio = 2.0\n",
        "[[faults]]\nkind = \"kill_worker\"\n",
        "[[faults]]\nkind = \"kill_worker\"\nat_ms = 1\nweight = 2\n",
        "[[faults]]\nkind = \"pause_worker\"\nat_ms = 1\n",
        "faults = [{ kind = \"kil\", at_ms = 1 }]\n",
        "[[faults]]\nkind = \"kill_broker\"\nbroker = \"2\"\nat_ms = 1\n",
        "[[faults]]\nkind = \"kill_worker\"\nworker = \"w9\"\nat_ms = 1\n",
        "[[faults]]\nkind = \"kill_worker\"\nafter_records = 99999\n",
        "time_limit_s = 1\n[[faults]]\nkind = \"kill_worker\"\nat_ms = 1001\n",
        "[random]\ncount = 101\n",
        "[random]\nfrom_ms = 5\nto_ms = 4\n",
        "[random]\nduration_ms = [0, 1]\n",
        "[random]\ncount = 1\n",
        "[[random.faults]]\nkind = \"kill_worker\"\nat_ms = 1\n",
        "[[random.faults]]\nkind = \"kill_worker\"\nweight = 0\n",
        "[[random.faults]]\nkind = \"pause_worker\"\nduration_ms = 0\n",
        "[[random.faults]]\nkind = \"pause_broker\"\nbroker = \"3\"\n",
        "time_limit_s = 20\n[[random.faults]]\nkind = \"pause_worker\"\n",
    ];
    for text in cases {
        let e = parse(text, "s.toml").expect_err(text);
        assert!(e.line.is_some(), "no line for {text:?}: {e}");
        assert!(e.to_string().contains(" line "), "{e}");
    }
}

/// Every `.toml` in the shipped scenario folders loads. `tests/support/scenarios` is included when
/// it exists (today the integration tests write their scenarios inline).
#[test]
fn every_shipped_scenario_loads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["scenarios", "scenarios/smoke", "tests/support/scenarios"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            assert_ne!(dir, "scenarios", "the scenarios folder is missing");
            continue;
        };
        files.extend(
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml")),
        );
    }
    assert!(files.len() >= 19, "only {} scenario files", files.len());
    for f in files {
        if let Err(e) = load(&f) {
            panic!("{e}");
        }
    }
}

#[test]
fn an_unknown_group_protocol_names_its_line_and_the_allowed_values() {
    assert_eq!(
        err("[pipeline]\nworkers = 2\ngroup_protocol = \"kip848\"\n"),
        "scenario s.toml line 3: unknown variant `kip848`, expected `classic` or `consumer`"
    );
    let s = parse("[pipeline]\ngroup_protocol = \"consumer\"\n", "s.toml").unwrap();
    assert_eq!(s.pipeline.group_protocol, GroupProtocol::Consumer);
    assert_eq!(
        parse("", "s.toml").unwrap().pipeline.group_protocol,
        GroupProtocol::Classic
    );
}

#[test]
fn a_session_knob_the_consumer_protocol_cannot_honour_is_refused_with_its_line() {
    let text =
        "[pipeline]\ngroup_protocol = \"consumer\"\n[pipeline.knobs]\nsession_timeout_ms = 3000\n";
    let e = err(text);
    assert!(
        e.starts_with("scenario s.toml line 4: field `pipeline.knobs.session_timeout_ms`: session_timeout_ms = 3000 cannot hold"),
        "{e}"
    );
    parse(&text.replace("3000", "6000"), "s.toml").unwrap();
}
