//! The `faultline` binary refuses bad scenario files and flags with exit code 2 and an error that
//! names the file, line and field.

use std::process::Command;

fn faultline() -> Command {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("faultline");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first",
        bin.display()
    );
    Command::new(bin)
}

#[test]
fn a_typo_in_a_scenario_exits_2_naming_file_line_and_allowed_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kill.toml");
    std::fs::write(
        &file,
        "description = \"x\"\n\n[[faults]]\nkind = \"kil_worker\"\nat_ms = 100\n",
    )
    .unwrap();
    let out = faultline()
        .args(["run"])
        .arg(&file)
        .args(["--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "scenario {} line 4: field `faults[0].kind`: unknown fault kind `kil_worker`",
            file.display()
        )),
        "{err}"
    );
    assert!(err.contains("expected one of kill_worker"), "{err}");
}

#[test]
fn an_unknown_field_exits_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.toml");
    std::fs::write(&file, "[workload]\nevents = 10\nevnets = 5\n").unwrap();
    let out = faultline().args(["run"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3") && err.contains("unknown field `evnets`"),
        "{err}"
    );
}

#[test]
fn bad_flags_exit_2_with_the_allowed_values() {
    let out = faultline()
        .args(["run", "scenarios/smoke", "--backend", "dockr"])
        .current_dir(crate::repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("expected one of auto, containers, processes, external"));
    let out = faultline()
        .args(["run", "scenarios/smoke", "--shard", "3/2"])
        .current_dir(crate::repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected I/N with 1 <= I <= N"));
    let out = faultline()
        .args(["run", "no/such/dir.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir.toml"));
}

#[test]
fn repro_of_something_that_is_not_a_bundle_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = faultline().arg("repro").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a faultline bundle"));
}

#[test]
fn a_caught_defect_exits_1_and_prints_the_repro_line_and_the_failing_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = faultline()
        .args([
            "run",
            "scenarios/smoke/smoke-1-records.toml",
            "--backend",
            "processes",
            "--defect",
            "drop-malformed",
            "--quiet",
            "--out",
        ])
        .arg(dir.path())
        .current_dir(crate::repo())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("reproduce smoke-1-records seed 101: faultline run scenarios/smoke/smoke-1-records.toml --seed 101 --backend processes --defect drop-malformed"), "{stdout}");
    assert!(
        stderr.contains("check quarantine:") && stderr.contains("missing_from_quarantine"),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["runs"][0]["verdict"], "fail");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
}
