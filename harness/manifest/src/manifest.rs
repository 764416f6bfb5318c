//! A manifest as the runner uses it: every path resolved against the manifest's directory, every
//! string with placeholders parsed into a [`Template`], every choice an enum.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use faultline_scenario::Guarantee;
use faultline_scenario::Knob;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::placeholder::Placeholder;

use crate::placeholder::Template;

/// A pipeline faultline did not write, described so that it can be started, configured, waited
/// for and judged.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The manifest file.
    pub file: PathBuf,
    /// Its name, for reports (default: the directory's name).
    pub name: String,
    /// Program and arguments of one worker. The program is a path (relative to `cwd`) or a name
    /// looked up next to the `faultline` binary, then in `PATH`.
    pub command: Vec<Template>,
    /// Where workers, `setup.command` and `replay.command` run.
    pub cwd: PathBuf,
    pub guarantee: Guarantee,
    /// The pipeline's own variables, values with placeholders.
    pub env: BTreeMap<String, Template>,
    pub setup: Setup,
    pub ready: Ready,
    pub progress: Progress,
    /// The tables that form the end state.
    pub outputs: Vec<OutputTable>,
    /// Which of the pipeline's variables sets each knob.
    pub knobs: BTreeMap<Knob, String>,
    /// What to send instead of the generated ledger events: recorded records, or events
    /// generated from the pipeline's own schema.
    pub input: Option<Input>,
    /// How `--defect` selects a buggy variant.
    pub defects: Option<Defects>,
    pub replay: Replay,
    /// Expectations built into faultline that also judge the end state.
    pub expectations: Option<Builtin>,
    /// `[expect]`: the user's declarations of what the output tables must hold, computed from
    /// the records sent (the `expectations` check).
    pub expect: Option<faultline_expect::ExpectSpec>,
    /// `golden_dir`: where the golden snapshots of the fault-free end state are kept (absolute;
    /// relative in the file to the manifest's directory). `None`: no `golden` check.
    pub golden_dir: Option<PathBuf>,
    /// Hex SHA-256 of the manifest and the files it names (setup SQL, input), for caches.
    pub digest: String,
}

/// `[input]`: where the records sent come from.
#[derive(Debug, Clone)]
pub enum Input {
    /// `records`: the user's recorded events, a JSONL file (absolute path).
    Records(PathBuf),
    /// `schema`: events generated from the user's JSON Schema or Avro schema.
    Schema(SchemaInput),
}

/// `[input] schema`, `key`, `identity` and `[input.fields]`, checked against the schema.
#[derive(Debug, Clone)]
pub struct SchemaInput {
    /// The schema, loaded and checked.
    pub schema: std::sync::Arc<faultline_schemagen::InputSchema>,
    /// The field whose value is the Kafka key.
    pub key: String,
    /// The field the harness fills with a unique value per event.
    pub identity: String,
    /// Per-field overrides of the generation.
    pub fields: BTreeMap<String, faultline_schemagen::FieldRule>,
}

impl SchemaInput {
    /// What to generate for `events` records with `seed`.
    pub fn gen_spec(&self, seed: u64, events: u64) -> faultline_schemagen::GenSpec {
        faultline_schemagen::GenSpec {
            seed,
            events,
            key: self.key.clone(),
            identity: self.identity.clone(),
            fields: self.fields.clone(),
        }
    }
}

impl Manifest {
    /// Whether any string the pipeline gets (`env`, `command`, `setup`, `ready`) uses `p`: e.g.
    /// a pipeline handed `{dlq_topic}` has a dead-letter topic for the harness to judge.
    pub fn uses(&self, p: Placeholder) -> bool {
        let ready = match &self.ready.probe {
            Probe::Http(t) | Probe::Tcp(t) => Some(t),
            Probe::None | Probe::Log(_) => None,
        };
        self.env
            .values()
            .chain(&self.command)
            .chain(&self.setup.command)
            .chain(self.setup.sql.iter().map(|(_, t)| t))
            .chain(ready)
            .any(|t| t.placeholders().any(|q| q == p))
    }
}

/// `[setup]`: run once per run, before the first worker starts.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// SQL files, in order, with placeholders substituted, each in one transaction.
    pub sql: Vec<(PathBuf, Template)>,
    /// A command (a migration tool), run after the SQL files with the workers' environment.
    pub command: Vec<Template>,
}

/// `[ready]`: how a started worker shows that it is ready.
#[derive(Debug, Clone)]
pub struct Ready {
    pub probe: Probe,
    pub timeout: Duration,
}

/// One way of being ready.
#[derive(Debug, Clone)]
pub enum Probe {
    /// Ready once started.
    None,
    /// A line of the worker's output matches.
    Log(Regex),
    /// The URL answers 2xx.
    Http(Template),
    /// `host:port` accepts a connection.
    Tcp(Template),
}

/// `[progress]`: how the harness knows the pipeline has caught up.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The consumer group's committed offsets, read from Kafka.
    KafkaGroup,
    /// A query returning `(partition, next_offset)` rows.
    Sql(Template),
    /// The output tables unchanged for this long.
    Quiet(Duration),
}

/// `[[output]]`: one table of the end state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputTable {
    pub table: String,
    /// Columns that order and identify rows.
    pub key: Vec<String>,
    /// Columns left out of comparisons (timestamps, worker ids, serial ids).
    pub ignore: Vec<String>,
}

/// `[defects]`: the pipeline's own switch between its correct and buggy variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defects {
    /// The variable `--defect NAME` sets to `NAME`.
    pub variable: String,
    /// The names it accepts.
    pub names: Vec<String>,
}

/// `[replay]`: how to make the pipeline read everything again.
#[derive(Debug, Clone, Default)]
pub enum Replay {
    /// Reset the consumer group to the earliest offsets.
    #[default]
    Earliest,
    /// Run this statement on the run's database: for pipelines that keep their offsets in their
    /// own table, e.g. `UPDATE {schema}.offsets SET next_offset = 0`.
    Sql(Template),
    /// Run this command (with the workers' environment) instead.
    Command(Vec<Template>),
}

/// Expectations faultline knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Builtin {
    /// The reference ledger's oracle: balances, lineage, quarantine, offsets.
    Ledger,
}
