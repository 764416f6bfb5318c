//! `faultline check` and `faultline run --dry-run`: every scenario × seed validated and its fault
//! plan printed, with no Kafka, Postgres or Docker (none can start here) and no file written.

use std::path::Path;
use std::process::{Command, Output};

use crate::faultline;

/// `faultline <args>` where no stack could start: no Kafka install, no `docker` on `PATH`, and a
/// fresh `TMPDIR` and working directory that must stay empty.
fn offline(args: &[&str], cwd: &Path, tmp: &Path) -> Output {
    let mut cmd: Command = faultline();
    cmd.args(args)
        .current_dir(cwd)
        .env("FAULTLINE_KAFKA_HOME", "/nonexistent")
        .env("PATH", "/nonexistent")
        .env("TMPDIR", tmp)
        .env_remove("FAULTLINE_BACKEND");
    cmd.output().unwrap()
}

fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_plans_every_shipped_scenario_and_seed_without_starting_or_writing_anything() {
    let (cwd, tmp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let scenarios = crate::repo().join("scenarios");
    let target = scenarios.display().to_string();
    let out = offline(
        &["check", &target, "--seed", "77", "--seeds", "2"],
        cwd.path(),
        tmp.path(),
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let files: Vec<_> = entries(&scenarios)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    assert!(files.len() >= 10, "{files:?}");
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy();
        for seed in [77, 78] {
            let heading = format!("{name} seed {seed} ({}):", file.display());
            assert!(stdout.contains(&heading), "no `{heading}` in\n{stdout}");
        }
    }
    // kill-workers.toml's plan for seed 77: its three kills, the last after 7000 records.
    let section = &stdout[stdout.find("kill-workers seed 77 (").unwrap()..];
    let section = &section[..section.find("\n\n").unwrap_or(section.len())];
    let kills: Vec<_> = section
        .lines()
        .filter(|l| l.trim_start().starts_with("kill_worker#"))
        .collect();
    assert_eq!(kills.len(), 3, "{section}");
    assert!(
        kills[2].contains("after 7000 records") && kills[2].contains("any worker"),
        "{section}"
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with(&format!(
            "faultline check: {} scenario file(s), {} run(s), ",
            files.len(),
            2 * files.len()
        )) && summary.ends_with(": all valid"),
        "{summary}"
    );
    assert_eq!(entries(cwd.path()), Vec::<std::path::PathBuf>::new());
    assert_eq!(entries(tmp.path()), Vec::<std::path::PathBuf>::new());
}

#[test]
fn run_dry_run_is_check_and_never_creates_its_out() {
    let (cwd, tmp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let target = crate::repo().join("scenarios/smoke");
    let out_dir = cwd.path().join("out");
    let (target, out_arg) = (target.display().to_string(), out_dir.display().to_string());
    let dry = offline(
        &[
            "run",
            &target,
            "--dry-run",
            "--backend",
            "processes",
            "--out",
            &out_arg,
        ],
        cwd.path(),
        tmp.path(),
    );
    let check = offline(
        &["check", &target, "--backend", "processes"],
        cwd.path(),
        tmp.path(),
    );
    let (stdout, stderr) = text(&dry);
    assert_eq!(dry.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        text(&check).0,
        "the same code path, the same output"
    );
    assert!(stdout.contains("backend processes"), "{stdout}");
    assert!(!out_dir.exists(), "--out was created");
    assert_eq!(entries(cwd.path()), Vec::<std::path::PathBuf>::new());
    assert_eq!(entries(tmp.path()), Vec::<std::path::PathBuf>::new());
}

#[test]
fn check_refuses_an_unknown_defect_as_run_does() {
    let (cwd, tmp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let target = crate::repo().join("scenarios/smoke").display().to_string();
    let check = offline(
        &["check", &target, "--defect", "bogus"],
        cwd.path(),
        tmp.path(),
    );
    let (stdout, stderr) = text(&check);
    assert_eq!(check.status.code(), Some(2), "{stdout}\n{stderr}");
    let message = stderr
        .strip_prefix("faultline check: ")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        message.contains("--defect `bogus` is not a planted defect")
            && message.contains("known: ")
            && message.contains("no-fencing"),
        "{stderr}"
    );
    // `run` says the same (it refuses before any stack; its --out is a temp dir).
    let run_out = tempfile::tempdir().unwrap();
    let out_arg = run_out.path().display().to_string();
    let run = offline(
        &["run", &target, "--defect", "bogus", "--out", &out_arg],
        cwd.path(),
        tmp.path(),
    );
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        text(&run).1.strip_prefix("faultline run: "),
        Some(message),
        "{stderr}"
    );
    assert_eq!(entries(cwd.path()), Vec::<std::path::PathBuf>::new());
}

#[test]
fn check_names_the_file_and_line_of_a_broken_scenario_and_still_plans_the_rest() {
    let (cwd, tmp) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::repo().join("scenarios/kill-workers.toml"),
        dir.path().join("a-kill-workers.toml"),
    )
    .unwrap();
    let broken = dir.path().join("b-broken.toml");
    std::fs::write(
        &broken,
        "description = \"x\"\n\n[[faults]]\nkind = \"kil_worker\"\nat_ms = 100\n",
    )
    .unwrap();
    let target = dir.path().display().to_string();
    let out = offline(&["check", &target], cwd.path(), tmp.path());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "faultline check: scenario {} line 4: field `faults[0].kind`: unknown fault kind `kil_worker`",
            broken.display()
        )),
        "{stderr}"
    );
    assert!(stdout.contains("a-kill-workers seed "), "{stdout}");
    assert!(stdout.trim_end().ends_with("1 problem(s)"), "{stdout}");
    assert_eq!(entries(cwd.path()), Vec::<std::path::PathBuf>::new());
    assert_eq!(entries(tmp.path()), Vec::<std::path::PathBuf>::new());
}
