//! Prometheus job metrics and the `/metrics` + `/healthz` endpoint.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// Every metric the worker exports. Names are part of the contract the alert rules rely on.
#[derive(Clone)]
pub struct Metrics {
    pub records_in: Counter,
    pub records_out: Family<Labels, Counter>,
    pub dlq: Family<Labels, Counter>,
    pub batch_duration: Histogram,
    pub last_success: Gauge<f64, AtomicU64>,
    pub partition_lag: Family<Labels, Gauge>,
    pub oldest_unprocessed_age: Gauge<f64, AtomicU64>,
    pub enrichment_failures: Counter,
    pub fenced: Counter,
    registry: Arc<Registry>,
}

/// Metric names, shared with the alert rules test.
pub const NAMES: [&str; 9] = [
    "ledger_records_in",
    "ledger_records_out",
    "ledger_dlq",
    "ledger_batch_duration_seconds",
    "job_last_success_unixtime",
    "ledger_partition_lag",
    "ledger_oldest_unprocessed_age_seconds",
    "ledger_enrichment_failures",
    "ledger_fenced_batches",
];

impl Metrics {
    pub fn new() -> Self {
        let mut r = Registry::default();
        let m = Self {
            records_in: Counter::default(),
            records_out: Family::default(),
            dlq: Family::default(),
            batch_duration: Histogram::new(exponential_buckets(0.002, 2.0, 14)),
            last_success: Gauge::default(),
            partition_lag: Family::default(),
            oldest_unprocessed_age: Gauge::default(),
            enrichment_failures: Counter::default(),
            fenced: Counter::default(),
            registry: Arc::new(Registry::default()),
        };
        r.register(
            NAMES[0],
            "Records consumed from the input topic",
            m.records_in.clone(),
        );
        r.register(
            NAMES[1],
            "Records committed, by outcome (new, duplicate, quarantined)",
            m.records_out.clone(),
        );
        r.register(
            NAMES[2],
            "Records sent to the dead-letter topic, by reason code",
            m.dlq.clone(),
        );
        r.register(
            NAMES[3],
            "Time to process and commit one batch",
            m.batch_duration.clone(),
        );
        r.register(
            NAMES[4],
            "Unix time of the last successfully committed batch",
            m.last_success.clone(),
        );
        r.register(
            NAMES[5],
            "High watermark minus committed offset, by partition",
            m.partition_lag.clone(),
        );
        r.register(
            NAMES[6],
            "Age of the oldest record in the last committed batch",
            m.oldest_unprocessed_age.clone(),
        );
        r.register(
            NAMES[7],
            "Batches that failed because the profile service was unavailable",
            m.enrichment_failures.clone(),
        );
        r.register(
            NAMES[8],
            "Batches rolled back because another worker owns the partition",
            m.fenced.clone(),
        );
        Self {
            registry: Arc::new(r),
            ..m
        }
    }

    pub fn label(k: &str, v: impl Into<String>) -> Labels {
        vec![(k.to_string(), v.into())]
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("encoding to a String cannot fail");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Health as `/healthz` reports it: `None` is healthy, `Some(reason)` is not.
pub type Health = Arc<Mutex<Option<String>>>;

/// Serves `/metrics` and `/healthz` on `addr` from a background thread.
pub fn serve(addr: &str, metrics: Metrics, health: Health) -> std::io::Result<()> {
    let server = tiny_http::Server::http(addr).map_err(std::io::Error::other)?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for req in server.incoming_requests() {
                let (status, body, ctype) = match req.url() {
                    "/metrics" => (
                        200,
                        metrics.render(),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    ),
                    "/healthz" => match health
                        .lock()
                        .map(|h| h.clone())
                        .unwrap_or(Some("poisoned".into()))
                    {
                        None => (200, "ok\n".to_string(), "text/plain"),
                        Some(why) => (503, format!("unhealthy: {why}\n"), "text/plain"),
                    },
                    _ => (
                        404,
                        "not found; try /metrics or /healthz\n".to_string(),
                        "text/plain",
                    ),
                };
                let header =
                    tiny_http::Header::from_bytes("Content-Type", ctype).expect("static header");
                let _ = req.respond(
                    tiny_http::Response::from_string(body)
                        .with_status_code(status)
                        .with_header(header),
                );
            }
        })?;
    Ok(())
}
