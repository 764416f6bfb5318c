//! `ledger-worker`: one worker process of the reference pipeline. Configured entirely by environment
//! variables (the process contract); `FAULTLINE_MODE` picks stream, batch, dry-run, or recover.
//!
//! Exit codes: 0 done (batch caught up, dry run reported, SIGTERM honoured), 2 bad configuration,
//! 1 any other failure.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use faultline_pipeline::config::{Config, Mode};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FAULTLINE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // `recover` is a mode of its own: FAULTLINE_MODE=recover FAULTLINE_RECOVER=rebuild|backfill.
    let recover = std::env::var("FAULTLINE_MODE")
        .ok()
        .filter(|m| m == "recover");
    if recover.is_some() {
        std::env::set_var("FAULTLINE_MODE", "batch");
    }
    let cfg = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ledger-worker: bad configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let result = if recover.is_some() {
        match std::env::var("FAULTLINE_RECOVER").as_deref() {
            Ok("rebuild") => faultline_pipeline::recovery::rebuild(&cfg)
                .map(|n| println!("{{\"rebuilt_transactions\":{n}}}")),
            Ok("backfill") => faultline_pipeline::recovery::backfill(&cfg).map(|(r, n, q)| {
                println!("{{\"read\":{r},\"new_transactions\":{n},\"quarantined\":{q}}}")
            }),
            other => {
                eprintln!(
                    "ledger-worker: FAULTLINE_RECOVER: {other:?}; expected rebuild or backfill"
                );
                return ExitCode::from(2);
            }
        }
    } else if cfg.mode == Mode::DryRun {
        faultline_pipeline::dryrun::run(&cfg).map(|report| {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            )
        })
    } else {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
            eprintln!("ledger-worker: cannot install the SIGTERM handler: {e}");
        }
        faultline_pipeline::worker::run(cfg, stop)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ledger-worker: {e:#}");
            ExitCode::from(1)
        }
    }
}
