//! `run --repeat`, `hunt` and `shrink` end to end on the processes backend: the reference
//! pipeline with its `non-idempotent-insert` defect, which smoke-1-records catches on every run.

use std::path::Path;

use crate::{exited, faultline, json_at, repo};

const DEFECT: &str = "non-idempotent-insert";

/// A private copy of smoke-1-records under its own name, so its topics, run directories and
/// report entries are this test's only.
fn scenario(dir: &Path, name: &str) -> std::path::PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::copy(repo().join("scenarios/smoke/smoke-1-records.toml"), &file).unwrap();
    file
}

#[test]
fn repeat_hunt_and_shrink_find_rate_first_seed_and_a_smaller_failing_case() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), &format!("inv-{}", std::process::id()));

    // --repeat: the same seed twice, both fail with the defect's class.
    let out = dir.path().join("repeat");
    let run = faultline()
        .arg("run")
        .arg(&file)
        .args([
            "--backend",
            "processes",
            "--defect",
            DEFECT,
            "--repeat",
            "2",
            "--quiet",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    exited(&run, 1);
    let suite = json_at(&out.join("report.json"));
    assert_eq!(suite["runs"].as_array().unwrap().len(), 2, "{suite}");
    let rep = &suite["reproduction"][0];
    assert_eq!(
        (rep["runs"].as_u64(), rep["failed"].as_u64()),
        (Some(2), Some(2)),
        "{rep}"
    );
    assert_eq!(rep["label"], "reproducible");
    assert_eq!(rep["classes"]["wrong_balance"], 2, "{rep}");
    assert!(std::fs::read_to_string(out.join("report.html"))
        .unwrap()
        .contains("<h3 style=\"margin-top:0\">Reproduction</h3>"));

    // hunt: seed 101 fails first, so 102 is never started with one searcher.
    let out = dir.path().join("hunt");
    let hunt = faultline()
        .arg("hunt")
        .arg(&file)
        .args([
            "--seeds",
            "101..102",
            "--parallel",
            "1",
            "--backend",
            "processes",
        ])
        .args(["--defect", DEFECT, "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let (stdout, _) = exited(&hunt, 1);
    assert!(stdout.contains("seed 101 fails first"), "{stdout}");
    let suite = json_at(&out.join("report.json"));
    let h = &suite["hunt"];
    assert_eq!(h["first_failing"], 101, "{h}");
    let tried: Vec<u64> = h["tried"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(tried, vec![101]);
    let bundle = h["tried"][0]["bundle"].as_str().unwrap().to_string();
    assert!(Path::new(&bundle).join("meta.json").is_file(), "{bundle}");
    let repro_sh = std::fs::read_to_string(Path::new(&bundle).join("repro.sh")).unwrap();
    assert!(repro_sh.contains("faultline shrink"), "{repro_sh}");

    // shrink, one run per candidate and a short budget: still a smaller case that fails.
    let out = dir.path().join("shrink");
    let shrink = faultline()
        .arg("shrink")
        .arg(&bundle)
        .args([
            "--runs",
            "1",
            "--min-failures",
            "1",
            "--budget",
            "45",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let (stdout, _) = exited(&shrink, 1);
    assert!(stdout.contains("smallest failing case:"), "{stdout}");
    let log = json_at(&out.join("shrink.json"));
    let steps = log["steps"].as_array().unwrap();
    assert_eq!(steps[0]["change"], "the bundle as it is");
    assert_eq!(steps[0]["accepted"], true, "{log}");
    assert!(steps.len() >= 2, "{log}");
    let (before, after) = (&log["before"], &log["after"]);
    assert_eq!(before["events"], 5000);
    assert!(
        after["events"].as_u64() < before["events"].as_u64()
            || after["record_fault_groups"].as_u64() < before["record_fault_groups"].as_u64(),
        "nothing was cut: {log}"
    );
    // The shrunk scenario is a valid file whose size is the log's, and it fails when run.
    let shrunk = faultline_scenario::load::load(&out.join("shrunk.toml")).unwrap();
    assert_eq!(shrunk.workload.events, after["events"].as_u64().unwrap());
    let rerun_out = dir.path().join("rerun");
    let rerun = faultline()
        .arg("run")
        .arg(out.join("shrunk.toml"))
        .args([
            "--seed",
            "101",
            "--backend",
            "processes",
            "--defect",
            DEFECT,
            "--quiet",
        ])
        .arg("--out")
        .arg(&rerun_out)
        .output()
        .unwrap();
    exited(&rerun, 1);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("Shrink: ") && html.contains("shrunk.toml"),
        "no shrink section"
    );
}

#[test]
fn shrink_and_hunt_refuse_bad_input_with_exit_2_and_start_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-bundle");
    let passing_run = dir.path().join("runs/steady-7");
    std::fs::create_dir_all(passing_run.join("logs")).unwrap();
    let out = dir.path().join("out");
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec!["shrink".into(), missing.clone().into()],
            "is not a faultline bundle",
        ),
        (
            vec!["shrink".into(), passing_run.clone().into()],
            "is not a faultline bundle: it has no meta.json",
        ),
        (
            vec![
                "shrink".into(),
                passing_run.clone().into(),
                "--budget".into(),
                "0".into(),
            ],
            "--budget 0",
        ),
        (
            vec![
                "shrink".into(),
                passing_run.clone().into(),
                "--runs".into(),
                "2".into(),
                "--min-failures".into(),
                "3".into(),
            ],
            "--min-failures 3: expected 1..=2",
        ),
        (
            vec![
                "hunt".into(),
                repo().join("scenarios/smoke/smoke-1-records.toml").into(),
                "--seeds".into(),
                "9..1".into(),
            ],
            "`9..1` is not a seed range",
        ),
        (
            vec![
                "hunt".into(),
                repo().join("scenarios/smoke").into(),
                "--seeds".into(),
                "1..2".into(),
            ],
            "hunt takes one scenario file",
        ),
    ];
    for (args, message) in cases {
        let o = faultline()
            .args(&args)
            .arg("--out")
            .arg(&out)
            .env("TMPDIR", dir.path())
            .output()
            .unwrap();
        let (_, stderr) = exited(&o, 2);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        // Nothing was started: no stack directory under the private TMPDIR.
        let stacks: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("faultline-"))
            .collect();
        assert!(stacks.is_empty(), "{args:?}: {stacks:?}");
    }
}
