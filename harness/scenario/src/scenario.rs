//! The schema of a scenario file. Every table and field is optional unless said otherwise; an empty
//! file is a valid scenario (2 workers, 1,000 clean events, no faults, every built-in check).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use faultline_workload::WorkloadSpec;
use serde::{Deserialize, Serialize};

use crate::data_check::DataCheck;
use crate::fault::FaultEntry;

/// One scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Name in reports and of the run's bundle directory, so one plain path component:
    /// 1 to 64 characters of `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`
    /// ([`crate::safe_name`]). Default: the file name without `.toml` (refused when not safe).
    pub name: String,
    /// One or two sentences: what this scenario provokes and what must still hold.
    pub description: String,
    /// Seconds from the start of the workload by which the pipeline must have caught up (else the
    /// `caught_up` check fails). The harness waits this plus 120 s (start-up and checks) for the
    /// whole run, then ends it as an error. Default 300; 1..=86400. Every fault window must end
    /// within it.
    pub time_limit_s: u64,
    /// The stall verdict: once production is over and the last planned fault has healed, the
    /// pipeline's committed position (see docs/PIPELINE-CONTRACT.md, "How progress is observed")
    /// must move at least once every this many seconds until it reaches the end of the input, or
    /// the wait ends at once and `caught_up` fails with "no progress". 1..=`time_limit_s`.
    /// Default 30, or `time_limit_s` when that is shorter ([`Scenario::stall_limit_s`]).
    pub stall_limit_s: Option<u64>,
    /// Kafka and Postgres.
    pub infra: InfraSection,
    /// The pipeline under test.
    pub pipeline: PipelineSection,
    /// How the workload is sent.
    pub producer: ProducerSection,
    /// What to send: every field of the workload generator (seed, events, accounts, duplicates,
    /// malformed records, reordering, ...). `seed` is the default seed; `--seed` overrides it.
    pub workload: WorkloadSpec,
    /// Faults at fixed times or after a number of records.
    pub faults: Vec<FaultEntry>,
    /// Faults drawn from the seed.
    pub random: Option<RandomFaults>,
    /// What to check beyond the built-in exactly-once checks.
    pub checks: ChecksSection,
    /// Compare the champion and challenger models from what the pipeline wrote. Default: absent.
    pub compare: Option<CompareSection>,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            time_limit_s: 300,
            stall_limit_s: None,
            infra: InfraSection::default(),
            pipeline: PipelineSection::default(),
            producer: ProducerSection::default(),
            workload: WorkloadSpec::default(),
            faults: Vec::new(),
            random: None,
            checks: ChecksSection::default(),
            compare: None,
        }
    }
}

/// `[infra]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InfraSection {
    /// auto, containers, processes or external. `--backend` overrides it. Default auto.
    pub backend: BackendKind,
    /// Kafka brokers: 1, or 3 (KRaft cluster, RF=3, min.insync.replicas=2). Default 1.
    pub brokers: u32,
    /// Partitions of the input topic. Default 4; 1..=64.
    pub partitions: i32,
    /// Put a fault proxy in front of every broker and Postgres even when no network fault is
    /// scheduled (network faults always get one). Default false.
    pub proxy: bool,
}

impl Default for InfraSection {
    fn default() -> Self {
        Self {
            backend: BackendKind::Auto,
            brokers: 1,
            partitions: 4,
            proxy: false,
        }
    }
}

/// Which infrastructure backend runs Kafka and Postgres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Containers when a Docker daemon answers, else local processes.
    #[default]
    Auto,
    /// testcontainers: one container per broker and one for Postgres.
    Containers,
    /// Local processes: Kafka jars via `java`, Postgres via `initdb`/`postgres`.
    Processes,
    /// Services run by someone else (`FAULTLINE_KAFKA_BOOTSTRAP`, `FAULTLINE_POSTGRES_URL`).
    External,
}

impl BackendKind {
    pub const ALL: [&'static str; 4] = ["auto", "containers", "processes", "external"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Containers => "containers",
            Self::Processes => "processes",
            Self::External => "external",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackendKind {
    type Err = UnknownBackend;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "containers" => Ok(Self::Containers),
            "processes" => Ok(Self::Processes),
            "external" => Ok(Self::External),
            _ => Err(UnknownBackend(s.into())),
        }
    }
}

/// A `--backend` (or `backend =`) value that names no backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid backend `{0}`: expected one of {all}", all = BackendKind::ALL.join(", "))]
pub struct UnknownBackend(pub String);

/// `[pipeline]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSection {
    /// The command that starts one worker (program and arguments). Default: the reference
    /// pipeline's `ledger-worker` next to the `faultline` binary. See docs/PIPELINE-CONTRACT.md.
    pub command: Vec<String>,
    /// Worker processes in one consumer group. Default 2; 1..=16.
    pub workers: u32,
    /// Extra environment for every worker, set as written (pipeline-specific; prefer `knobs`).
    pub env: BTreeMap<String, String>,
    /// Tuning values by knob name, e.g. `{ batch_max_records = 500 }`; the pipeline's manifest
    /// says which of its variables each one sets (see `Knob`). A knob the pipeline does not map
    /// is reported as a warning naming the faults that may not bite.
    pub knobs: BTreeMap<crate::knob::Knob, u64>,
    /// A planted defect of the reference pipeline (`--defect` overrides it). Default none.
    pub defect: Option<String>,
    /// Start the account-profile service double (wiremock) and pass `FAULTLINE_ENRICH_URL`.
    /// Default true.
    pub enrichment: bool,
    /// Champion model file given to the workers (`FAULTLINE_CHAMPION_MODEL`): a JSON scorecard, an
    /// `.onnx` file with its `.onnx.json` sidecar, or an HTTP model (see harness/models). A relative
    /// path is taken from the scenario file's directory. Default: the pipeline's built-in scorecard.
    pub champion: Option<String>,
    /// Challenger model file scored in shadow (`FAULTLINE_CHALLENGER_MODEL`); same formats and path
    /// rule as `champion`. Default: the pipeline's built-in challenger.
    pub challenger: Option<String>,
    /// The consumer group protocol the workers speak: `classic` or `consumer` (KIP-848), passed
    /// as the manifest placeholder `{group_protocol}`; `--group-protocol` overrides it. Default
    /// classic.
    pub group_protocol: crate::group_protocol::GroupProtocol,
}

impl Default for PipelineSection {
    fn default() -> Self {
        Self {
            command: Vec::new(),
            workers: 2,
            env: BTreeMap::new(),
            knobs: BTreeMap::new(),
            defect: None,
            enrichment: true,
            champion: None,
            challenger: None,
            group_protocol: crate::group_protocol::GroupProtocol::Classic,
        }
    }
}

/// `[producer]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerSection {
    /// Records per second; 0 sends as fast as Kafka takes them. Default 2,000.
    pub rate: u64,
}

impl Default for ProducerSection {
    fn default() -> Self {
        Self { rate: 2_000 }
    }
}

/// `[random]`: faults drawn from the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RandomFaults {
    /// How many faults to draw. Default 4; 0..=100.
    pub count: u32,
    /// Draws start no earlier than this, ms after the workload starts. Default 1,000.
    pub from_ms: u64,
    /// Draws start no later than this. Default 20,000.
    pub to_ms: u64,
    /// Duration range `[min, max]` in ms for drawn faults that last and set no `duration_ms`.
    /// Default [1000, 5000].
    pub duration_ms: [u64; 2],
    /// The faults to draw from, each with a `weight` (default 1) and no `at_ms`/`after_records`.
    pub faults: Vec<FaultEntry>,
}

impl Default for RandomFaults {
    fn default() -> Self {
        Self {
            count: 4,
            from_ms: 1_000,
            to_ms: 20_000,
            duration_ms: [1_000, 5_000],
            faults: Vec::new(),
        }
    }
}

/// `[checks]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ChecksSection {
    /// After the checks, reprocess the whole input from offset 0 with a fresh worker and require an
    /// identical normalized end state (idempotency). Default false.
    pub replay: bool,
    /// Declarative data checks (`not_null`, `unique`, `accepted_values`, `row_count`,
    /// `freshness`, `custom_sql`), each with a severity.
    pub data: Vec<DataCheck>,
}

/// `[compare]`: champion/challenger comparison through the pipeline. The workers score every
/// transaction with both `pipeline.champion` and `pipeline.challenger` (both required); after the
/// run the harness reads the scores from `transactions`, joins each transaction's documented label
/// (`faultline_models::generate::true_label` of the event and the profile the enrichment double
/// serves), and compares the models with faultline-models' metrics, bootstrap, McNemar and policy.
/// Check `model_comparison` reports the verdict; with `baseline`, check `scores_stored_exactly_once`
/// fails when faults changed what landed, and `model_robustness` reports each model's change under
/// the faults (the policy's `[[robustness]]` gates may make the verdict keep).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompareSection {
    /// Promotion policy TOML (e.g. `../golden/models/policy.toml`); a relative path is taken from
    /// the scenario file's directory. Default: every metric gated on a positive change, with
    /// faultline-models' default sample minimum, confidence and resamples.
    pub policy: Option<String>,
    /// Seed of the paired bootstrap. Default: the run's seed.
    pub seed: Option<u64>,
    /// Before the faulted run, run the same scenario and seed with every fault (fixed and random)
    /// removed on the same stack, and require the comparison under faults to equal it, row by row
    /// (check `scores_stored_exactly_once`; rows stored on fallback features must hold each
    /// model's default-profile score instead). A difference is a pipeline defect, not a model
    /// difference. The pairs also give each model's change under the faults (check
    /// `model_robustness`). Default true.
    pub baseline: bool,
}

impl Default for CompareSection {
    fn default() -> Self {
        Self {
            policy: None,
            seed: None,
            baseline: true,
        }
    }
}

/// `stall_limit_s` when a scenario does not set it (capped at its `time_limit_s`).
pub const DEFAULT_STALL_LIMIT_S: u64 = 30;

impl Scenario {
    /// The stall limit in effect: `stall_limit_s`, else [`DEFAULT_STALL_LIMIT_S`] capped at
    /// `time_limit_s`.
    pub fn stall_limit_s(&self) -> u64 {
        self.stall_limit_s
            .unwrap_or(DEFAULT_STALL_LIMIT_S.min(self.time_limit_s))
    }

    /// Makes the relative model and policy paths (`pipeline.champion`, `pipeline.challenger`,
    /// `compare.policy`) absolute paths under `dir`, the directory of the scenario file, so a
    /// scenario runs the same from any working directory and workers get paths they can open.
    pub fn resolve_paths(&mut self, dir: &Path) {
        // `Path::new("s.toml").parent()` is the empty path, which `absolute` refuses.
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let resolve = |p: &mut String| {
            if !p.is_empty() && Path::new(p.as_str()).is_relative() {
                *p = dir.join(p.as_str()).display().to_string();
            }
        };
        self.pipeline.champion.iter_mut().for_each(resolve);
        self.pipeline.challenger.iter_mut().for_each(resolve);
        if let Some(c) = &mut self.compare {
            c.policy.iter_mut().for_each(resolve);
        }
    }

    /// The fault-free twin of this scenario for `[compare] baseline = true`: the same everything,
    /// without `faults` and `random`, and without a baseline of its own. `None` when not asked for.
    pub fn fault_free_baseline(&self) -> Option<Scenario> {
        let compare = self.compare.as_ref().filter(|c| c.baseline)?;
        let mut clean = self.clone();
        clean.faults.clear();
        clean.random = None;
        clean.compare = Some(CompareSection {
            baseline: false,
            ..compare.clone()
        });
        Some(clean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_backend_names_the_allowed_values() {
        let err = "dockr".parse::<BackendKind>().unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid backend `dockr`: expected one of auto, containers, processes, external"
        );
        assert_eq!(
            "processes".parse::<BackendKind>().unwrap(),
            BackendKind::Processes
        );
    }
}
