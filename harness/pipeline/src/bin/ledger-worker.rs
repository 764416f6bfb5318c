//! `ledger-worker`: one worker process of the reference pipeline. Configured entirely by environment
//! variables (the process contract); `FAULTLINE_MODE` picks stream, batch, dry-run, or recover (with
//! `FAULTLINE_RECOVER=rebuild|backfill`), parsed once into `config::Mode` and dispatched here.
//!
//! Exit codes: 0 done (batch caught up, dry run reported, recovery finished, SIGTERM honoured), 2 bad
//! configuration, 1 any other failure.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use faultline_pipeline::config::{Config, Mode, Recovery};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FAULTLINE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cfg = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ledger-worker: bad configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cfg.mode {
        Mode::Recover(Recovery::Rebuild) => faultline_pipeline::recovery::rebuild(&cfg)
            .map(|n| println!("{{\"rebuilt_transactions\":{n}}}")),
        Mode::Recover(Recovery::Backfill) => {
            faultline_pipeline::recovery::backfill(&cfg).map(|(r, n, q)| {
                println!("{{\"read\":{r},\"new_transactions\":{n},\"quarantined\":{q}}}")
            })
        }
        Mode::DryRun => faultline_pipeline::dryrun::run(&cfg).map(|report| {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            )
        }),
        Mode::Stream | Mode::Batch => {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = stop.clone();
            if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
                eprintln!("ledger-worker: cannot install the SIGTERM handler: {e}");
            }
            faultline_pipeline::worker::run(cfg, stop)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ledger-worker: {e:#}");
            ExitCode::from(1)
        }
    }
}
