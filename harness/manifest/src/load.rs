//! Reading manifests: the file's TOML schema, and validation of everything that can be known
//! without starting anything (files exist, placeholders are known and allowed where they are used,
//! the program can be found). Every error names the file, the line and field, and the fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use faultline_scenario::load::locate;
use faultline_scenario::{safe_name, Knob};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::ManifestError;
use crate::manifest::{
    Builtin, Defects, Guarantee, Input, Manifest, OutputTable, Probe, Progress, Ready, Replay,
    SchemaInput, Setup,
};
use crate::placeholder::{Scope, Template};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    command: Option<Vec<String>>,
    cwd: Option<String>,
    #[serde(default)]
    guarantee: Guarantee,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    setup: RawSetup,
    #[serde(default)]
    ready: RawReady,
    #[serde(default)]
    progress: RawProgress,
    #[serde(default)]
    output: Vec<RawOutput>,
    #[serde(default)]
    knobs: BTreeMap<Knob, String>,
    input: Option<RawInput>,
    defects: Option<RawDefects>,
    #[serde(default)]
    replay: RawReplay,
    expectations: Option<Builtin>,
    expect: Option<faultline_expect::ExpectSpec>,
    golden_dir: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSetup {
    #[serde(default)]
    sql: Vec<String>,
    #[serde(default)]
    command: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReady {
    log: Option<String>,
    http: Option<String>,
    tcp: Option<String>,
    timeout_s: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawProgress {
    source: Option<String>,
    query: Option<String>,
    quiet_s: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    table: String,
    key: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    records: Option<String>,
    schema: Option<String>,
    key: Option<String>,
    identity: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, faultline_schemagen::FieldRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefects {
    variable: String,
    names: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReplay {
    reset: Option<String>,
    #[serde(default)]
    command: Vec<String>,
    sql: Option<String>,
}

/// Default `ready.timeout_s`.
pub const DEFAULT_READY_TIMEOUT_S: u64 = 60;
/// Default `progress.quiet_s`.
pub const DEFAULT_QUIET_S: u64 = 10;

/// Reads and validates the manifest at `path`.
pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|e| ManifestError {
        file: path.display().to_string(),
        line: None,
        field: String::new(),
        message: format!("cannot read it: {e}"),
    })?;
    parse(&text, path)
}

/// Parses and validates manifest `text` read from `path` (relative paths in it are taken from
/// `path`'s directory).
pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    parse_in(text, path, dir)
}

/// [`parse`] with relative paths taken from `dir` (for a manifest built into a binary).
pub fn parse_in(text: &str, path: &Path, dir: &Path) -> Result<Manifest, ManifestError> {
    let file = path.display().to_string();
    let raw: Raw = toml::from_str(text).map_err(|e| ManifestError {
        file: file.clone(),
        line: e.span().map(|sp| line_of(text, sp.start)),
        field: String::new(),
        message: e.message().trim().to_string(),
    })?;
    build(raw, text, dir, path).map_err(|(field, message)| ManifestError {
        file,
        // `setup.sql[1]` is an element of an inline array: the line of its key.
        line: locate(
            text,
            field.rsplit_once('[').map_or(&field, |(f, i)| {
                if i.ends_with(']') && !i.contains('.') {
                    f
                } else {
                    &field
                }
            }),
        ),
        field,
        message,
    })
}

type Problem = (String, String);

fn build(raw: Raw, text: &str, dir: &Path, path: &Path) -> Result<Manifest, Problem> {
    let bad = |f: &str, m: String| (f.to_string(), m);
    let mut digest = Sha256::new();
    digest.update(b"faultline-manifest/v1");
    digest.update(text.as_bytes());

    let name = match raw.name {
        Some(n) => {
            safe_name(&n).map_err(|m| bad("name", m))?;
            n
        }
        None => default_name(dir),
    };

    let command = raw.command.ok_or_else(|| {
        bad(
            "command",
            "is missing; give the program and arguments that start one worker, e.g. \
             command = [\"python3\", \"pipeline.py\"]"
                .into(),
        )
    })?;
    if command.first().is_none_or(|p| p.trim().is_empty()) {
        return Err(bad(
            "command",
            "is empty; give the program and arguments that start one worker, e.g. \
             command = [\"python3\", \"pipeline.py\"]"
                .into(),
        ));
    }
    let command = templates(&command, "command", &[Scope::Run, Scope::Worker])?;
    if command[0].placeholders().next().is_some() {
        return Err(bad(
            "command",
            "the program (first element) cannot use placeholders; pass values in `env` or the \
             arguments"
                .into(),
        ));
    }

    // Absolute, so that a relative program and the workers' files resolve the same from anywhere.
    let cwd = std::path::absolute(dir.join(raw.cwd.as_deref().unwrap_or(".")))
        .unwrap_or_else(|_| dir.join(raw.cwd.as_deref().unwrap_or(".")));
    if !cwd.is_dir() {
        return Err(bad(
            "cwd",
            format!(
                "{} is not a directory (cwd is relative to the manifest's directory)",
                cwd.display()
            ),
        ));
    }

    let mut env = BTreeMap::new();
    for (k, v) in &raw.env {
        env_name(k).map_err(|m| bad(&format!("env.{k}"), m))?;
        let t = Template::parse(v).map_err(|m| bad(&format!("env.{k}"), m))?;
        env.insert(k.clone(), t);
    }

    let mut sql = Vec::new();
    for (i, f) in raw.setup.sql.iter().enumerate() {
        let field = format!("setup.sql[{i}]");
        let p = dir.join(f);
        let text = std::fs::read_to_string(&p).map_err(|e| {
            bad(
                &field,
                format!(
                    "cannot read {}: {e} (setup SQL files are relative to the manifest)",
                    p.display()
                ),
            )
        })?;
        digest.update(text.as_bytes());
        let t =
            Template::parse(&text).map_err(|m| bad(&field, format!("in {}: {m}", p.display())))?;
        only_scopes(&t, &field, &[Scope::Run])?;
        sql.push((p, t));
    }
    let setup_command = templates(&raw.setup.command, "setup.command", &[Scope::Run])?;

    let probes = [
        raw.ready.log.is_some(),
        raw.ready.http.is_some(),
        raw.ready.tcp.is_some(),
    ];
    if probes.iter().filter(|&&b| b).count() > 1 {
        return Err(bad(
            "ready",
            "sets more than one of `log`, `http` and `tcp`; keep one".into(),
        ));
    }
    let probe = if let Some(re) = &raw.ready.log {
        Probe::Log(regex::Regex::new(re).map_err(|e| {
            bad(
                "ready.log",
                format!("is not a valid regular expression: {e}"),
            )
        })?)
    } else if let Some(u) = &raw.ready.http {
        let t = Template::parse(u).map_err(|m| bad("ready.http", m))?;
        only_scopes(&t, "ready.http", &[Scope::Run, Scope::Worker])?;
        if !u.starts_with("http://") {
            return Err(bad(
                "ready.http",
                format!(
                    "`{u}` is not an http:// URL, e.g. \"http://127.0.0.1:{{metrics_port}}/ready\""
                ),
            ));
        }
        Probe::Http(t)
    } else if let Some(a) = &raw.ready.tcp {
        let t = Template::parse(a).map_err(|m| bad("ready.tcp", m))?;
        only_scopes(&t, "ready.tcp", &[Scope::Run, Scope::Worker])?;
        Probe::Tcp(t)
    } else {
        Probe::None
    };
    let timeout_s = raw.ready.timeout_s.unwrap_or(DEFAULT_READY_TIMEOUT_S);
    if !(1..=600).contains(&timeout_s) {
        return Err(bad(
            "ready.timeout_s",
            format!("{timeout_s} is outside 1..=600"),
        ));
    }

    let mut outputs = Vec::new();
    for (i, o) in raw.output.iter().enumerate() {
        let field = format!("output[{i}]");
        ident(&o.table).map_err(|m| bad(&format!("{field}.table"), m))?;
        if o.key.is_empty() {
            return Err(bad(
                &format!("{field}.key"),
                "is empty; name the columns that identify a row, e.g. key = [\"order_id\"]".into(),
            ));
        }
        for c in o.key.iter().chain(&o.ignore) {
            ident(c).map_err(|m| bad(&format!("{field}.key"), m))?;
        }
        if let Some(c) = o.key.iter().find(|c| o.ignore.contains(c)) {
            return Err(bad(
                &format!("{field}.ignore"),
                format!("`{c}` is part of the key; a key column cannot be ignored"),
            ));
        }
        if outputs.iter().any(|x: &OutputTable| x.table == o.table) {
            return Err(bad(
                &format!("{field}.table"),
                format!("`{}` is listed twice", o.table),
            ));
        }
        outputs.push(OutputTable {
            table: o.table.clone(),
            key: o.key.clone(),
            ignore: o.ignore.clone(),
        });
    }

    let progress = match raw.progress.source.as_deref().unwrap_or("kafka_group") {
        "kafka_group" => Progress::KafkaGroup,
        "sql" => {
            let q = raw.progress.query.as_deref().ok_or_else(|| {
                bad(
                    "progress.query",
                    "is missing; `source = \"sql\"` needs a query returning (partition, \
                     next_offset) rows, e.g. \"SELECT partition, next_offset FROM {schema}.offsets\""
                        .into(),
                )
            })?;
            let t = Template::parse(q).map_err(|m| bad("progress.query", m))?;
            only_scopes(&t, "progress.query", &[Scope::Run])?;
            Progress::Sql(t)
        }
        "quiet" => {
            if outputs.is_empty() {
                return Err(bad(
                    "progress.source",
                    "`quiet` watches the output tables, and there is no [[output]]; add one or use \
                     kafka_group"
                        .into(),
                ));
            }
            let q = raw.progress.quiet_s.unwrap_or(DEFAULT_QUIET_S);
            if !(1..=600).contains(&q) {
                return Err(bad("progress.quiet_s", format!("{q} is outside 1..=600")));
            }
            Progress::Quiet(Duration::from_secs(q))
        }
        other => {
            return Err(bad(
                "progress.source",
                format!("`{other}` is not one of kafka_group, sql, quiet"),
            ))
        }
    };
    if raw.progress.query.is_some() && !matches!(progress, Progress::Sql(_)) {
        return Err(bad(
            "progress.query",
            "is only read with source = \"sql\"; remove it or set the source".into(),
        ));
    }
    if raw.progress.quiet_s.is_some() && !matches!(progress, Progress::Quiet(_)) {
        return Err(bad(
            "progress.quiet_s",
            "is only read with source = \"quiet\"; remove it or set the source".into(),
        ));
    }

    for (k, var) in &raw.knobs {
        env_name(var).map_err(|m| bad(&format!("knobs.{k}"), m))?;
    }

    let input = match &raw.input {
        Some(i) => Some(input(i, dir, &mut digest)?),
        None => None,
    };

    let defects = match raw.defects {
        Some(d) => {
            env_name(&d.variable).map_err(|m| bad("defects.variable", m))?;
            if d.names.is_empty() {
                return Err(bad(
                    "defects.names",
                    "is empty; list the variants' names".into(),
                ));
            }
            if let Some(n) = d.names.iter().find(|n| safe_name(n).is_err()) {
                return Err(bad(
                    "defects.names",
                    format!(
                        "`{n}` is not a plain name ({})",
                        faultline_scenario::SAFE_NAME_RULE
                    ),
                ));
            }
            Some(Defects {
                variable: d.variable,
                names: d.names,
            })
        }
        None => None,
    };

    let replay = {
        let r = &raw.replay;
        let given: Vec<&str> = [
            ("reset", r.reset.is_some()),
            ("command", !r.command.is_empty()),
            ("sql", r.sql.is_some()),
        ]
        .iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| *name)
        .collect();
        if given.len() > 1 {
            return Err(bad(
                "replay",
                format!(
                    "sets {}; keep one (reset = \"earliest\" rewinds the consumer group, sql \
                     rewinds offsets kept in the database, command does anything else)",
                    given
                        .iter()
                        .map(|g| format!("`{g}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            ));
        }
        match (r.reset.as_deref(), &r.sql) {
            (Some("earliest") | None, None) if r.command.is_empty() => Replay::Earliest,
            (Some(other), _) if other != "earliest" => {
                return Err(bad(
                    "replay.reset",
                    format!(
                        "`{other}` is not known; the only reset is \"earliest\" (or give `sql` \
                         or `command`)"
                    ),
                ))
            }
            (_, Some(q)) => {
                let t = Template::parse(q).map_err(|m| bad("replay.sql", m))?;
                only_scopes(&t, "replay.sql", &[Scope::Run])?;
                Replay::Sql(t)
            }
            _ => Replay::Command(templates(&r.command, "replay.command", &[Scope::Run])?),
        }
    };

    let golden_dir =
        match raw.golden_dir.as_deref() {
            None => None,
            Some("") => {
                return Err(bad(
                    "golden_dir",
                    "is empty; name a directory, e.g. \"golden\"".into(),
                ))
            }
            Some(_) if outputs.is_empty() => return Err(bad(
                "golden_dir",
                "needs [[output]] tables: the golden snapshot is their fault-free end state; add \
                 [[output]] or remove golden_dir"
                    .into(),
            )),
            Some(_) if raw.expectations.is_some() => {
                return Err(bad(
                    "golden_dir",
                    "cannot be used with `expectations`: the builtin expectations keep their own \
                 snapshots (golden/snapshots); remove golden_dir"
                        .into(),
                ))
            }
            Some(d) => Some(std::path::absolute(dir.join(d)).unwrap_or_else(|_| dir.join(d))),
        };

    if let Some(spec) = &raw.expect {
        spec.validate().map_err(expect_problem)?;
        if let Some(dl) = &spec.dead_letter {
            let kinds: Vec<&str> = faultline_workload::ReasonCode::ALL
                .iter()
                .map(|r| r.as_str())
                .collect();
            dl.validate(&kinds).map_err(expect_problem)?;
            if let Some(topic) = &dl.topic {
                if topic != "{dlq_topic}" {
                    return Err(bad(
                        "expect.dead_letter.topic",
                        format!(
                            "`{topic}`: give \"{{dlq_topic}}\", the run's dead-letter topic (hand \
                             it to the pipeline in [env]), so that no run reads another's"
                        ),
                    ));
                }
            }
        }
    }

    let m = Manifest {
        file: path.to_path_buf(),
        name,
        command,
        cwd,
        guarantee: raw.guarantee,
        env,
        setup: Setup {
            sql,
            command: setup_command,
        },
        ready: Ready {
            probe,
            timeout: Duration::from_secs(timeout_s),
        },
        progress,
        outputs,
        knobs: raw.knobs,
        input,
        defects,
        replay,
        expectations: raw.expectations,
        expect: raw.expect,
        golden_dir,
        digest: hex(&digest.finalize()),
    };
    Ok(m)
}

/// `[input]`: recorded records, or a schema to generate from (loaded and checked here, with the
/// key, identity and field rules, so that a schema faultline cannot generate from is refused
/// before anything starts).
fn input(i: &RawInput, dir: &Path, digest: &mut Sha256) -> Result<Input, Problem> {
    let bad = |f: &str, m: String| (f.to_string(), m);
    let read = |field: &str, name: &str| {
        let p = dir.join(name);
        std::fs::read(&p)
            .map(|bytes| (p.clone(), bytes))
            .map_err(|e| {
                bad(
                    field,
                    format!(
                        "cannot read {}: {e} (relative to the manifest)",
                        p.display()
                    ),
                )
            })
    };
    match (&i.records, &i.schema) {
        (Some(_), Some(_)) => Err(bad(
            "input.schema",
            "give `records` (recorded events) or `schema` (events generated from it), not both"
                .into(),
        )),
        (None, None) => Err(bad(
            "input",
            "give `records = \"<file.jsonl>\"` (recorded events) or `schema = \"<file>\"` (a JSON \
             Schema or Avro .avsc to generate events from)"
                .into(),
        )),
        (Some(records), None) => {
            for (field, given) in [
                ("key", i.key.is_some()),
                ("identity", i.identity.is_some()),
                ("fields", !i.fields.is_empty()),
            ] {
                if given {
                    return Err(bad(
                        &format!("input.{field}"),
                        "only used with `schema`: recorded records carry their own keys".into(),
                    ));
                }
            }
            let (p, bytes) = read("input.records", records)?;
            digest.update(&bytes);
            Ok(Input::Records(p))
        }
        (None, Some(schema)) => {
            let (p, bytes) = read("input.schema", schema)?;
            digest.update(&bytes);
            let loaded = faultline_schemagen::InputSchema::load(&p)
                .map_err(|e| bad("input.schema", e.to_string()))?;
            let field = |name: &str, given: &Option<String>, what: &str| match given {
                Some(v) if !v.trim().is_empty() => Ok(v.clone()),
                _ => Err(bad(
                    &format!("input.{name}"),
                    format!(
                        "is required with `schema`: name {what} (the schema's fields: {})",
                        loaded.fields().join(", ")
                    ),
                )),
            };
            let key = field("key", &i.key, "the field whose value is the Kafka key")?;
            let identity = field(
                "identity",
                &i.identity,
                "the field the harness fills with a unique value per event",
            )?;
            let rules = toml::to_string(&i.fields).unwrap_or_default();
            digest.update(rules.as_bytes());
            let made = SchemaInput {
                schema: std::sync::Arc::new(loaded),
                key,
                identity,
                fields: i.fields.clone(),
            };
            // Rules checked once against the schema: a bad key, identity or rule is refused now.
            faultline_schemagen::generate(&made.schema, &made.gen_spec(0, 1)).map_err(|e| {
                let field = match &e {
                    faultline_schemagen::SchemaError::BadRule { field, .. } => {
                        if i.fields.contains_key(field) {
                            format!("input.fields.{field}")
                        } else if *field == made.key {
                            "input.key".into()
                        } else if *field == made.identity {
                            "input.identity".into()
                        } else {
                            "input".into()
                        }
                    }
                    _ => "input.schema".into(),
                };
                bad(&field, e.to_string())
            })?;
            Ok(Input::Schema(made))
        }
    }
}

/// An `[expect]` error as (field, message): the field is the declaration's path without the
/// table's name (`expect.table[1].key`), so that the line can be found.
fn expect_problem(e: faultline_expect::ExpectError) -> Problem {
    use faultline_expect::ExpectError;
    match &e {
        ExpectError::Invalid { location, problem } => {
            let field = match location.split_once(" (") {
                Some((head, rest)) => match rest.split_once(')') {
                    Some((_, tail)) => format!("{head}{tail}"),
                    None => head.to_string(),
                },
                None => location.clone(),
            };
            (field, problem.clone())
        }
        ExpectError::NoTables => ("expect.table".into(), e.to_string()),
        _ => ("expect".into(), e.to_string()),
    }
}

fn templates(items: &[String], field: &str, scopes: &[Scope]) -> Result<Vec<Template>, Problem> {
    items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let f = format!("{field}[{i}]");
            let t = Template::parse(s).map_err(|m| (field.to_string(), format!("{f}: {m}")))?;
            only_scopes(&t, field, scopes)?;
            Ok(t)
        })
        .collect()
}

/// Refuses placeholders that have no value where `t` is used.
fn only_scopes(t: &Template, field: &str, scopes: &[Scope]) -> Result<(), Problem> {
    match t.placeholders().find(|p| !scopes.contains(&p.scope())) {
        Some(p) => Err((
            field.to_string(),
            format!(
                "{p} has no value here: {}",
                match p.scope() {
                    Scope::Worker => "it differs per worker, so only `env`, `command` and `ready` can use it",
                    Scope::Optional => "not every run has it, so only `env` can use it (the variable is then left unset)",
                    Scope::Run => "it is not available here",
                }
            ),
        )),
        None => Ok(()),
    }
}

fn env_name(k: &str) -> Result<(), String> {
    let ok = !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{k}` is not an environment variable name (letters, digits and _, not starting with a digit)"
        ))
    }
}

/// A plain SQL identifier: what the harness quotes into its own queries.
fn ident(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a plain SQL identifier (letters, digits and _, at most 63, not starting \
             with a digit); write the table without its schema, which is always {{schema}}"
        ))
    }
}

/// The manifest directory's name made a safe name (other characters become `-`), else `pipeline`.
fn default_name(dir: &Path) -> String {
    let base = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_start_matches(['.', '-'])
        .chars()
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "pipeline".into()
    } else {
        cleaned
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the program of `command` is: a path with a `/` is taken from `cwd`; a bare name is looked
/// up in `first` (the directories next to the `faultline` binary), then in `PATH`. The error says
/// where it looked.
pub fn find_program(m: &Manifest, first: &[PathBuf]) -> Result<PathBuf, ManifestError> {
    let program = m.command[0].to_string();
    let err = |message: String| ManifestError {
        file: m.file.display().to_string(),
        line: std::fs::read_to_string(&m.file)
            .ok()
            .and_then(|t| locate(&t, "command")),
        field: "command".into(),
        message,
    };
    if program.contains('/') {
        let p = m.cwd.join(&program);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(err(format!(
                "the program {} is not found (a path in `command` is relative to `cwd`, {})",
                p.display(),
                m.cwd.display()
            )))
        };
    }
    let path_dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    first
        .iter()
        .chain(&path_dirs)
        .map(|d| d.join(&program))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            err(format!(
                "the program `{program}` is not found next to faultline or in PATH; install it, \
                 give a path relative to `cwd`, or fix the name"
            ))
        })
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
