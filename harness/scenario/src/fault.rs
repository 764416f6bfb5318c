//! One fault as written in a scenario (`FaultEntry`, a flat table), its kind (`FaultKind`, the one
//! table of kinds that parsing, validation, the docs and the plan follow) and as validated
//! (`FaultAction`).
//!
//! The entry is flat so that a scenario reads naturally (`kind = "latency"`, `latency_ms = 200`);
//! validation then refuses any parameter the kind does not take, naming both.

use serde::{Deserialize, Serialize};

use crate::toxic::{Direction, Toxic, ToxicKind};

/// Declares `FaultEntry`: the fixed fields (kind, timing, weight) and then every parameter, each
/// once. From the parameter list it also derives `FaultEntry::params` (the names set on an entry)
/// and `param::<name>`, each parameter's type, which `ToxicKind` reuses so that a toxic's
/// parameters are declared here only.
macro_rules! fault_entry {
    ($( $(#[doc = $doc:literal])+ $param:ident: $ty:ty, )+) => {
        /// One `[[faults]]` (or `[[random.faults]]`) table, as written.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        pub struct FaultEntry {
            /// The fault: one of the kinds of [`FaultKind`], by its name (e.g. `kill_worker`).
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
            $( $(#[doc = $doc])+ pub $param: Option<$ty>, )+
        }

        impl FaultEntry {
            /// Names of the parameters set on this entry (besides kind, timing and weight), in
            /// declaration order.
            fn params(&self) -> Vec<&'static str> {
                let mut set = Vec::new();
                $( if self.$param.is_some() { set.push(stringify!($param)); } )+
                set
            }
        }

        /// The type of each parameter, by its name (`ToxicKind` uses the toxic ones).
        #[allow(non_camel_case_types, dead_code)]
        pub(crate) mod param {
            use super::*;
            $( pub type $param = $ty; )+
        }
    };
}

fault_entry! {
    /// Worker faults: `any` (drawn from the seed among live workers, default) or a worker id like `w2`.
    worker: String,
    /// `kill_worker`, `pause_worker`: wait (from `at_ms`, up to 10 s) until the worker has a Postgres
    /// transaction open, and strike it there. Needs the pipeline to name its Postgres sessions
    /// (docs/PIPELINE-CONTRACT.md). Default false: strike at `at_ms` wherever the worker is.
    in_transaction: bool,
    /// Broker faults: `any` (drawn from the seed, default) or a broker id 1..=3.
    broker: String,
    /// Network faults: `kafka` (every broker's proxy, default), `kafka-N`, or `postgres`.
    target: String,
    /// Network faults: `upstream` (to the service), `downstream` (to the client) or `both` (default).
    direction: Direction,
    /// Network faults: the share of connections affected, 0..=1 (default 1), drawn from the seed.
    probability: f64,
    /// `latency`, `enrichment_latency`: added delay, ms.
    latency_ms: u64,
    /// `latency`: ± uniform jitter, ms. Default 0.
    jitter_ms: u64,
    /// `bandwidth`: KiB per second.
    rate_kbps: u64,
    /// `slow_close`: delay before a close is passed on, ms.
    delay_ms: u64,
    /// `timeout`, `reset_peer`: ms before the connection is closed / reset (0 = never, for timeout).
    timeout_ms: u64,
    /// `slicer`: average slice size in bytes.
    average_size: usize,
    /// `slicer`: ± slice size variation in bytes. Default 0.
    size_variation: usize,
    /// `slicer`: delay between slices, µs. Default 0.
    delay_us: u64,
    /// `limit_data`: bytes after which the connection is closed.
    bytes: u64,
    /// `scale_workers`: worker count while the fault lasts.
    workers: u32,
    /// `enrichment_outage`: HTTP status the profile service answers with. Default 503.
    status: u16,
}

/// Declares `FaultKind` from one line per kind: its name as written, and the parameters it takes;
/// `+ toxic` adds the parameters of the proxy toxic of the same name (see `ToxicKind`).
macro_rules! fault_kinds {
    ($( $(#[doc = $doc:literal])+ $kind:ident = $name:literal [$($param:ident),*] $(+ $toxic:ident)?; )+) => {
        /// Every fault kind, in the order error messages list them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FaultKind {
            $( $(#[doc = $doc])+ $kind, )+
        }

        impl FaultKind {
            /// Every kind: by family, then the aliases.
            pub const ALL: &[FaultKind] = &[$(FaultKind::$kind),+];

            /// The name as written in `kind = "..."`.
            pub fn name(self) -> &'static str {
                match self {
                    $( FaultKind::$kind => $name, )+
                }
            }

            /// The parameters the kind takes, in the order error messages list them.
            pub fn params(self) -> Vec<&'static str> {
                match self {
                    $( FaultKind::$kind => {
                        #[allow(unused_mut)]
                        let mut params = vec![$(stringify!($param)),*];
                        $( fault_kinds!(@$toxic params, $name); )?
                        params
                    } )+
                }
            }
        }
    };
    (@toxic $params:ident, $name:literal) => {
        $params.extend(ToxicKind::params_of($name).expect("a toxic of that name"))
    };
}

fault_kinds! {
    // process
    /// SIGKILL a worker; a replacement starts after the fault's duration (0 = at once).
    KillWorker = "kill_worker" [worker, in_transaction];
    /// SIGSTOP a worker for the duration, then SIGCONT (a zombie when longer than the session timeout).
    PauseWorker = "pause_worker" [worker, in_transaction];
    /// SIGTERM a worker (graceful), then start it again.
    RestartWorker = "restart_worker" [worker];
    /// Change the worker count for the duration (rebalances), then go back.
    ScaleWorkers = "scale_workers" [workers];
    // infra
    /// SIGKILL a broker; start it again after the duration.
    KillBroker = "kill_broker" [broker];
    /// Stop a broker cleanly; start it again after the duration.
    RestartBroker = "restart_broker" [broker];
    /// Freeze a broker for the duration.
    PauseBroker = "pause_broker" [broker];
    /// SIGKILL Postgres; start it again after the duration.
    KillPostgres = "kill_postgres" [];
    /// Fast shutdown and start of Postgres.
    RestartPostgres = "restart_postgres" [];
    /// `pg_terminate_backend` on every client connection.
    TerminatePgBackends = "terminate_pg_backends" [];
    // network (through the fault proxy)
    /// Delay every chunk, with jitter.
    Latency = "latency" [target, direction, probability] + toxic;
    /// Limit the stream's rate.
    Bandwidth = "bandwidth" [target, direction, probability] + toxic;
    /// Delay passing on a close.
    SlowClose = "slow_close" [target, direction, probability] + toxic;
    /// Stop all data, and close the connection after `timeout_ms` (0 = never).
    Timeout = "timeout" [target, direction, probability] + toxic;
    /// Reset the connection after `timeout_ms`.
    ResetPeer = "reset_peer" [target, direction, probability] + toxic;
    /// Cut the stream into small delayed slices.
    Slicer = "slicer" [target, direction, probability] + toxic;
    /// Close the connection after `bytes` bytes.
    LimitData = "limit_data" [target, direction, probability] + toxic;
    /// The proxy refuses and closes every connection for the duration.
    Partition = "partition" [target];
    /// The Postgres proxy closes the connection in place of a COMMIT's acknowledgement.
    CommitInDoubt = "commit_in_doubt" [probability];
    // the enrichment HTTP service
    /// The profile service answers `status` for the duration.
    EnrichmentOutage = "enrichment_outage" [status];
    /// The profile service answers late for the duration.
    EnrichmentLatency = "enrichment_latency" [latency_ms];
    // aliases kept for readability in schedules
    /// `restart_broker`.
    StopBroker = "stop_broker" [broker];
    /// `timeout` with `timeout_ms = 0`: data stops until the fault is healed.
    Blackhole = "blackhole" [target, direction, probability];
}

impl FaultKind {
    /// The kind named `name`; the error lists every kind.
    pub fn from_name(name: &str) -> Result<FaultKind, EntryError> {
        FaultKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                let all: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
                (
                    "kind",
                    format!(
                        "unknown fault kind `{name}`; expected one of {}",
                        all.join(", ")
                    ),
                )
            })
    }
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
    /// [`FaultKind::KillWorker`].
    KillWorker {
        worker: WorkerSel,
        /// Strike only while the worker has a Postgres transaction open.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        in_transaction: bool,
    },
    /// [`FaultKind::PauseWorker`].
    PauseWorker {
        worker: WorkerSel,
        /// Strike only while the worker has a Postgres transaction open.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        in_transaction: bool,
    },
    /// [`FaultKind::RestartWorker`].
    RestartWorker { worker: WorkerSel },
    /// [`FaultKind::ScaleWorkers`].
    ScaleWorkers { workers: u32 },
    /// [`FaultKind::KillBroker`].
    KillBroker { broker: BrokerSel },
    /// [`FaultKind::RestartBroker`] and its alias [`FaultKind::StopBroker`].
    StopBroker { broker: BrokerSel },
    /// [`FaultKind::PauseBroker`].
    PauseBroker { broker: BrokerSel },
    /// [`FaultKind::KillPostgres`].
    KillPostgres,
    /// [`FaultKind::RestartPostgres`].
    RestartPostgres,
    /// [`FaultKind::TerminatePgBackends`].
    TerminatePgBackends,
    /// A proxy toxic for the duration: the toxic kinds, [`FaultKind::Blackhole`] and
    /// [`FaultKind::CommitInDoubt`].
    Network { target: NetTarget, toxic: Toxic },
    /// [`FaultKind::Partition`].
    Partition { target: NetTarget },
    /// [`FaultKind::EnrichmentOutage`].
    EnrichmentOutage { status: u16 },
    /// [`FaultKind::EnrichmentLatency`].
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
    /// Validates the entry and turns it into an action.
    pub fn action(&self) -> Result<FaultAction, EntryError> {
        let kind = FaultKind::from_name(&self.kind)?;
        let allowed = kind.params();
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
        let action = match kind {
            FaultKind::KillWorker => FaultAction::KillWorker {
                worker: worker()?,
                in_transaction: self.in_transaction.unwrap_or(false),
            },
            FaultKind::PauseWorker => FaultAction::PauseWorker {
                worker: worker()?,
                in_transaction: self.in_transaction.unwrap_or(false),
            },
            FaultKind::RestartWorker => FaultAction::RestartWorker { worker: worker()? },
            FaultKind::ScaleWorkers => match self.workers {
                Some(n @ 1..=16) => FaultAction::ScaleWorkers { workers: n },
                Some(n) => return Err(("workers", format!("{n} is outside 1..=16"))),
                None => return Err(("workers", "is required for kind `scale_workers`".into())),
            },
            FaultKind::KillBroker => FaultAction::KillBroker { broker: broker()? },
            FaultKind::RestartBroker | FaultKind::StopBroker => {
                FaultAction::StopBroker { broker: broker()? }
            }
            FaultKind::PauseBroker => FaultAction::PauseBroker { broker: broker()? },
            FaultKind::KillPostgres => FaultAction::KillPostgres,
            FaultKind::RestartPostgres => FaultAction::RestartPostgres,
            FaultKind::TerminatePgBackends => FaultAction::TerminatePgBackends,
            FaultKind::Blackhole => toxic(ToxicKind::Timeout { timeout_ms: 0 })?,
            FaultKind::Partition => FaultAction::Partition { target: target()? },
            // Postgres' answers are read for the commit acknowledgement: always that target and stream.
            FaultKind::CommitInDoubt => {
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
            FaultKind::EnrichmentOutage => match self.status.unwrap_or(503) {
                s @ 400..=599 => FaultAction::EnrichmentOutage { status: s },
                s => {
                    return Err((
                        "status",
                        format!("{s} is not an error status; expected 400..=599"),
                    ))
                }
            },
            FaultKind::EnrichmentLatency => FaultAction::EnrichmentLatency {
                latency_ms: self.latency_ms.ok_or((
                    "latency_ms",
                    format!("is required for kind `{}`", self.kind),
                ))?,
            },
            // The rest are the kinds marked `+ toxic` in the table: a proxy toxic of the same name.
            toxic_kind => toxic(
                ToxicKind::from_entry(toxic_kind.name(), self)
                    .expect("every other kind is a toxic of its name")?,
            )?,
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
        for kind in FaultKind::ALL.iter().map(|k| k.name()) {
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

    #[test]
    fn kinds_marked_toxic_build_the_toxic_of_their_name_with_its_parameters() {
        for &kind in FaultKind::ALL {
            let Some(toxic_params) = ToxicKind::params_of(kind.name()) else {
                continue;
            };
            if kind == FaultKind::CommitInDoubt {
                continue; // a fixed target and direction: only `probability` is written
            }
            assert_eq!(
                kind.params(),
                [&["target", "direction", "probability"][..], toxic_params].concat(),
                "{kind:?}"
            );
            let mut e = entry(kind.name());
            for &param in toxic_params {
                match param {
                    "latency_ms" => e.latency_ms = Some(1),
                    "jitter_ms" => e.jitter_ms = Some(1),
                    "rate_kbps" => e.rate_kbps = Some(1),
                    "delay_ms" => e.delay_ms = Some(1),
                    "timeout_ms" => e.timeout_ms = Some(1),
                    "average_size" => e.average_size = Some(2),
                    "size_variation" => e.size_variation = Some(1),
                    "delay_us" => e.delay_us = Some(1),
                    "bytes" => e.bytes = Some(1),
                    other => panic!("no value for `{other}` in this test"),
                }
            }
            match e.action() {
                Ok(FaultAction::Network { toxic, .. }) => {
                    assert_eq!(toxic.kind.name(), kind.name())
                }
                other => panic!("{kind:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_readme_fault_table_lists_every_kind() {
        let readme = include_str!("../../../README.md");
        let table = &readme[readme
            .find("| family | kinds |")
            .expect("README has the fault table")..];
        let table = &table[..table.find("\n\n").unwrap_or(table.len())];
        for kind in FaultKind::ALL {
            assert!(
                table.contains(&format!("`{}`", kind.name())),
                "README's fault table does not list `{}`",
                kind.name()
            );
        }
    }
}
