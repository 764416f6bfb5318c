//! One fault as written in a scenario (`FaultEntry`, a flat table) and as validated (`FaultAction`).
//!
//! The entry is flat so that a scenario reads naturally (`kind = "latency"`, `latency_ms = 200`);
//! validation then refuses any parameter the kind does not take, naming both.

use faultline_proxy::{Direction, Toxic, ToxicKind};
use serde::{Deserialize, Serialize};

/// Every fault kind, by family.
pub const KINDS: [&str; 23] = [
    // process
    "kill_worker",
    "pause_worker",
    "restart_worker",
    "scale_workers",
    // infra
    "kill_broker",
    "restart_broker",
    "pause_broker",
    "kill_postgres",
    "restart_postgres",
    "terminate_pg_backends",
    // network (through the fault proxy)
    "latency",
    "bandwidth",
    "slow_close",
    "timeout",
    "reset_peer",
    "slicer",
    "limit_data",
    "partition",
    "commit_in_doubt",
    // the enrichment HTTP service
    "enrichment_outage",
    "enrichment_latency",
    // aliases kept for readability in schedules
    "stop_broker",
    "blackhole",
];

/// One `[[faults]]` (or `[[random.faults]]`) table, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FaultEntry {
    /// The fault: one of the kinds in [`KINDS`].
    pub kind: String,
    /// Start this many ms after the workload starts. Exactly one of `at_ms` and `after_records`
    /// in `[[faults]]`; neither in `[[random.faults]]`.
    pub at_ms: Option<u64>,
    /// Start once this many records have been produced.
    pub after_records: Option<u64>,
    /// How long the fault lasts before it is healed, ms. Required for pauses, network faults,
    /// enrichment faults and scaling; for kills it is the down time before the restart (default 0).
    pub duration_ms: Option<u64>,
    /// Relative weight when drawn by `[random]`. Default 1.
    pub weight: Option<u32>,
    /// Worker faults: `any` (drawn from the seed among live workers, default) or a worker id like `w2`.
    pub worker: Option<String>,
    /// `kill_worker`, `pause_worker`: wait (from `at_ms`, up to 10 s) until the worker has a Postgres
    /// transaction open, and strike it there. Needs the pipeline to name its Postgres sessions
    /// (docs/PIPELINE-CONTRACT.md). Default false: strike at `at_ms` wherever the worker is.
    pub in_transaction: Option<bool>,
    /// Broker faults: `any` (drawn from the seed, default) or a broker id 1..=3.
    pub broker: Option<String>,
    /// Network faults: `kafka` (every broker's proxy, default), `kafka-N`, or `postgres`.
    pub target: Option<String>,
    /// Network faults: `upstream` (to the service), `downstream` (to the client) or `both` (default).
    pub direction: Option<Direction>,
    /// Network faults: the share of connections affected, 0..=1 (default 1), drawn from the seed.
    pub probability: Option<f64>,
    /// `latency`, `enrichment_latency`: added delay, ms.
    pub latency_ms: Option<u64>,
    /// `latency`: ± uniform jitter, ms. Default 0.
    pub jitter_ms: Option<u64>,
    /// `bandwidth`: KiB per second.
    pub rate_kbps: Option<u64>,
    /// `slow_close`: delay before a close is passed on, ms.
    pub delay_ms: Option<u64>,
    /// `timeout`, `reset_peer`: ms before the connection is closed / reset (0 = never, for timeout).
    pub timeout_ms: Option<u64>,
    /// `slicer`: average slice size in bytes.
    pub average_size: Option<usize>,
    /// `slicer`: ± slice size variation in bytes. Default 0.
    pub size_variation: Option<usize>,
    /// `slicer`: delay between slices, µs. Default 0.
    pub delay_us: Option<u64>,
    /// `limit_data`: bytes after which the connection is closed.
    pub bytes: Option<u64>,
    /// `scale_workers`: worker count while the fault lasts.
    pub workers: Option<u32>,
    /// `enrichment_outage`: HTTP status the profile service answers with. Default 503.
    pub status: Option<u16>,
}

/// The fault families; the runner has one injector per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Process,
    Infra,
    Network,
    Enrichment,
}

/// Which worker a worker fault hits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkerSel {
    /// One of the live workers, chosen with the fault's seeded `pick`.
    Any,
    /// A worker by id (`w1`, `w2`, ...).
    Id(String),
}

/// Which broker a broker fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerSel {
    Any,
    Id(u32),
}

/// Where a network fault applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetTarget {
    /// Every broker's proxy.
    Kafka,
    /// One broker's proxy.
    Broker(u32),
    /// The Postgres proxy.
    Postgres,
}

/// A validated fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum FaultAction {
    /// SIGKILL a worker; a replacement starts after the fault's duration (0 = at once).
    KillWorker {
        worker: WorkerSel,
        /// Strike only while the worker has a Postgres transaction open.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        in_transaction: bool,
    },
    /// SIGSTOP a worker for the duration, then SIGCONT (a zombie when longer than the session timeout).
    PauseWorker {
        worker: WorkerSel,
        /// Strike only while the worker has a Postgres transaction open.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        in_transaction: bool,
    },
    /// SIGTERM a worker (graceful), then start it again.
    RestartWorker { worker: WorkerSel },
    /// Change the worker count for the duration (rebalances), then go back.
    ScaleWorkers { workers: u32 },
    /// SIGKILL a broker; start it again after the duration.
    KillBroker { broker: BrokerSel },
    /// Stop a broker cleanly; start it again after the duration.
    StopBroker { broker: BrokerSel },
    /// Freeze a broker for the duration.
    PauseBroker { broker: BrokerSel },
    /// SIGKILL Postgres; start it again after the duration.
    KillPostgres,
    /// Fast shutdown and start of Postgres.
    RestartPostgres,
    /// `pg_terminate_backend` on every client connection.
    TerminatePgBackends,
    /// A proxy toxic for the duration.
    Network { target: NetTarget, toxic: Toxic },
    /// The proxy refuses and closes every connection for the duration.
    Partition { target: NetTarget },
    /// The profile service answers `status` for the duration.
    EnrichmentOutage { status: u16 },
    /// The profile service answers late for the duration.
    EnrichmentLatency { latency_ms: u64 },
}

impl FaultAction {
    pub fn family(&self) -> Family {
        use FaultAction::*;
        match self {
            KillWorker { .. } | PauseWorker { .. } | RestartWorker { .. } | ScaleWorkers { .. } => {
                Family::Process
            }
            KillBroker { .. }
            | StopBroker { .. }
            | PauseBroker { .. }
            | KillPostgres
            | RestartPostgres
            | TerminatePgBackends => Family::Infra,
            Network { .. } | Partition { .. } => Family::Network,
            EnrichmentOutage { .. } | EnrichmentLatency { .. } => Family::Enrichment,
        }
    }

    /// True when the fault needs a `duration_ms` (it has a window to heal).
    pub fn needs_duration(&self) -> bool {
        matches!(self.family(), Family::Network | Family::Enrichment)
            || matches!(
                self,
                FaultAction::PauseWorker { .. }
                    | FaultAction::ScaleWorkers { .. }
                    | FaultAction::PauseBroker { .. }
            )
    }

    /// True for faults that need Kafka or Postgres processes the harness controls (refused on the
    /// external backend).
    pub fn needs_own_infra(&self) -> bool {
        self.family() == Family::Infra && !matches!(self, FaultAction::TerminatePgBackends)
    }
}

/// A parameter problem: (field, message). The loader adds file and line.
pub type EntryError = (&'static str, String);

impl FaultEntry {
    /// Names of the parameters set on this entry (besides kind, timing and weight).
    fn params(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        macro_rules! has {
            ($($f:ident),*) => { $( if self.$f.is_some() { v.push(stringify!($f)); } )* };
        }
        has!(
            worker,
            in_transaction,
            broker,
            target,
            direction,
            probability,
            latency_ms,
            jitter_ms,
            rate_kbps,
            delay_ms,
            timeout_ms,
            average_size,
            size_variation,
            delay_us,
            bytes,
            workers,
            status
        );
        v
    }

    /// Validates the entry and turns it into an action.
    pub fn action(&self) -> Result<FaultAction, EntryError> {
        let allowed: &[&str] = match self.kind.as_str() {
            "kill_worker" | "pause_worker" => &["worker", "in_transaction"],
            "restart_worker" => &["worker"],
            "scale_workers" => &["workers"],
            "kill_broker" | "restart_broker" | "stop_broker" | "pause_broker" => &["broker"],
            "kill_postgres" | "restart_postgres" | "terminate_pg_backends" => &[],
            "latency" => &[
                "target",
                "direction",
                "probability",
                "latency_ms",
                "jitter_ms",
            ],
            "bandwidth" => &["target", "direction", "probability", "rate_kbps"],
            "slow_close" => &["target", "direction", "probability", "delay_ms"],
            "timeout" | "reset_peer" => &["target", "direction", "probability", "timeout_ms"],
            "blackhole" => &["target", "direction", "probability"],
            "slicer" => &[
                "target",
                "direction",
                "probability",
                "average_size",
                "size_variation",
                "delay_us",
            ],
            "limit_data" => &["target", "direction", "probability", "bytes"],
            "partition" => &["target"],
            "commit_in_doubt" => &["probability"],
            "enrichment_outage" => &["status"],
            "enrichment_latency" => &["latency_ms"],
            other => {
                return Err((
                    "kind",
                    format!(
                        "unknown fault kind `{other}`; expected one of {}",
                        KINDS.join(", ")
                    ),
                ))
            }
        };
        if let Some(p) = self.params().into_iter().find(|p| !allowed.contains(p)) {
            let takes = if allowed.is_empty() {
                "no parameters".to_string()
            } else {
                allowed.join(", ")
            };
            return Err((
                p,
                format!("does not apply to kind `{}`; it takes {takes}", self.kind),
            ));
        }
        let worker = || -> Result<WorkerSel, EntryError> {
            match self.worker.as_deref() {
                None | Some("any") => Ok(WorkerSel::Any),
                Some(w) if w.starts_with('w') && w[1..].parse::<u32>().is_ok_and(|n| n >= 1) => {
                    Ok(WorkerSel::Id(w.into()))
                }
                Some(w) => Err((
                    "worker",
                    format!("`{w}` is not a worker; expected `any` or w1, w2, ..."),
                )),
            }
        };
        let broker = || -> Result<BrokerSel, EntryError> {
            match self.broker.as_deref() {
                None | Some("any") => Ok(BrokerSel::Any),
                Some(b) => match b.parse::<u32>() {
                    Ok(n @ 1..=3) => Ok(BrokerSel::Id(n)),
                    _ => Err((
                        "broker",
                        format!("`{b}` is not a broker; expected `any` or 1..=3"),
                    )),
                },
            }
        };
        let target = || -> Result<NetTarget, EntryError> {
            match self.target.as_deref() {
                None | Some("kafka") => Ok(NetTarget::Kafka),
                Some("postgres") => Ok(NetTarget::Postgres),
                Some(t) => match t.strip_prefix("kafka-").and_then(|n| n.parse::<u32>().ok()) {
                    Some(n @ 1..=3) => Ok(NetTarget::Broker(n)),
                    _ => Err(("target", format!("`{t}` is not a network target; expected kafka, kafka-1..kafka-3 or postgres"))),
                },
            }
        };
        let need = |field: &'static str, v: Option<u64>| {
            v.ok_or((field, format!("is required for kind `{}`", self.kind)))
        };
        let toxic = |kind: ToxicKind| -> Result<FaultAction, EntryError> {
            let toxic = Toxic {
                kind,
                direction: self.direction.unwrap_or_default(),
                probability: self.probability.unwrap_or(1.0),
            };
            toxic.validate().map_err(|e| ("kind", e.to_string()))?;
            Ok(FaultAction::Network {
                target: target()?,
                toxic,
            })
        };
        let action = match self.kind.as_str() {
            "kill_worker" => FaultAction::KillWorker {
                worker: worker()?,
                in_transaction: self.in_transaction.unwrap_or(false),
            },
            "pause_worker" => FaultAction::PauseWorker {
                worker: worker()?,
                in_transaction: self.in_transaction.unwrap_or(false),
            },
            "restart_worker" => FaultAction::RestartWorker { worker: worker()? },
            "scale_workers" => match self.workers {
                Some(n @ 1..=16) => FaultAction::ScaleWorkers { workers: n },
                Some(n) => return Err(("workers", format!("{n} is outside 1..=16"))),
                None => return Err(("workers", "is required for kind `scale_workers`".into())),
            },
            "kill_broker" => FaultAction::KillBroker { broker: broker()? },
            "restart_broker" | "stop_broker" => FaultAction::StopBroker { broker: broker()? },
            "pause_broker" => FaultAction::PauseBroker { broker: broker()? },
            "kill_postgres" => FaultAction::KillPostgres,
            "restart_postgres" => FaultAction::RestartPostgres,
            "terminate_pg_backends" => FaultAction::TerminatePgBackends,
            "latency" => toxic(ToxicKind::Latency {
                latency_ms: need("latency_ms", self.latency_ms)?,
                jitter_ms: self.jitter_ms.unwrap_or(0),
            })?,
            "bandwidth" => toxic(ToxicKind::Bandwidth {
                rate_kbps: need("rate_kbps", self.rate_kbps)?,
            })?,
            "slow_close" => toxic(ToxicKind::SlowClose {
                delay_ms: need("delay_ms", self.delay_ms)?,
            })?,
            "timeout" => toxic(ToxicKind::Timeout {
                timeout_ms: need("timeout_ms", self.timeout_ms)?,
            })?,
            "blackhole" => toxic(ToxicKind::Timeout { timeout_ms: 0 })?,
            "reset_peer" => toxic(ToxicKind::ResetPeer {
                timeout_ms: need("timeout_ms", self.timeout_ms)?,
            })?,
            "slicer" => toxic(ToxicKind::Slicer {
                average_size: need("average_size", self.average_size.map(|v| v as u64))? as usize,
                size_variation: self.size_variation.unwrap_or(0),
                delay_us: self.delay_us.unwrap_or(0),
            })?,
            "limit_data" => toxic(ToxicKind::LimitData {
                bytes: need("bytes", self.bytes)?,
            })?,
            "partition" => FaultAction::Partition { target: target()? },
            // Postgres' answers are read for the commit acknowledgement: always that target and stream.
            "commit_in_doubt" => {
                let toxic = Toxic {
                    kind: ToxicKind::CommitInDoubt,
                    direction: Direction::Downstream,
                    probability: self.probability.unwrap_or(1.0),
                };
                toxic
                    .validate()
                    .map_err(|e| ("probability", e.to_string()))?;
                FaultAction::Network {
                    target: NetTarget::Postgres,
                    toxic,
                }
            }
            "enrichment_outage" => match self.status.unwrap_or(503) {
                s @ 400..=599 => FaultAction::EnrichmentOutage { status: s },
                s => {
                    return Err((
                        "status",
                        format!("{s} is not an error status; expected 400..=599"),
                    ))
                }
            },
            "enrichment_latency" => FaultAction::EnrichmentLatency {
                latency_ms: need("latency_ms", self.latency_ms)?,
            },
            _ => unreachable!("kinds were matched above"),
        };
        Ok(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str) -> FaultEntry {
        FaultEntry {
            kind: kind.into(),
            ..FaultEntry::default()
        }
    }

    #[test]
    fn unknown_kind_lists_the_allowed_kinds() {
        let (field, msg) = entry("kil_worker").action().unwrap_err();
        assert_eq!(field, "kind");
        assert!(
            msg.starts_with(
                "unknown fault kind `kil_worker`; expected one of kill_worker, pause_worker"
            ),
            "{msg}"
        );
    }

    #[test]
    fn a_parameter_of_another_kind_is_refused_by_name() {
        let e = FaultEntry {
            latency_ms: Some(5),
            ..entry("kill_worker")
        };
        assert_eq!(
            e.action().unwrap_err(),
            (
                "latency_ms",
                "does not apply to kind `kill_worker`; it takes worker, in_transaction".into()
            )
        );
        let e = FaultEntry {
            in_transaction: Some(true),
            ..entry("restart_worker")
        };
        assert_eq!(
            e.action().unwrap_err(),
            (
                "in_transaction",
                "does not apply to kind `restart_worker`; it takes worker".into()
            )
        );
        let e = FaultEntry {
            broker: Some("1".into()),
            ..entry("restart_postgres")
        };
        assert_eq!(
            e.action().unwrap_err().1,
            "does not apply to kind `restart_postgres`; it takes no parameters"
        );
    }

    #[test]
    fn network_kinds_build_toxics_and_need_their_parameter() {
        assert_eq!(
            entry("latency").action().unwrap_err(),
            ("latency_ms", "is required for kind `latency`".into())
        );
        let e = FaultEntry {
            latency_ms: Some(200),
            jitter_ms: Some(50),
            target: Some("kafka-2".into()),
            ..entry("latency")
        };
        match e.action().unwrap() {
            FaultAction::Network {
                target: NetTarget::Broker(2),
                toxic,
            } => {
                assert_eq!(
                    toxic.kind,
                    ToxicKind::Latency {
                        latency_ms: 200,
                        jitter_ms: 50
                    }
                );
                assert_eq!(toxic.probability, 1.0);
            }
            other => panic!("{other:?}"),
        }
        match entry("commit_in_doubt").action().unwrap() {
            FaultAction::Network {
                target: NetTarget::Postgres,
                toxic,
            } => {
                assert_eq!(
                    (toxic.kind, toxic.direction),
                    (ToxicKind::CommitInDoubt, Direction::Downstream)
                );
            }
            other => panic!("{other:?}"),
        }
        let e = FaultEntry {
            target: Some("kafka".into()),
            ..entry("commit_in_doubt")
        };
        assert_eq!(
            e.action().unwrap_err(),
            (
                "target",
                "does not apply to kind `commit_in_doubt`; it takes probability".into()
            )
        );
        let e = FaultEntry {
            target: Some("kafka-9".into()),
            ..entry("partition")
        };
        assert!(e
            .action()
            .unwrap_err()
            .1
            .contains("expected kafka, kafka-1..kafka-3 or postgres"));
    }

    #[test]
    fn selectors_parse_and_bad_ones_name_the_field() {
        let e = FaultEntry {
            worker: Some("w2".into()),
            ..entry("kill_worker")
        };
        assert_eq!(
            e.action().unwrap(),
            FaultAction::KillWorker {
                worker: WorkerSel::Id("w2".into()),
                in_transaction: false
            }
        );
        let e = FaultEntry {
            in_transaction: Some(true),
            ..entry("pause_worker")
        };
        assert_eq!(
            e.action().unwrap(),
            FaultAction::PauseWorker {
                worker: WorkerSel::Any,
                in_transaction: true
            }
        );
        let e = FaultEntry {
            worker: Some("worker2".into()),
            ..entry("kill_worker")
        };
        assert_eq!(e.action().unwrap_err().0, "worker");
        let e = FaultEntry {
            broker: Some("4".into()),
            ..entry("kill_broker")
        };
        assert_eq!(e.action().unwrap_err().0, "broker");
    }

    #[test]
    fn every_listed_kind_is_accepted_with_its_required_parameters() {
        for kind in KINDS {
            let e = FaultEntry {
                latency_ms: ["latency", "enrichment_latency"]
                    .contains(&kind)
                    .then_some(10),
                rate_kbps: (kind == "bandwidth").then_some(64),
                delay_ms: (kind == "slow_close").then_some(10),
                timeout_ms: ["timeout", "reset_peer"].contains(&kind).then_some(10),
                average_size: (kind == "slicer").then_some(16),
                bytes: (kind == "limit_data").then_some(100),
                workers: (kind == "scale_workers").then_some(3),
                ..entry(kind)
            };
            e.action().unwrap_or_else(|err| panic!("{kind}: {err:?}"));
        }
    }
}
