//! The example pipelines driven by faultline itself through their manifests: the smoke suite passes
//! against each correct pipeline, and each buggy variant (`--defect`, the pipeline's own switch:
//! ORDERS_BUG, PAYMENTS_BUG) makes `faultline run` exit 1 with a `differential` check that names the
//! offending rows; the `golden` check's snapshot cycle (pending, accepted, drift) on orders-python;
//! the `replay` check and the `quiet` progress source on orders-python.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use serde_json::Value;

const ORDERS: &str = "examples/orders-python/faultline.toml";
const PAYMENTS: &str = "examples/payments-java/faultline.toml";
const SPEND: &str = "examples/spend-python/faultline.toml";

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

/// What the example's manifest runs is provisioned (ci/examples.sh does both).
fn provisioned(manifest: &str) -> Result<()> {
    if manifest == ORDERS {
        // the manifest runs examples/orders-python/.venv
        crate::orders::python()?;
    } else if manifest == SPEND {
        let venv = repo().join("examples/spend-python/.venv/bin/python");
        ensure!(
            venv.is_file(),
            "{} is missing: run ci/examples.sh (it makes the venv)",
            venv.display()
        );
    } else if manifest == PAYMENTS {
        let jar = repo().join("examples/payments-java/target/payments-sink.jar");
        ensure!(
            jar.is_file(),
            "{} is missing: run ci/examples.sh (it builds the jar with Maven)",
            jar.display()
        );
    }
    Ok(())
}

/// The backend the smoke suites run on: containers where a Docker daemon answers (required when
/// `FAULTLINE_REQUIRE_DOCKER=1`, as in CI), else processes. The variants run on processes.
fn smoke_backend() -> &'static str {
    let answers = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    if answers {
        return "containers";
    }
    assert!(
        std::env::var("FAULTLINE_REQUIRE_DOCKER").as_deref() != Ok("1"),
        "FAULTLINE_REQUIRE_DOCKER=1 but no Docker daemon answers; run ci/provision.sh"
    );
    eprintln!("SKIPPED containers: no Docker daemon answers; the smoke suite runs on processes");
    "processes"
}

/// `faultline run <target> --pipeline <manifest>` on `backend`; its exit code and report.json.
fn run_example(
    manifest: &str,
    target: &str,
    backend: &str,
    defect: Option<&str>,
) -> Result<(i32, Value)> {
    provisioned(manifest)?;
    run_manifest(Path::new(manifest), target, backend, defect)
}

/// [`run_example`] with any manifest file (relative paths from the repository).
fn run_manifest(
    manifest: &Path,
    target: &str,
    backend: &str,
    defect: Option<&str>,
) -> Result<(i32, Value)> {
    run_manifest_args(manifest, target, backend, defect, &[])
}

/// [`run_manifest`] with more `faultline run` arguments.
fn run_manifest_args(
    manifest: &Path,
    target: &str,
    backend: &str,
    defect: Option<&str>,
    args: &[&str],
) -> Result<(i32, Value)> {
    let out = tempfile::tempdir()?;
    let mut cmd = faultline()?;
    cmd.current_dir(repo())
        .args(["run", target, "--backend", backend, "--quiet", "--out"])
        .arg(out.path())
        .arg("--pipeline")
        .arg(manifest)
        .args(args);
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

/// Every smoke scenario passes, each compared row by row with the fault-free run of the same events.
fn smoke_suite_passes(manifest: &str, tables: usize) -> Result<()> {
    let backend = smoke_backend();
    let (code, report) = run_example(manifest, "scenarios/smoke", backend, None)?;
    let runs = report["runs"].as_array().context("runs")?;
    ensure!(runs.len() == 7, "{} runs", runs.len());
    for run in runs {
        ensure!(run["verdict"] == "pass", "{}: {}", run["scenario"], run);
        let d = check(run, "differential")?;
        ensure!(d["status"] == "pass", "{d}");
        ensure!(
            d["detail"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("rows in {tables} tables")),
            "{d}"
        );
        // Every example declares what its tables must hold.
        let e = check(run, "expectations")?;
        ensure!(e["status"] == "pass", "{e}");
        // Every malformed record is dead-lettered: in the {dlq_topic} it is handed, or in the
        // table its [expect.dead_letter] names.
        let dl = check(run, "dead_letters")?;
        ensure!(dl["status"] == "pass", "{dl}");
        ensure!(run["pipeline"] == manifest, "{run}");
        ensure!(run["backend"] == backend, "{run}");
    }
    ensure!(code == 0, "exit {code}");
    Ok(())
}

#[test]
fn the_smoke_suite_passes_against_the_correct_orders_pipeline() -> Result<()> {
    smoke_suite_passes(ORDERS, 3)
}

#[test]
fn the_smoke_suite_passes_against_the_correct_payments_sink() -> Result<()> {
    smoke_suite_passes(PAYMENTS, 3)
}

/// One planted bug: the smoke scenario (file stem) that catches it on this seed, the failing row
/// expected (a table, or any, and the kind of difference in the `differential` check, or `None`
/// for a bug that is there in the fault-free run too, which that check cannot see), and the
/// anomaly class the `expectations` check must find.
type Case<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, &'a str);

/// Each variant on the smoke scenario that catches it (the README's table of the examples' variants
/// says the same); the failing rows name the table, the key and what differs.
fn buggy_variants_fail(example: &str, manifest: &str, cases: &[Case]) -> Result<()> {
    let readme = std::fs::read_to_string(repo().join("README.md"))?;
    for &(defect, scenario, table, difference, class) in cases {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{example}` | `{defect}` |")))
            .with_context(|| format!("README has no row for {example} {defect}"))?;
        ensure!(
            row.contains(&format!("| `{scenario}` |"))
                && row.contains(&format!("`{}`", difference.unwrap_or(class))),
            "README row disagrees with the test: {row}"
        );
        let path = format!("scenarios/smoke/{scenario}.toml");
        let (mut code, mut report) = run_example(manifest, &path, "processes", Some(defect))?;
        if code == 0 && defect == "commit-before-db" {
            // Losing a batch needs the in-transaction kill to land after the offsets were
            // committed; a commit refused in a rebalance (which the sink skips) lets the batch
            // through. One more seed, as the README's detection table says.
            eprintln!("{example} {defect}: not caught on the scenario's seed; one more seed");
            (code, report) = run_manifest_args(
                Path::new(manifest),
                &path,
                "processes",
                Some(defect),
                &["--seed", "108"],
            )?;
        }
        ensure!(code == 1, "{defect}: exit {code}");
        let run = &report["runs"][0];
        ensure!(run["verdict"] == "fail", "{defect}: {run}");
        ensure!(run["defect"] == defect, "{defect}: {run}");
        let d = check(run, "differential")?;
        match difference {
            Some(difference) => {
                ensure!(d["status"] == "fail", "{defect}: {d}");
                let rows = d["failing_rows"].as_array().context("failing_rows")?;
                let hit = rows.iter().find(|r| {
                    r["difference"] == difference && table.is_none_or(|t| r["table"] == t)
                });
                let hit = hit.with_context(|| format!("{defect}: no {difference} row in {d}"))?;
                ensure!(
                    hit["key"].as_str().is_some_and(|k| k.starts_with('[')),
                    "{defect}: {hit}"
                );
                ensure!(!hit["expected"].is_null(), "{defect}: {hit}");
            }
            // Wrong in the fault-free run too: the differential check agrees with it.
            None => ensure!(d["status"] == "pass", "{defect}: {d}"),
        }
        let e = check(run, "expectations")?;
        ensure!(e["status"] == "fail", "{defect}: {e}");
        let rows = e["failing_rows"].as_array().context("failing_rows")?;
        let hit = rows
            .iter()
            .find(|r| r["class"] == class && table.is_none_or(|t| r["table"] == t));
        let hit = hit.with_context(|| format!("{defect}: no {class} row in {e}"))?;
        ensure!(
            hit["source"].as_str().is_some_and(|s| s.starts_with('p')),
            "{defect}: {hit}"
        );
        ensure!(
            !hit["expected"].is_null() || !hit["actual"].is_null(),
            "{defect}: {hit}"
        );
    }
    Ok(())
}

#[test]
fn each_buggy_orders_variant_fails_with_the_rows_it_got_wrong() -> Result<()> {
    buggy_variants_fail(
        "orders-python",
        ORDERS,
        &[
            (
                "commit-before-db",
                "smoke-2-kill-workers",
                None,
                Some("missing"),
                "lost",
            ),
            (
                "non-idempotent",
                "smoke-1-records",
                Some("order_status_counts"),
                Some("changed"),
                "wrong_aggregate",
            ),
            (
                "stale-overwrite",
                "smoke-1-records",
                Some("orders"),
                Some("changed"),
                "stale_value",
            ),
        ],
    )
}

#[test]
fn each_buggy_payments_variant_fails_with_the_rows_it_got_wrong() -> Result<()> {
    buggy_variants_fail(
        "payments-java",
        PAYMENTS,
        &[
            (
                "commit-before-db",
                "smoke-7-early-kill",
                None,
                Some("missing"),
                "lost",
            ),
            (
                "non-idempotent",
                "smoke-1-records",
                Some("account_totals"),
                Some("changed"),
                "wrong_aggregate",
            ),
            (
                "older-overwrites-newer",
                "smoke-1-records",
                Some("payments"),
                Some("changed"),
                "stale_value",
            ),
        ],
    )
}

#[test]
fn the_smoke_suite_passes_against_the_correct_spend_aggregation() -> Result<()> {
    smoke_suite_passes(SPEND, 2)
}

/// The off-by-one window is wrong in the fault-free run too: only the declarations see it.
#[test]
fn the_buggy_spend_variant_fails_with_the_windows_it_got_wrong() -> Result<()> {
    buggy_variants_fail(
        "spend-python",
        SPEND,
        &[(
            "window-off-by-one",
            "smoke-1-records",
            Some("window_totals"),
            None,
            "wrong_aggregate",
        )],
    )
}

/// The orders example's manifest, written into `dir` with absolute paths back to the example:
/// a user's manifest beside their pipeline. `top` is added after the `guarantee` line; the
/// `[progress]` source line becomes `progress`.
fn orders_manifest(dir: &Path, top: &str, progress: &str) -> Result<PathBuf> {
    let example = repo().join("examples/orders-python").canonicalize()?;
    let text = std::fs::read_to_string(example.join("faultline.toml"))?;
    let abs = |f: &str| example.join(f).display().to_string();
    let mut replaced = 0;
    let text: String = text
        .lines()
        .map(|l| {
            let l = match l {
                "cwd = \".\"" => format!("cwd = \"{}\"", example.display()),
                "sql = [\"schema.sql\"]" => format!("sql = [\"{}\"]", abs("schema.sql")),
                "records = \"events.jsonl\"" => format!("records = \"{}\"", abs("events.jsonl")),
                "guarantee = \"effectively_once\"" => format!("{l}\n{top}"),
                "source = \"kafka_group\"" => progress.to_string(),
                _ => return format!("{l}\n"),
            };
            replaced += 1;
            format!("{l}\n")
        })
        .collect();
    ensure!(
        replaced == 5,
        "examples/orders-python/faultline.toml changed: {replaced} of 5 lines found"
    );
    let path = dir.join("faultline.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// [`orders_manifest`] with `golden_dir = "golden"`: snapshots beside the user's manifest.
fn orders_manifest_with_golden(dir: &Path) -> Result<PathBuf> {
    orders_manifest(dir, "golden_dir = \"golden\"", "source = \"kafka_group\"")
}

/// The `replay` check and the `quiet` progress source judge a pipeline by its output tables
/// alone. smoke-1-records with `[checks] replay = true`:
/// - the orders pipeline with `progress.source = "quiet"` (the harness reads no offsets at all):
///   `caught_up` passes once the tables stood still, and the replay (its consumer group reset to
///   the earliest offsets, the workers started again) leaves the tables as they were;
/// - its non-idempotent variant counts every redelivery: the replay changes `order_status_counts`,
///   and the check names the rows with their counts before and after.
#[test]
fn replay_and_quiet_progress_judge_a_pipeline_by_its_output_tables() -> Result<()> {
    provisioned(ORDERS)?;
    let dir = tempfile::tempdir()?;
    let scenario = dir.path().join("smoke-1-replay.toml");
    let base = std::fs::read_to_string(repo().join("scenarios/smoke/smoke-1-records.toml"))?;
    std::fs::write(&scenario, format!("{base}\n[checks]\nreplay = true\n"))?;
    let scenario = scenario.display().to_string();

    let quiet = orders_manifest(dir.path(), "", "source = \"quiet\"\nquiet_s = 5")?;
    let (code, report) = run_manifest(&quiet, &scenario, "processes", None)?;
    let run = &report["runs"][0];
    let c = check(run, "caught_up")?;
    ensure!(c["status"] == "pass", "{c}");
    ensure!(
        c["detail"]
            .as_str()
            .unwrap_or("")
            .contains("rows) stood still for 5 s"),
        "{c}"
    );
    let r = check(run, "replay")?;
    ensure!(r["status"] == "pass", "{r}");
    ensure!(
        r["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("reprocessing the whole input (consumer group `")
            && r["detail"]
                .as_str()
                .unwrap_or("")
                .contains("reset to the earliest offsets) left the output tables unchanged"),
        "{r}"
    );
    ensure!(check(run, "differential")?["status"] == "pass", "{run}");
    ensure!(code == 0 && run["verdict"] == "pass", "exit {code}: {run}");
    let (code, report) = run_example(ORDERS, &scenario, "processes", Some("non-idempotent"))?;
    ensure!(code == 1, "exit {code}");
    let run = &report["runs"][0];
    let r = check(run, "replay")?;
    ensure!(r["status"] == "fail", "{r}");
    let rows = r["failing_rows"].as_array().context("failing_rows")?;
    ensure!(!rows.is_empty(), "{r}");
    for row in rows {
        ensure!(row["table"] == "order_status_counts", "{row}");
        ensure!(row["difference"] == "changed", "{row}");
        let before = row["expected"]["events"]
            .as_i64()
            .context("events before")?;
        let after = row["actual"]["events"].as_i64().context("events after")?;
        ensure!(after > before, "{row}");
    }
    Ok(())
}

/// The `golden` check through a user's manifest that names a `golden_dir`, on smoke-1-records
/// (record faults only: the quickest smoke scenario, and a fault-free twin run plus the run
/// itself). Needed because only a real run shows that the fault-free end state of a real pipeline
/// is stable enough to snapshot, and that the stale-overwrite bug (wrong in fault-free runs too)
/// shows in the snapshot's order rows: the first run leaves a pending snapshot and warns, the run
/// after `faultline golden accept` passes, and the buggy variant fails naming the rows.
#[test]
fn golden_snapshot_is_pending_then_accepted_then_catches_a_stale_overwrite() -> Result<()> {
    provisioned(ORDERS)?;
    let dir = tempfile::tempdir()?;
    let manifest = orders_manifest_with_golden(dir.path())?;
    let golden = dir.path().join("golden");
    let scenario = "scenarios/smoke/smoke-1-records.toml";
    let snap = golden.join("orders-python__smoke-1-records-101.snap");
    let pending = golden.join("orders-python__smoke-1-records-101.snap.new");

    let (code, report) = run_manifest(&manifest, scenario, "processes", None)?;
    let run = &report["runs"][0];
    let g = check(run, "golden")?;
    ensure!(g["status"] == "warn", "{g}");
    ensure!(
        g["detail"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("faultline golden accept {}", golden.display())),
        "{g}"
    );
    ensure!(code == 0 && run["verdict"] == "pass", "exit {code}: {run}");
    ensure!(!snap.exists(), "a run wrote an accepted snapshot");
    let text = std::fs::read_to_string(&pending)?;
    ensure!(
        text.starts_with(
            "---\nsource: faultline.toml\ndescription: fault-free end state of pipeline \
             orders-python, scenario smoke-1-records, seed 101\n---\n"
        ),
        "{}",
        &text[..200.min(text.len())]
    );
    // 2000 orders: one line per order, key and digest; the status counts in full.
    ensure!(
        text.contains("table orders: 2000 rows, each as its key and a digest"),
        "{text:.2000}"
    );
    ensure!(text.contains("[\"o-000001\"] #"), "{text:.2000}");
    ensure!(text.contains("[\"shipped\"] {\""), "{text:.2000}");

    let accept = faultline()?
        .args(["golden", "accept"])
        .arg(&manifest)
        .output()?;
    ensure!(
        accept.status.success(),
        "{}",
        String::from_utf8_lossy(&accept.stderr)
    );
    ensure!(snap.exists() && !pending.exists());

    let (code, report) = run_manifest(&manifest, scenario, "processes", None)?;
    let run = &report["runs"][0];
    ensure!(
        check(run, "golden")?["status"] == "pass",
        "{}",
        check(run, "golden")?
    );
    ensure!(code == 0, "exit {code}");

    let (code, report) = run_manifest(&manifest, scenario, "processes", Some("stale-overwrite"))?;
    let run = &report["runs"][0];
    let g = check(run, "golden")?;
    ensure!(code == 1 && g["status"] == "fail", "exit {code}: {g}");
    let rows = g["failing_rows"].as_array().context("failing_rows")?;
    ensure!(!rows.is_empty(), "{g}");
    for r in rows {
        // An order left at an older version: same key, another digest, the row as it is now.
        ensure!(
            r["table"] == "orders" && r["difference"] == "changed",
            "{r}"
        );
        let key = r["key"].as_str().context("key")?;
        ensure!(key.starts_with("[\"o-"), "{r}");
        let diff = r["diff"].as_str().context("diff")?;
        ensure!(
            diff.starts_with(&format!("- {key} #")) && diff.contains(&format!("\n+ {key} #")),
            "{r}"
        );
        ensure!(
            r["now"]["order_id"]
                .as_str()
                .is_some_and(|o| key.contains(o)),
            "{r}"
        );
    }
    ensure!(pending.exists(), "a drift leaves the new state to review");
    Ok(())
}
