//! `/metrics` reports what landed, the DLQ-ratio alert reaches a webhook, and the alert rules are
//! valid Prometheus rules over metrics the worker really exports.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use faultline_infra::doctor::create_topic;
use faultline_tests::pipeline::{produce_workload, profile_service, stop, wait_caught_up, Run};
use faultline_workload::{generate, WorkloadSpec};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_records_and_dlq_alert_reaches_the_webhook() -> Result<()> {
    let stack = crate::stack().await?;
    let profiles = profile_service().await;
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/alerts"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    let run = Run::new(
        stack.bootstrap_servers(),
        stack.postgres().clone(),
        "obs",
        Some(profiles.uri()),
    );
    create_topic(&run.bootstrap, &run.topic, 2, 1).await?;
    // 10% malformed against a 5% threshold: the alert must fire.
    let w = generate(&WorkloadSpec {
        seed: 5,
        events: 3000,
        accounts: 50,
        partitions: 2,
        malformed_ratio: 0.10,
        ..WorkloadSpec::default()
    })?;
    produce_workload(&run.bootstrap, &run.topic, &w).await?;
    let port = faultline_infra::ports::free_ports(1)?[0];
    let addr = format!("127.0.0.1:{port}");
    let hook_url = format!("{}/alerts", hook.uri());
    let worker = run.spawn_worker(
        "obs",
        &[
            ("FAULTLINE_METRICS_ADDR", addr.as_str()),
            ("FAULTLINE_ALERT_WEBHOOK", hook_url.as_str()),
            ("FAULTLINE_ALERT_DLQ_RATIO", "0.05"),
        ],
    )?;
    wait_caught_up(&run, 2, Duration::from_secs(120)).await?;
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await?
        .text()
        .await?;
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await?
        .status();
    stop(worker)?;

    let counts = w.counts();
    ensure!(
        metric(&text, "ledger_records_in_total") as usize == w.records.len(),
        "records_in in:\n{text}"
    );
    ensure!(
        metric(&text, "ledger_dlq_total") as u64 == counts.malformed_total(),
        "dlq total in:\n{text}"
    );
    ensure!(
        metric(&text, "job_last_success_unixtime") > 1.7e9,
        "no last-success time in:\n{text}"
    );
    ensure!(
        text.contains("ledger_batch_duration_seconds_bucket"),
        "no batch histogram"
    );
    ensure!(health.is_success(), "healthz said {health}");

    let requests = hook.received_requests().await.context("recording on")?;
    ensure!(!requests.is_empty(), "no alert reached the webhook");
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body)?;
    ensure!(
        body[0]["labels"]["alertname"] == "LedgerDlqRatioHigh",
        "alert body: {body}"
    );
    ensure!(
        body[0]["annotations"]["dlq_ratio"]
            .as_str()
            .and_then(|r| r.parse::<f64>().ok())
            .is_some_and(|r| r > 0.05),
        "{body}"
    );
    stack.teardown().await?;
    Ok(())
}

#[test]
fn alert_rules_are_valid_and_use_exported_metrics() -> Result<()> {
    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../harness/pipeline/alerts/ledger.rules.yml"
    );
    let text = std::fs::read_to_string(rules)?;
    for alert in [
        "LedgerJobNotSucceeding",
        "LedgerDlqRatioHigh",
        "LedgerLagHigh",
    ] {
        ensure!(text.contains(&format!("alert: {alert}")), "{alert} missing");
    }
    // Every metric the rules use is one the worker exports.
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("ledger_") || word.starts_with("job_") {
            let base = word.trim_end_matches("_total");
            ensure!(
                faultline_pipeline::metrics::NAMES.contains(&base),
                "rules use `{word}`, which the worker does not export"
            );
        }
    }
    match std::process::Command::new("promtool")
        .args(["check", "rules", rules])
        .output()
    {
        Ok(out) => ensure!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            anyhow::bail!("promtool missing in CI; ci/provision.sh installs it")
        }
        Err(_) => {
            eprintln!("SKIPPED promtool check: promtool not installed (apt-get install prometheus)")
        }
    }
    Ok(())
}
