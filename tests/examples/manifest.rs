//! examples/orders-python driven by faultline itself through its manifest: the smoke suite passes
//! against the correct pipeline, and each buggy variant (`--defect`, the pipeline's own ORDERS_BUG)
//! makes `faultline run` exit 1 with a `differential` check that names the offending rows.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The built `faultline` next to this test binary.
fn faultline() -> Result<Command> {
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .context("test binary directory")?
        .join("faultline");
    ensure!(
        bin.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first",
        bin.display()
    );
    Ok(Command::new(bin))
}

/// `faultline run <target> --pipeline examples/orders-python/faultline.toml` on the processes
/// backend; its exit code and report.json.
fn run_orders(target: &str, defect: Option<&str>) -> Result<(i32, Value)> {
    crate::orders::python()?; // provisioned: the manifest runs examples/orders-python/.venv
    let out = tempfile::tempdir()?;
    let mut cmd = faultline()?;
    cmd.current_dir(repo())
        .args(["run", target, "--backend", "processes", "--quiet", "--out"])
        .arg(out.path())
        .args(["--pipeline", "examples/orders-python/faultline.toml"]);
    if let Some(d) = defect {
        cmd.args(["--defect", d]);
    }
    let done = cmd.output()?;
    let report: Value = serde_json::from_slice(&std::fs::read(out.path().join("report.json"))?)
        .context("report.json")?;
    let code = done.status.code().context("killed by a signal")?;
    if code == 2 {
        anyhow::bail!(
            "faultline could not finish: {}",
            String::from_utf8_lossy(&done.stderr)
        );
    }
    Ok((code, report))
}

fn check<'a>(run: &'a Value, name: &str) -> Result<&'a Value> {
    run["checks"]
        .as_array()
        .context("checks")?
        .iter()
        .find(|c| c["name"] == name)
        .with_context(|| format!("no check {name} in {}", run["scenario"]))
}

#[test]
fn the_smoke_suite_passes_against_the_correct_orders_pipeline() -> Result<()> {
    let (code, report) = run_orders("scenarios/smoke", None)?;
    let runs = report["runs"].as_array().context("runs")?;
    ensure!(runs.len() == 7, "{} runs", runs.len());
    for run in runs {
        ensure!(run["verdict"] == "pass", "{}: {}", run["scenario"], run);
        // Every run is compared with the fault-free run of the same events, row by row.
        let d = check(run, "differential")?;
        ensure!(d["status"] == "pass", "{d}");
        ensure!(
            d["detail"]
                .as_str()
                .unwrap_or("")
                .contains("rows in 3 tables"),
            "{d}"
        );
        // It is handed {dlq_topic}: every malformed record is dead-lettered.
        ensure!(check(run, "dead_letters")?["status"] == "pass", "{run}");
        ensure!(
            run["pipeline"] == "examples/orders-python/faultline.toml",
            "{run}"
        );
    }
    ensure!(code == 0, "exit {code}");
    Ok(())
}

/// Each variant on the smoke scenario that catches it on this seed (the README's table of the
/// examples' variants says the same); the failing rows name the table, the key and what differs.
#[test]
fn each_buggy_orders_variant_fails_with_the_rows_it_got_wrong() -> Result<()> {
    let readme = std::fs::read_to_string(repo().join("README.md"))?;
    for (defect, scenario, table, difference) in [
        (
            "commit-before-db",
            "scenarios/smoke/smoke-2-kill-workers.toml",
            None,
            "missing",
        ),
        (
            "non-idempotent",
            "scenarios/smoke/smoke-1-records.toml",
            Some("order_status_counts"),
            "changed",
        ),
        (
            "stale-overwrite",
            "scenarios/smoke/smoke-1-records.toml",
            Some("orders"),
            "changed",
        ),
    ] {
        let stem = Path::new(scenario)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("");
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `orders-python` | `{defect}` |")))
            .with_context(|| format!("README has no row for orders-python {defect}"))?;
        ensure!(
            row.contains(&format!("| `{stem}` |")) && row.contains(&format!("`{difference}`")),
            "README row disagrees with the test: {row}"
        );
        let (code, report) = run_orders(scenario, Some(defect))?;
        ensure!(code == 1, "{defect}: exit {code}");
        let run = &report["runs"][0];
        ensure!(run["verdict"] == "fail", "{defect}: {run}");
        ensure!(run["defect"] == defect, "{defect}: {run}");
        let d = check(run, "differential")?;
        ensure!(d["status"] == "fail", "{defect}: {d}");
        let rows = d["failing_rows"].as_array().context("failing_rows")?;
        let hit = rows
            .iter()
            .find(|r| r["difference"] == difference && table.is_none_or(|t| r["table"] == t));
        let hit = hit.with_context(|| format!("{defect}: no {difference} row in {d}"))?;
        ensure!(
            hit["key"].as_str().is_some_and(|k| k.starts_with('[')),
            "{defect}: {hit}"
        );
        ensure!(!hit["expected"].is_null(), "{defect}: {hit}");
    }
    Ok(())
}
