//! Bad pipeline manifests: each is refused with exit 2 naming the file, the field and the fix, and
//! leaves nothing running. Those that can be judged without a stack are refused by `check` (and by
//! `run` before anything starts); a setup SQL or a progress query that Postgres refuses is found
//! once the run's stack is up, and stops the run the same way.

use std::path::Path;
use std::process::Output;

use crate::{exited, faultline, repo};

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn check(manifest: &Path) -> Output {
    faultline()
        .args(["check", "--pipeline"])
        .arg(manifest)
        .arg(repo().join("scenarios/smoke/smoke-1-records.toml"))
        .output()
        .unwrap()
}

#[test]
fn manifests_that_cannot_work_are_refused_by_check_naming_file_line_field_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "no-command.toml",
            "name = \"p\"\n",
            "field `command`: is missing; give the program and arguments",
        ),
        (
            "placeholder.toml",
            "command = [\"sh\"]\n\n[env]\nBROKERS = \"{kafka_brokers}\"\n",
            "line 4: field `env.BROKERS`: unknown placeholder `{kafka_brokers}`; the known ones are {kafka_bootstrap}",
        ),
        (
            "not-found.toml",
            "command = [\"no-such-pipeline-binary\"]\n",
            "line 1: field `command`: the program `no-such-pipeline-binary` is not found next to faultline or in PATH",
        ),
        (
            "setup-missing.toml",
            "command = [\"sh\"]\n[setup]\nsql = [\"schema.sql\"]\n",
            "line 3: field `setup.sql[0]`: cannot read",
        ),
    ];
    for (file, text, words) in cases {
        let m = write(dir.path(), file, text);
        let (_, stderr) = exited(&check(&m), 2);
        assert!(
            stderr.contains(&m.display().to_string()),
            "{file}: {stderr}"
        );
        assert!(stderr.contains(words), "{file}: {stderr}");
    }
    // An unknown --defect names the pipeline's own variants.
    let m = write(
        dir.path(),
        "defects.toml",
        "command = [\"sh\"]\n[defects]\nvariable = \"BUG\"\nnames = [\"double-count\"]\n",
    );
    let out = faultline()
        .args(["check", "--defect", "bogus", "--pipeline"])
        .arg(&m)
        .arg(repo().join("scenarios/smoke/smoke-1-records.toml"))
        .output()
        .unwrap();
    let (_, stderr) = exited(&out, 2);
    assert!(stderr.contains("known: double-count"), "{stderr}");
    // `[checks] replay` on a pipeline that keeps its offsets in its own table and gives no way to
    // rewind them, and on one without output tables: refused before anything starts.
    let scenario = write(
        dir.path(),
        "replay.toml",
        &format!(
            "{}\n[checks]\nreplay = true\n",
            std::fs::read_to_string(repo().join("scenarios/smoke/smoke-1-records.toml")).unwrap()
        ),
    );
    let cases = [
        (
            "sql-offsets.toml",
            "command = [\"sh\"]\n[progress]\nsource = \"sql\"\nquery = \"SELECT p, n FROM {schema}.offsets\"\n[[output]]\ntable = \"t\"\nkey = [\"id\"]\n",
            "resetting its consumer group would not rewind it; give [replay] sql",
        ),
        (
            "no-output.toml",
            "command = [\"sh\"]\n",
            "the manifest has none; add [[output]] tables or remove the check",
        ),
    ];
    for (file, text, words) in cases {
        let m = write(dir.path(), file, text);
        let out = faultline()
            .args(["check", "--pipeline"])
            .arg(&m)
            .arg(&scenario)
            .output()
            .unwrap();
        let (_, stderr) = exited(&out, 2);
        assert!(stderr.contains(words), "{file}: {stderr}");
        assert!(stderr.contains("replay.toml"), "{file}: {stderr}");
    }
}

/// A pipeline whose `setup` SQL Postgres refuses, and one whose progress query it refuses: the run
/// stops with exit 2 naming the field and Postgres' message, and no worker is left.
#[test]
fn a_failing_setup_sql_or_progress_query_stops_the_run_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad.sql",
        "CREATE TABLE {schema}.t (id nosuchtype);\n",
    );
    // The worker is a wrapper shell that starts a second shell which sleeps: neither would ever
    // finish on its own, so a leak would show, the wrapper's child as much as the wrapper. The
    // markers are each shell's $0, so their command lines carry them while they run.
    let worker = "[\"sh\", \"-c\", \"sh -c 'sleep 600; :' faultline-manifest-child-{run_id}; :\", \"faultline-manifest-test-{run_id}\"]";
    let setup = write(
        dir.path(),
        "setup.toml",
        &format!("command = {worker}\n[setup]\nsql = [\"bad.sql\"]\n"),
    );
    let query = write(
        dir.path(),
        "query.toml",
        &format!(
            "command = {worker}\n[progress]\nsource = \"sql\"\nquery = \"SELECT partition, nope FROM {{schema}}.missing_col_table\"\n\n[setup]\nsql = [\"ok.sql\"]\n"
        ),
    );
    write(
        dir.path(),
        "ok.sql",
        "CREATE TABLE {schema}.missing_col_table (partition int);\n",
    );
    let scenario = write(
        dir.path(),
        "manifest-errors.toml",
        "time_limit_s = 60\nstall_limit_s = 5\n[workload]\nevents = 50\n[pipeline]\nenrichment = false\n",
    );
    for (m, words) in [(&setup, "field `setup.sql[0]`"), (&query, "nope")] {
        let out_dir = dir
            .path()
            .join(format!("out-{}", m.file_stem().unwrap().to_string_lossy()));
        let out = faultline()
            .args(["run", "--backend", "processes", "--quiet", "--pipeline"])
            .arg(m)
            .arg("--out")
            .arg(&out_dir)
            .arg(&scenario)
            .output()
            .unwrap();
        let (_, stderr) = exited(&out, 2);
        assert!(stderr.contains(words), "{}: {stderr}", m.display());
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out_dir.join("report.json")).unwrap()).unwrap();
        let run = &report["runs"][0];
        assert_eq!(run["verdict"], "error", "{run}");
        assert!(run["error"].as_str().unwrap().contains(words), "{run}");
        let left = std::process::Command::new("pgrep")
            .args(["-f", "faultline-manifest-(test|child)-"])
            .output()
            .unwrap();
        assert!(
            left.stdout.is_empty(),
            "workers left running: {}",
            String::from_utf8_lossy(&left.stdout)
        );
    }
}
