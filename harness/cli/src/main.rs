//! The `faultline` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use faultline_infra::doctor::run_check;
use faultline_infra::{errln, out, outln};
use faultline_infra::{BackendKind, StackSpec};
use faultline_runner::{check, run_suite, GroupProtocol, SuiteOptions};

/// Chaos and regression runs for streaming pipelines on real Kafka and Postgres.
#[derive(Parser)]
#[command(name = "faultline", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Infrastructure: Kafka and Postgres through the chosen backend.
    Infra {
        #[command(subcommand)]
        command: InfraCommand,
    },
    /// Run a scenario file, or every scenario in a directory; exit 0 all passed, 1 a check failed,
    /// 2 invalid scenario or flags, or a harness/infra error; 130/143 on SIGINT/SIGTERM, after
    /// writing the reports with the run under way `interrupted`.
    Run {
        #[command(flatten)]
        select: Selection,
        /// Only check, as `faultline check` does: validate and print the fault plans, start nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run each scenario and seed N times in a row; reports give each one's reproduction rate
        /// and the anomaly classes seen, and label a failure that not every run shows `flaky`.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        repeat: u32,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// From a failing run's bundle to the smallest scenario that still fails with the same anomaly
    /// class: drops faults, shortens and moves their windows, drops record-fault groups, halves
    /// the events, lowers the worker count. Writes shrunk.toml, shrink.json and the reports; exit
    /// 1 when a smaller (or the same) case still fails, 0 when the bundle's own case no longer
    /// fails, 2 on bad input.
    Shrink {
        /// The bundle directory a failed run printed.
        bundle: PathBuf,
        /// Runs per candidate: a concurrent pipeline fails by chance as well as by cause.
        #[arg(long, default_value_t = 3)]
        runs: u32,
        /// Failing runs (with one of the bundle's classes) that make a candidate count as failing.
        #[arg(long, default_value_t = 2)]
        min_failures: u32,
        /// Seconds the search may take: a candidate that could end past them (K runs, each as long
        /// as the last candidate's runs) is not started; the smallest case so far is kept.
        #[arg(long, default_value_t = 600)]
        budget: u64,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// Run one scenario with each seed of a range until the lowest failing seed is known, several
    /// at a time; exit 1 when a seed failed (its bundle is printed), 0 when none did, 2 on bad input.
    Hunt {
        /// A scenario file (.toml).
        scenario: PathBuf,
        /// The seeds, inclusive, e.g. 1..50.
        #[arg(long, value_parser = faultline_runner::hunt::parse_seed_range)]
        seeds: (u64, u64),
        /// Runs at the same time, each on a stack of its own (default: one per two cores).
        #[arg(long)]
        parallel: Option<u32>,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// Validate scenarios, seeds, flags, `[compare]` model/policy files, workloads and fault plans
    /// without starting anything or writing any file, and print each run's fault plan; exit 0 all
    /// valid, 2 otherwise.
    Check {
        #[command(flatten)]
        select: Selection,
        #[command(flatten)]
        flags: CheckFlags,
    },
    /// Rerun a failure bundle with the same scenario, seed, workload bytes and fault schedule;
    /// exit codes as for `run`.
    Repro {
        /// The bundle directory a failed run printed.
        bundle: PathBuf,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// Compare a champion and a challenger model on labelled data, or two columns of scores the
    /// owner already has; exit 0 promote, 1 keep or inconclusive, 2 invalid input.
    ///
    /// With --data, each model reads the features it names; other columns are ignored. With
    /// --scores, no model is loaded: the file's id, label and score columns are compared as they
    /// are. Either way --out gets comparison.json, summary.md, report.html and scores.csv (id,
    /// label, both scores, both decisions).
    Compare {
        /// Champion model file (scorecard .json, .onnx with sidecar, or HTTP endpoint spec).
        #[arg(long, required_unless_present = "scores", conflicts_with = "scores")]
        champion: Option<PathBuf>,
        /// Challenger model file.
        #[arg(long, required_unless_present = "scores", conflicts_with = "scores")]
        challenger: Option<PathBuf>,
        /// Labelled data, .jsonl or .csv, for the models to score.
        #[arg(long, required_unless_present = "scores", conflicts_with = "scores")]
        data: Option<PathBuf>,
        /// Per-row scores already computed (CSV with a header): compared without any model.
        #[arg(long, value_name = "FILE")]
        scores: Option<PathBuf>,
        /// Column of --scores holding the row id.
        #[arg(long, default_value = "id", requires = "scores")]
        id_column: String,
        /// Column of --scores holding the champion's score.
        #[arg(long, default_value = "champion_score", requires = "scores")]
        champion_column: String,
        /// Column of --scores holding the challenger's score.
        #[arg(long, default_value = "challenger_score", requires = "scores")]
        challenger_column: String,
        /// The champion's decision threshold with --scores (a model file carries its own).
        #[arg(long, default_value_t = 0.5, requires = "scores")]
        champion_threshold: f64,
        /// The challenger's decision threshold with --scores.
        #[arg(long, default_value_t = 0.5, requires = "scores")]
        challenger_threshold: f64,
        /// Column holding the label, in --data or --scores.
        #[arg(long, default_value = "label")]
        label_column: String,
        /// The label value of the positive class (fraud); every other value is negative.
        #[arg(long, default_value = "1")]
        positive: String,
        /// Promotion policy (TOML); default gates every metric.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Bootstrap resampling: counts (multinomial over cells, seconds on millions of rows) or
        /// rows (row indices, the slow reference). Default: the policy's `bootstrap`, else counts.
        #[arg(long, value_parser = parse_resampling)]
        bootstrap: Option<faultline_models::Resampling>,
        /// Where comparison.json, summary.md, report.html and scores.csv go.
        #[arg(long, default_value = "faultline-out/compare")]
        out: PathBuf,
        /// Bootstrap seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Golden snapshots of a pipeline's fault-free end state (the manifest's `golden_dir`).
    Golden {
        #[command(subcommand)]
        command: GoldenCommand,
    },
}

#[derive(Subcommand)]
enum GoldenCommand {
    /// Accept every pending snapshot: each `<name>.snap.new` becomes `<name>.snap`; exit 0, or 2
    /// when the directory cannot be read or the manifest names no `golden_dir`.
    Accept {
        /// The snapshot directory, or the pipeline's manifest (its `golden_dir` is taken).
        path: PathBuf,
    },
}

/// What `run` and `check` cover: the target, its seeds and the shard.
#[derive(clap::Args, Clone)]
struct Selection {
    /// A scenario file (.toml) or a directory of them (e.g. scenarios/ or scenarios/smoke).
    target: PathBuf,
    /// Seed for the workload and the fault schedule (default: each scenario's workload.seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Run each scenario with this many consecutive seeds.
    #[arg(long, default_value_t = 1)]
    seeds: u32,
    /// Run only shard I of N (scenarios in name order, round robin), e.g. 2/4.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u32, u32)>,
}

/// Flags that change what a run is, so `check` validates them too.
#[derive(clap::Args, Clone)]
struct CheckFlags {
    /// auto, containers, processes or external; overrides the scenario's `infra.backend`.
    #[arg(long, env = "FAULTLINE_BACKEND")]
    backend: Option<String>,
    /// The pipeline's manifest (faultline.toml beside it); default: the reference ledger pipeline's.
    #[arg(long, env = "FAULTLINE_PIPELINE")]
    pipeline: Option<PathBuf>,
    /// A buggy variant the pipeline's manifest declares in [defects] (for the reference pipeline,
    /// a planted defect; needs a `planted-defects` build of ledger-worker).
    #[arg(long)]
    defect: Option<String>,
    /// classic or consumer (KIP-848): the consumer group protocol the workers join with
    /// (the manifest's {group_protocol}); overrides the scenario's `pipeline.group_protocol`.
    #[arg(long)]
    group_protocol: Option<String>,
}

/// Flags shared by `run` and `repro`.
#[derive(clap::Args, Clone)]
struct RunFlags {
    #[command(flatten)]
    check: CheckFlags,
    /// Where report.json, junit.xml, report.html, summary.md and failure bundles go.
    #[arg(long, default_value = "faultline-out/run")]
    out: PathBuf,
    /// No progress lines.
    #[arg(long)]
    quiet: bool,
}

#[derive(Subcommand)]
enum InfraCommand {
    /// Start the stack, round-trip Kafka and Postgres, restart a broker, tear down; exit 0 only if all worked.
    Check {
        /// auto, containers, processes or external.
        #[arg(long, default_value = "auto", env = "FAULTLINE_BACKEND")]
        backend: String,
        /// Kafka brokers: 1, or 3 for a KRaft cluster with RF=3.
        #[arg(long, default_value_t = 1)]
        brokers: u32,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FAULTLINE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    faultline_infra::signals::install_signal_handlers();
    // Before anything else (even --help): what an earlier, SIGKILLed harness left behind.
    report_stale_dirs(&faultline_infra::stale::reap_stale_dirs());
    let cli = Cli::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            errln!("faultline: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = match cli.command {
        Command::Infra {
            command: InfraCommand::Check { backend, brokers },
        } => rt.block_on(infra_check(&backend, brokers)),
        Command::Run {
            select,
            dry_run: true,
            flags,
            ..
        } => check_command("run --dry-run", select, flags.check),
        Command::Run {
            select,
            dry_run: false,
            repeat,
            flags,
        } => rt.block_on(run(select, repeat, flags)),
        Command::Shrink {
            bundle,
            runs,
            min_failures,
            budget,
            flags,
        } => {
            let so = faultline_runner::shrink::ShrinkOptions {
                runs,
                min_failures,
                budget: std::time::Duration::from_secs(budget),
            };
            rt.block_on(shrink(bundle, so, flags))
        }
        Command::Hunt {
            scenario,
            seeds,
            parallel,
            flags,
        } => rt.block_on(hunt(scenario, seeds, parallel, flags)),
        Command::Check { select, flags } => check_command("check", select, flags),
        Command::Repro { bundle, flags } => rt.block_on(repro(bundle, flags)),
        Command::Compare {
            champion,
            challenger,
            data,
            scores,
            id_column,
            champion_column,
            challenger_column,
            champion_threshold,
            challenger_threshold,
            label_column,
            positive,
            policy,
            bootstrap,
            out,
            seed,
        } => {
            let input = match (scores, champion, challenger, data) {
                (Some(file), ..) => CompareInput::Scores {
                    file,
                    columns: faultline_models::ScoreColumns {
                        id: id_column,
                        label: label_column,
                        positive,
                        champion: champion_column,
                        challenger: challenger_column,
                    },
                    thresholds: (champion_threshold, challenger_threshold),
                },
                (None, Some(champion), Some(challenger), Some(data)) => CompareInput::Models {
                    champion,
                    challenger,
                    data,
                    label_column,
                    positive,
                },
                _ => unreachable!(
                    "clap requires --champion, --challenger and --data without --scores"
                ),
            };
            compare(input, policy.as_deref(), bootstrap, &out, seed)
        }
        Command::Golden {
            command: GoldenCommand::Accept { path },
        } => golden_accept(&path),
    };
    // An interrupt under way ends the process itself, with 128 + the signal.
    faultline_infra::signals::defer_to_interrupt();
    code
}

/// `faultline golden accept <dir or manifest>`.
fn golden_accept(path: &std::path::Path) -> ExitCode {
    let dir = if path.is_file() {
        match faultline_manifest::load::load(path) {
            Ok(m) => match m.golden_dir {
                Some(d) => d,
                None => {
                    errln!(
                        "faultline golden accept: manifest {} names no golden_dir; add \
                         `golden_dir = \"golden\"` to it, or give the snapshot directory",
                        path.display()
                    );
                    return ExitCode::from(2);
                }
            },
            Err(e) => {
                errln!("faultline golden accept: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        path.to_path_buf()
    };
    match faultline_runner::golden::accept(&dir) {
        Ok(accepted) if accepted.is_empty() => {
            outln!("no pending snapshot (*.snap.new) in {}", dir.display());
            ExitCode::SUCCESS
        }
        Ok(accepted) => {
            for a in &accepted {
                outln!("accepted {}", a.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("faultline golden accept: {e}");
            ExitCode::from(2)
        }
    }
}

/// Says what the stale-dir sweep removed and what it could not.
fn report_stale_dirs(sweep: &faultline_infra::stale::Sweep) {
    for r in &sweep.removed {
        errln!("faultline: {r}");
    }
    for (path, why) in &sweep.failed {
        errln!(
            "faultline: could not remove the stale temp dir {}: {why}",
            path.display()
        );
    }
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{s}` is not a shard; expected I/N with 1 <= I <= N, e.g. 2/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n) = (
        i.trim().parse::<u32>().map_err(|_| bad())?,
        n.trim().parse::<u32>().map_err(|_| bad())?,
    );
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The suite's options; `out` and `progress` are unused by `check`.
fn suite_options(
    target: PathBuf,
    flags: CheckFlags,
    out: PathBuf,
    progress: bool,
) -> Result<SuiteOptions, String> {
    let backend = match flags.backend.as_deref() {
        None => None,
        Some(b) => Some(
            b.parse::<BackendKind>()
                .map_err(|e| format!("--backend: {e}"))?,
        ),
    };
    let group_protocol = match flags.group_protocol.as_deref() {
        None => None,
        Some(p) => Some(
            p.parse::<GroupProtocol>()
                .map_err(|e| format!("--group-protocol: {e}"))?,
        ),
    };
    Ok(SuiteOptions {
        target,
        prefix: None,
        seed: None,
        seeds: 1,
        repeat: 1,
        golden: true,
        outcome_lines: true,
        backend,
        defect: flags.defect,
        group_protocol,
        out,
        shard: None,
        progress,
        pipeline: flags.pipeline,
    })
}

/// The options for `run`/`check` of `select`.
fn selected_options(
    select: Selection,
    flags: CheckFlags,
    out: PathBuf,
    progress: bool,
) -> Result<SuiteOptions, String> {
    let mut opts = suite_options(select.target, flags, out, progress)?;
    opts.seed = select.seed;
    opts.seeds = select.seeds.max(1);
    opts.shard = select.shard;
    Ok(opts)
}

/// `faultline check` and `faultline run --dry-run`: no runtime, no stack, no `--out`.
fn check_command(name: &str, select: Selection, flags: CheckFlags) -> ExitCode {
    // `check` writes nothing: the out directory is never used.
    let opts = match selected_options(select, flags, PathBuf::new(), false) {
        Ok(o) => o,
        Err(e) => {
            errln!("faultline {name}: {e}");
            return ExitCode::from(2);
        }
    };
    match check(&opts) {
        Ok(report) => {
            for p in &report.problems {
                errln!("faultline {name}: {p}");
            }
            out!("{}", report.render());
            ExitCode::from(if report.is_valid() { 0 } else { 2 })
        }
        Err(e) => {
            errln!("faultline {name}: {e}");
            ExitCode::from(2)
        }
    }
}

/// Exit code of a suite: 2 if a run could not finish (or was interrupted: a signal normally ends
/// the process with 128 + the signal before this is reached), else 1 if a check failed, else 0.
fn exit_code(suite: &faultline_report::SuiteReport) -> u8 {
    use faultline_report::Verdict;
    if suite
        .runs
        .iter()
        .any(|r| matches!(r.verdict, Verdict::Error | Verdict::Interrupted))
    {
        2
    } else if suite.runs.iter().any(|r| r.verdict == Verdict::Fail) {
        1
    } else {
        0
    }
}

fn print_summary(suite: &faultline_report::SuiteReport, out: &std::path::Path) {
    use faultline_report::Verdict;
    let interrupted = match suite.count(Verdict::Interrupted) {
        0 => String::new(),
        n => format!(", {n} interrupted"),
    };
    outln!(
        "faultline run: {} passed, {} failed, {} errors{interrupted} in {:.1} s; reports in {} (report.html, junit.xml, report.json)",
        suite.count(Verdict::Pass),
        suite.count(Verdict::Fail),
        suite.count(Verdict::Error),
        suite.duration_ms as f64 / 1000.0,
        out.display()
    );
    for r in suite.runs.iter().filter(|r| r.verdict != Verdict::Pass) {
        outln!("reproduce {} seed {}: {}", r.scenario, r.seed, r.repro);
    }
}

async fn run(select: Selection, repeat: u32, flags: RunFlags) -> ExitCode {
    let opts = match selected_options(select, flags.check, flags.out, !flags.quiet) {
        Ok(o) => SuiteOptions { repeat, ..o },
        Err(e) => {
            errln!("faultline run: {e}");
            return ExitCode::from(2);
        }
    };
    match run_suite(&opts).await {
        Ok(suite) => {
            print_summary(&suite, &opts.out);
            ExitCode::from(exit_code(&suite))
        }
        Err(e) => {
            errln!("faultline run: {e}");
            ExitCode::from(2)
        }
    }
}

async fn repro(bundle: PathBuf, flags: RunFlags) -> ExitCode {
    let opts = match suite_options(bundle.clone(), flags.check, flags.out, !flags.quiet) {
        Ok(o) => o,
        Err(e) => {
            errln!("faultline repro: {e}");
            return ExitCode::from(2);
        }
    };
    match faultline_runner::repro(&bundle, &opts).await {
        Ok((suite, was)) => {
            print_summary(&suite, &opts.out);
            let now = suite.runs.first().map(|r| r.verdict);
            let same = now == Some(was);
            outln!(
                "bundle verdict {was:?}, rerun verdict {now:?}: {}",
                if same { "reproduced" } else { "NOT reproduced" }
            );
            ExitCode::from(exit_code(&suite))
        }
        Err(e) => {
            errln!("faultline repro: {e}");
            ExitCode::from(2)
        }
    }
}

async fn shrink(
    bundle: PathBuf,
    so: faultline_runner::shrink::ShrinkOptions,
    flags: RunFlags,
) -> ExitCode {
    let opts = match suite_options(bundle.clone(), flags.check, flags.out, !flags.quiet) {
        Ok(o) => o,
        Err(e) => {
            errln!("faultline shrink: {e}");
            return ExitCode::from(2);
        }
    };
    match faultline_runner::shrink::shrink(&bundle, &opts, &so).await {
        Ok(suite) => {
            let log = suite.shrink.as_ref().expect("shrink writes its log");
            let (b, a) = (log.before, log.after);
            outln!(
                "faultline shrink: {} after {} candidates ({:.0} s): faults {} -> {}, events {} -> {}, \
                 workers {} -> {}, record-fault groups {} -> {}",
                log.stopped.as_str(),
                log.steps.len(),
                suite.duration_ms as f64 / 1000.0,
                b.faults,
                a.faults,
                b.events,
                a.events,
                b.workers,
                a.workers,
                b.record_fault_groups,
                a.record_fault_groups
            );
            match (&log.scenario_file, &log.shrunk_bundle) {
                (Some(file), bundle) => {
                    outln!("smallest failing case: {file}");
                    if let Some(b) = bundle {
                        outln!("its failing run: faultline repro {b}");
                    }
                    outln!(
                        "log: {} (report.html)",
                        opts.out.join("shrink.json").display()
                    );
                    ExitCode::from(1)
                }
                (None, _) => {
                    outln!(
                        "the bundle's own case did not fail in {} of {} runs: nothing to shrink \
                         (try `faultline run --repeat N` for its reproduction rate)",
                        so.min_failures,
                        so.runs
                    );
                    ExitCode::from(0)
                }
            }
        }
        Err(e) => {
            errln!("faultline shrink: {e}");
            ExitCode::from(2)
        }
    }
}

async fn hunt(
    scenario: PathBuf,
    (first, last): (u64, u64),
    parallel: Option<u32>,
    flags: RunFlags,
) -> ExitCode {
    let opts = match suite_options(scenario, flags.check, flags.out, !flags.quiet) {
        Ok(o) => o,
        Err(e) => {
            errln!("faultline hunt: {e}");
            return ExitCode::from(2);
        }
    };
    let h = faultline_runner::hunt::HuntOptions {
        first,
        last,
        parallel: parallel.unwrap_or_else(faultline_runner::hunt::default_parallel),
    };
    match faultline_runner::hunt::hunt(&opts, &h).await {
        Ok(suite) => {
            let hunt = suite.hunt.as_ref().expect("hunt writes its summary");
            match hunt
                .tried
                .iter()
                .find(|t| Some(t.seed) == hunt.first_failing)
            {
                Some(t) => {
                    outln!(
                        "faultline hunt: seed {} fails first ({}), after {} seeds; reports in {}",
                        t.seed,
                        t.classes.join(", "),
                        hunt.tried.len(),
                        opts.out.display()
                    );
                    if let Some(b) = &t.bundle {
                        outln!("bundle: {b}  (faultline repro {b}; faultline shrink {b})");
                    }
                    ExitCode::from(1)
                }
                None => {
                    outln!(
                        "faultline hunt: no seed of {first}..{last} failed ({} runs); reports in {}",
                        hunt.tried.len(),
                        opts.out.display()
                    );
                    ExitCode::from(exit_code(&suite))
                }
            }
        }
        Err(e) => {
            errln!("faultline hunt: {e}");
            ExitCode::from(2)
        }
    }
}

/// What `faultline compare` compares.
enum CompareInput {
    /// Two models scoring labelled data.
    Models {
        champion: PathBuf,
        challenger: PathBuf,
        data: PathBuf,
        label_column: String,
        positive: String,
    },
    /// Scores the owner already has.
    Scores {
        file: PathBuf,
        columns: faultline_models::ScoreColumns,
        thresholds: (f64, f64),
    },
}

fn parse_resampling(s: &str) -> Result<faultline_models::Resampling, String> {
    s.parse()
}

/// Runs the offline comparison; errors name the file and field, and exit 2.
fn compare(
    input: CompareInput,
    policy: Option<&std::path::Path>,
    bootstrap: Option<faultline_models::Resampling>,
    out: &std::path::Path,
    seed: u64,
) -> ExitCode {
    use anyhow::Context;
    use faultline_models::{
        compare_scored, compare_scores, load_model, score_dataset, write_outputs, DataColumns,
        Dataset, ModelScores, Policy, RowScores,
    };
    let run = || -> anyhow::Result<faultline_models::Comparison> {
        let mut policy = match policy {
            Some(p) => Policy::load(p).context("--policy")?,
            None => Policy::all_metrics(),
        };
        if let Some(method) = bootstrap {
            policy.bootstrap = method;
        }
        let (c, rows) = match &input {
            CompareInput::Models {
                champion,
                challenger,
                data,
                label_column,
                positive,
            } => {
                let champ = load_model(champion).context("--champion")?;
                let chall = load_model(challenger).context("--challenger")?;
                let columns = DataColumns {
                    label: label_column.clone(),
                    positive: positive.clone(),
                };
                let dataset = Dataset::load_with(data, &columns).context("--data")?;
                let rows = score_dataset(champ.as_ref(), chall.as_ref(), &dataset)?;
                let c = compare_scored(champ.as_ref(), chall.as_ref(), &rows, &policy, seed);
                (c, rows)
            }
            CompareInput::Scores {
                file,
                columns,
                thresholds,
            } => {
                let rows = RowScores::load(file, columns).context("--scores")?;
                let c = compare_scores(
                    ModelScores {
                        version: &columns.champion,
                        format: "scores",
                        threshold: thresholds.0,
                        scores: &rows.champion,
                    },
                    ModelScores {
                        version: &columns.challenger,
                        format: "scores",
                        threshold: thresholds.1,
                        scores: &rows.challenger,
                    },
                    &rows.labels,
                    &file.display().to_string(),
                    &policy,
                    seed,
                );
                (c, rows)
            }
        };
        let paths = write_outputs(&c, out).context("--out")?;
        let scores_csv = out.join(faultline_models::scores::SCORES_FILE);
        rows.write_csv(c.champion.threshold, c.challenger.threshold, &scores_csv)
            .context("--out")?;
        outln!(
            "verdict: {} ({} rows, {} positive)",
            c.verdict.as_str(),
            c.n,
            c.positives
        );
        for r in &c.reasons {
            outln!("  - {r}");
        }
        outln!(
            "wrote {}, {}, {}, {}",
            paths.json.display(),
            paths.markdown.display(),
            paths.html.display(),
            scores_csv.display()
        );
        Ok(c)
    };
    match run() {
        Ok(c) => ExitCode::from(c.verdict.exit_code() as u8),
        Err(e) => {
            errln!("faultline compare: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes on one line, `: `-separated, leaving out a cause whose text is already
/// there (the libraries' errors print their source themselves, so `{:#}` would say it twice).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

async fn infra_check(backend: &str, brokers: u32) -> ExitCode {
    let kind: BackendKind = match backend.parse() {
        Ok(k) => k,
        Err(e) => {
            errln!("faultline: --backend: {e}");
            return ExitCode::from(2);
        }
    };
    let mut spec = StackSpec {
        brokers,
        ..StackSpec::default()
    };
    if let Ok(id) = std::env::var("FAULTLINE_RUN_ID") {
        spec.run_id = id;
    }
    if let Err(e) = spec.validate() {
        errln!("faultline: --brokers: {e}");
        return ExitCode::from(2);
    }
    outln!(
        "faultline infra check: backend {kind}, {brokers} broker(s), run {}",
        spec.run_id
    );
    let report = run_check(kind, spec, |step| match &step.outcome {
        Ok(detail) => outln!(
            "  ok   {:>8.2} s  {}  ({detail})",
            step.elapsed.as_secs_f64(),
            step.name
        ),
        Err(cause) => outln!(
            "  FAIL {:>8.2} s  {}\n       {}",
            step.elapsed.as_secs_f64(),
            step.name,
            cause.replace('\n', "\n       ")
        ),
    })
    .await;
    let total: f64 = report.steps.iter().map(|s| s.elapsed.as_secs_f64()).sum();
    if report.passed() {
        outln!(
            "infra check passed on the {} backend in {total:.2} s",
            report.backend
        );
        ExitCode::SUCCESS
    } else {
        outln!("infra check FAILED on the {} backend", report.backend);
        ExitCode::from(1)
    }
}
