//! The `faultline` binary refuses bad scenario files and flags with exit code 2 and an error that
//! names the file, line and field.

use std::process::Command;

use crate::{faultline, json_at};

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
    let (stdout, stderr) = crate::exited(&out, 1);
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

/// `faultline compare` of `[champion, challenger, data]` writing into `out`.
fn compare(files: &[std::path::PathBuf; 3], out: &std::path::Path) -> Command {
    let mut cmd = faultline();
    cmd.arg("compare");
    for (flag, file) in ["--champion", "--challenger", "--data"].iter().zip(files) {
        cmd.arg(flag).arg(file);
    }
    cmd.arg("--out").arg(out);
    cmd
}

#[test]
fn compare_names_the_flag_of_a_missing_file_and_says_the_os_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let golden = crate::repo().join("golden");
    for (flag, args) in [
        (
            "--champion",
            [
                missing.clone(),
                golden.join("models/challenger.json"),
                golden.join("data/labelled.jsonl"),
            ],
        ),
        (
            "--data",
            [
                golden.join("models/champion.json"),
                golden.join("models/challenger.json"),
                missing.clone(),
            ],
        ),
    ] {
        let out = compare(&args, &dir.path().join("out")).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!(
                "faultline compare: {flag}: {}: No such file or directory (os error 2)",
                missing.display()
            )),
            "{err}"
        );
        assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    }
}

/// `faultline compare --scores`: the model path's `scores.csv` renamed column by column compares to
/// the same intervals without any model; both runs write a `scores.csv` that reads back to their
/// comparison's counts.
#[test]
fn compare_scores_file_matches_the_model_path_and_both_write_scores_csv() {
    let dir = tempfile::tempdir().unwrap();
    let golden = crate::repo().join("golden");
    let models_out = dir.path().join("models");
    let mut by_models = compare(
        &[
            golden.join("models/champion.json"),
            golden.join("models/challenger.json"),
            golden.join("data/labelled.jsonl"),
        ],
        &models_out,
    );
    by_models
        .arg("--policy")
        .arg(golden.join("models/policy.toml"));
    crate::exited(&by_models.output().unwrap(), 0);
    let written = std::fs::read_to_string(models_out.join("scores.csv")).unwrap();
    let owner = dir.path().join("owner.csv");
    let renamed = written.replacen(
        "id,label,champion_score,challenger_score,champion_decision,challenger_decision",
        "txn,fraud,old,new,d1,d2",
        1,
    );
    std::fs::write(&owner, renamed).unwrap();
    let scores_out = dir.path().join("scores");
    let out = crate::faultline()
        .args(["compare", "--scores"])
        .arg(&owner)
        .args(["--id-column", "txn", "--label-column", "fraud"])
        .args(["--champion-column", "old", "--challenger-column", "new"])
        .args([
            "--champion-threshold",
            "0.18",
            "--challenger-threshold",
            "0.22",
        ])
        .arg("--policy")
        .arg(golden.join("models/policy.toml"))
        .arg("--out")
        .arg(&scores_out)
        .output()
        .unwrap();
    crate::exited(&out, 0);
    let json = |d: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("comparison.json")).unwrap()).unwrap()
    };
    let (a, b) = (json(&models_out), json(&scores_out));
    assert_eq!(a["deltas"], b["deltas"]);
    assert_eq!(a["mcnemar"], b["mcnemar"]);
    assert_eq!(a["verdict"], b["verdict"]);
    assert_eq!(
        std::fs::read_to_string(scores_out.join("scores.csv")).unwrap(),
        written
    );
}

#[test]
fn compare_bad_scores_input_exits_2_naming_file_line_column_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.csv");
    std::fs::write(&file, "id,label,champion_score,p\na,1,0.5,0.2\n").unwrap();
    let run = |extra: &[&str]| {
        crate::faultline()
            .args(["compare", "--scores"])
            .arg(&file)
            .args(extra)
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap()
    };
    let (_, err) = crate::exited(&run(&[]), 2);
    assert!(
        err.contains(&format!(
            "{} line 1: field `challenger_score`",
            file.display()
        )) && err.contains("--challenger-column"),
        "{err}"
    );
    let (_, err) = crate::exited(&run(&["--bootstrap", "rowz"]), 2);
    assert!(
        err.contains("rowz") && err.contains("counts or rows"),
        "{err}"
    );
}

/// `faultline … | head`: the reader goes away; the binary goes on quietly to its verdict and exits
/// with the verdict's code, not with a panic and exit 101, whichever stream was closed.
#[test]
fn a_closed_output_ends_the_binary_with_its_verdicts_exit_code_and_no_panic() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let golden = crate::repo().join("golden");
    let files = [
        golden.join("models/champion.json"),
        golden.join("models/challenger.json"),
        golden.join("data/labelled.jsonl"),
    ];
    // The verdict with everything read: promote, exit 0.
    let open = compare(&files, &dir.path().join("open")).output().unwrap();
    assert_eq!(open.status.code(), Some(0), "{open:?}");
    assert!(String::from_utf8_lossy(&open.stdout).starts_with("verdict: promote"));

    // stdout closed before the first line; stderr kept to show there is no panic message.
    let mut child = compare(&files, &dir.path().join("closed"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "compare: {:?}\n{err}",
        out.status
    );
    assert!(!err.contains("panicked"), "{err}");
    // The reports are the same as with the output read.
    let verdict = |d: &str| json_at(&dir.path().join(d).join("comparison.json"))["verdict"].clone();
    assert_eq!(verdict("closed"), verdict("open"));

    // An error goes to stderr: closed too, the same exit code as when it is read (2).
    let mut child = faultline()
        .args(["run", "no/such/dir.toml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop((child.stdout.take(), child.stderr.take()));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "run: {status:?}");
}

#[test]
fn infra_check_on_containers_without_docker_names_the_script_that_fixes_it() {
    if std::process::Command::new("docker")
        .arg("info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("SKIPPED: a Docker daemon answers here");
        return;
    }
    let out = faultline()
        .args(["infra", "check", "--backend", "containers"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("ci/docker-engine.sh"), "{stdout}");
    assert!(stdout.contains("--backend processes"), "{stdout}");
}

/// A `faultline run` on the processes backend in its own `TMPDIR`, once its stack's temp dir (with
/// Postgres data in it) exists: the child and that dir.
fn a_run_with_its_stack_up(
    tmp: &std::path::Path,
    out: &std::path::Path,
) -> (std::process::Child, std::path::PathBuf) {
    a_run_of_with_its_stack_up(
        &crate::repo().join("scenarios/smoke/smoke-1-records.toml"),
        tmp,
        out,
    )
}

/// [`a_run_with_its_stack_up`] of `scenario`.
fn a_run_of_with_its_stack_up(
    scenario: &std::path::Path,
    tmp: &std::path::Path,
    out: &std::path::Path,
) -> (std::process::Child, std::path::PathBuf) {
    let mut child = faultline()
        .arg("run")
        .arg(scenario)
        .args(["--backend", "processes", "--quiet", "--out"])
        .arg(out)
        .env("TMPDIR", tmp)
        .current_dir(crate::repo())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let stack_dir = std::fs::read_dir(tmp)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.join(faultline_infra::stale::OWNER_FILE).is_file()
                    && p.join("postgres/data/PG_VERSION").is_file()
            });
        if let Some(d) = stack_dir {
            return (child, d);
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its stack was up"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "no stack dir in {}",
            tmp.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A private `TMPDIR` the `postgres` service user can reach (tempfile's dirs are 0700).
fn private_tmpdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    tmp
}

fn faultline_dirs_in(tmp: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("faultline-")
        })
        .collect()
}

#[test]
fn after_a_kill_9_the_next_invocation_removes_the_runs_temp_dir_and_says_so() {
    let (tmp, out) = (private_tmpdir(), tempfile::tempdir().unwrap());
    let (mut run, stack_dir) = a_run_with_its_stack_up(tmp.path(), out.path());
    run.kill().unwrap();
    run.wait().unwrap();
    assert!(
        stack_dir.is_dir(),
        "nothing to reap: the dir went with the run"
    );
    let next = faultline()
        .arg("--version")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert_eq!(next.status.code(), Some(0));
    let err = String::from_utf8_lossy(&next.stderr);
    assert!(
        err.contains(&format!(
            "faultline: removed {}, left by faultline pid {}",
            stack_dir.display(),
            run.id()
        )) && err.contains(" bytes ("),
        "{err}"
    );
    assert_eq!(
        faultline_dirs_in(tmp.path()),
        Vec::<std::path::PathBuf>::new()
    );
}

/// Live processes whose command line or environment mentions `marker` (a run's private
/// `TMPDIR`: Postgres and Kafka keep their data under it, and every child inherits it), with
/// their command lines.
fn processes_mentioning(marker: &str) -> Vec<(i32, String)> {
    let read = |pid: i32, f: &str| {
        std::fs::read(format!("/proc/{pid}/{f}"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default()
    };
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .map(|pid| (pid, read(pid, "cmdline"), read(pid, "environ")))
        .filter(|(_, cmd, env)| cmd.contains(marker) || env.contains(marker))
        .map(|(pid, cmd, _)| (pid, cmd))
        .collect()
}

/// Polls `cond` every 50 ms; false if it did not hold within `secs`.
fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !cond() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    true
}

#[test]
fn sigterm_and_sigint_mid_run_write_an_interrupted_verdict_and_leave_nothing_running() {
    // SIGTERM once the workers run; SIGINT while the stack is still starting.
    for (signal, name, code, wait_for) in [
        (libc::SIGTERM, "SIGTERM", 143, "ledger-worker"),
        (libc::SIGINT, "SIGINT", 130, ""),
    ] {
        let (tmp, out) = (private_tmpdir(), tempfile::tempdir().unwrap());
        let scenarios = tempfile::tempdir().unwrap();
        // Its own name: its run directory and report entries are this test's only.
        let scenario = format!("intr-{}-{}", name.to_lowercase(), std::process::id());
        let file = scenarios.path().join(format!("{scenario}.toml"));
        std::fs::copy(
            crate::repo().join("scenarios/smoke/smoke-1-records.toml"),
            &file,
        )
        .unwrap();
        let (run, _) = a_run_of_with_its_stack_up(&file, tmp.path(), out.path());
        let marker = tmp.path().display().to_string();
        assert!(
            eventually(60, || processes_mentioning(&marker)
                .iter()
                .any(|(_, cmd)| cmd.contains(wait_for))),
            "{name}: no process of the run under {marker} running `{wait_for}`"
        );
        let run_dir = out.path().join(format!("runs/{scenario}-101"));
        assert!(run_dir.is_dir(), "{name}: the run is not under way");
        // SAFETY: a signal to the run this test started.
        unsafe { libc::kill(run.id() as i32, signal) };
        let status = run.wait_with_output().unwrap().status;
        assert_eq!(status.code(), Some(code), "{name}: {status:?}");

        let suite = json_at(&out.path().join("report.json"));
        let runs = suite["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "{name}: {suite}");
        let r = &runs[0];
        assert_eq!(r["verdict"], "interrupted", "{name}: {r}");
        assert_eq!(r["error"], format!("interrupted by {name}"));
        assert_eq!(r["scenario"], scenario.as_str());
        assert_eq!(
            (r["seed"].as_u64(), r["backend"].as_str()),
            (Some(101), Some("processes"))
        );
        let own = json_at(&run_dir.join("report.json"));
        assert_eq!(own["verdict"], "interrupted", "{name}: {own}");
        let junit = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
        let suite_tag = format!("<testsuite name=\"{scenario}[seed=101,backend=processes]\"");
        let case = &junit[junit.find(&suite_tag).unwrap_or_else(|| panic!("{junit}"))..];
        assert!(
            case.contains(&format!(
                "<error message=\"interrupted by {name}\" type=\"interrupted\">"
            )),
            "{junit}"
        );

        assert!(
            eventually(10, || processes_mentioning(&marker).is_empty()),
            "{name}: left running: {:?}",
            processes_mentioning(&marker)
        );
        assert_eq!(
            faultline_dirs_in(tmp.path()),
            Vec::<std::path::PathBuf>::new(),
            "{name}"
        );
    }
}
