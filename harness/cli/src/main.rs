//! The `faultline` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use faultline_infra::doctor::run_check;
use faultline_infra::{BackendKind, StackSpec};

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
    /// Compare a champion and a challenger model on labelled data; exit 0 promote, 1 keep or
    /// inconclusive, 2 invalid input.
    Compare {
        /// Champion model file (scorecard .json, .onnx with sidecar, or HTTP endpoint spec).
        #[arg(long)]
        champion: PathBuf,
        /// Challenger model file.
        #[arg(long)]
        challenger: PathBuf,
        /// Labelled data, .jsonl or .csv.
        #[arg(long)]
        data: PathBuf,
        /// Promotion policy (TOML); default gates every metric.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Where comparison.json, summary.md and report.html go.
        #[arg(long, default_value = "faultline-out/compare")]
        out: PathBuf,
        /// Bootstrap seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
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
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("FAULTLINE_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    faultline_infra::reaper::install_signal_handlers();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("faultline: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Infra { command: InfraCommand::Check { backend, brokers } } => rt.block_on(infra_check(&backend, brokers)),
        Command::Compare { champion, challenger, data, policy, out, seed } => {
            compare(&champion, &challenger, &data, policy.as_deref(), &out, seed)
        }
    }
}

/// Runs the offline comparison; errors name the file and field, and exit 2.
fn compare(champion: &std::path::Path, challenger: &std::path::Path, data: &std::path::Path, policy: Option<&std::path::Path>, out: &std::path::Path, seed: u64) -> ExitCode {
    use faultline_models::{compare, load_model, write_outputs, Dataset, Policy};
    let run = || -> anyhow::Result<faultline_models::Comparison> {
        let champ = load_model(champion)?;
        let chall = load_model(challenger)?;
        let dataset = Dataset::load(data)?;
        let policy = match policy {
            Some(p) => Policy::load(p)?,
            None => Policy::all_metrics(),
        };
        let c = compare(champ.as_ref(), chall.as_ref(), &dataset, &policy, seed)?;
        let paths = write_outputs(&c, out)?;
        println!("verdict: {} ({} rows, {} positive)", c.verdict.as_str(), c.n, c.positives);
        for r in &c.reasons {
            println!("  - {r}");
        }
        println!("wrote {}, {}, {}", paths.json.display(), paths.markdown.display(), paths.html.display());
        Ok(c)
    };
    match run() {
        Ok(c) => ExitCode::from(c.verdict.exit_code() as u8),
        Err(e) => {
            eprintln!("faultline compare: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn infra_check(backend: &str, brokers: u32) -> ExitCode {
    let kind: BackendKind = match backend.parse() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("faultline: --backend: {e}");
            return ExitCode::from(2);
        }
    };
    let mut spec = StackSpec { brokers, ..StackSpec::default() };
    if let Ok(id) = std::env::var("FAULTLINE_RUN_ID") {
        spec.run_id = id;
    }
    if let Err(e) = spec.validate() {
        eprintln!("faultline: --brokers: {e}");
        return ExitCode::from(2);
    }
    println!("faultline infra check: backend {kind}, {brokers} broker(s), run {}", spec.run_id);
    let report = run_check(kind, spec, |step| match &step.outcome {
        Ok(detail) => println!("  ok   {:>8.2} s  {}  ({detail})", step.elapsed.as_secs_f64(), step.name),
        Err(cause) => println!("  FAIL {:>8.2} s  {}\n       {}", step.elapsed.as_secs_f64(), step.name, cause.replace('\n', "\n       ")),
    })
    .await;
    let total: f64 = report.steps.iter().map(|s| s.elapsed.as_secs_f64()).sum();
    if report.passed() {
        println!("infra check passed on the {} backend in {total:.2} s", report.backend);
        ExitCode::SUCCESS
    } else {
        println!("infra check FAILED on the {} backend", report.backend);
        ExitCode::from(1)
    }
}
