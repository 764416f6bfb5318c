//! Readiness probes. A service is ready when it does real work, not when its port opens: Kafka when
//! metadata lists every expected broker, Postgres when a query returns.

use std::time::{Duration, Instant};

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::error::{InfraError, Result};
use crate::pg::PgConfig;

/// A quiet librdkafka client config for `bootstrap`.
pub fn kafka_client_config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("socket.connection.setup.timeout.ms", "3000")
        .set("reconnect.backoff.max.ms", "500")
        .set_log_level(RDKafkaLogLevel::Emerg);
    c
}

/// Number of brokers a metadata request through `bootstrap` lists, or the error.
fn brokers_seen(bootstrap: &str, timeout: Duration) -> std::result::Result<usize, String> {
    let consumer: BaseConsumer = kafka_client_config(bootstrap)
        .create()
        .map_err(|e| e.to_string())?;
    let md = consumer
        .fetch_metadata(None, timeout)
        .map_err(|e| e.to_string())?;
    Ok(md.brokers().len())
}

/// Waits until metadata fetched through `bootstrap` lists `expected_brokers`. `log_tail` is called
/// for the error message if it never does.
pub async fn wait_for_kafka(
    service: &str,
    bootstrap: &str,
    expected_brokers: usize,
    timeout: Duration,
    log_tail: impl Fn() -> String,
) -> Result<Duration> {
    let start = Instant::now();
    let bootstrap = bootstrap.to_string();
    let mut last = String::new();
    while start.elapsed() < timeout {
        let b = bootstrap.clone();
        match tokio::task::spawn_blocking(move || brokers_seen(&b, Duration::from_secs(2))).await {
            Ok(Ok(n)) if n >= expected_brokers => return Ok(start.elapsed()),
            Ok(Ok(n)) => last = format!("{n} of {expected_brokers} brokers in metadata"),
            Ok(Err(e)) => last = e,
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(InfraError::NotReady {
        service: format!("{service} ({bootstrap}; last: {last})"),
        waited_ms: start.elapsed().as_millis(),
        log_tail: log_tail(),
    })
}

/// Waits until the log file at `log` contains `line`: the readiness signal for a broker whose
/// advertised address is not wired yet (a metadata probe would follow that address and hang).
pub async fn wait_for_log_line(
    service: &str,
    log: &std::path::Path,
    line: &str,
    timeout: Duration,
    log_tail: impl Fn() -> String,
) -> Result<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if std::fs::read_to_string(log).is_ok_and(|text| text.contains(line)) {
            return Ok(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(InfraError::NotReady {
        service: format!("{service} (no \"{line}\" in {})", log.display()),
        waited_ms: start.elapsed().as_millis(),
        log_tail: log_tail(),
    })
}

/// Waits until `SELECT 1` succeeds.
pub async fn wait_for_postgres(
    pg: &PgConfig,
    timeout: Duration,
    log_tail: impl Fn() -> String,
) -> Result<Duration> {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < timeout {
        match pg.connect().await {
            Ok(client) => match client.simple_query("SELECT 1").await {
                Ok(_) => return Ok(start.elapsed()),
                Err(e) => last = e.to_string(),
            },
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(InfraError::NotReady {
        service: format!("postgres ({pg}; last: {last})"),
        waited_ms: start.elapsed().as_millis(),
        log_tail: log_tail(),
    })
}
