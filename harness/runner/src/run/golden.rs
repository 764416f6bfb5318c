//! The `golden` check: a pipeline's fault-free end state (its manifest's `[[output]]` tables,
//! normalized) kept as an insta snapshot file, one per pipeline, scenario and seed, in the
//! manifest's `golden_dir`. A run never writes an accepted `.snap`: it writes the pending
//! `.snap.new` beside it, which `faultline golden accept` (or `cargo insta`) turns into the `.snap`.
//!
//! The snapshot is text, one line per row in key order, so a drift names rows. Large tables are
//! capped (see [`FULL_ROWS`], [`DIGEST_ROWS`], [`CHUNK_ONE_IN`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use faultline_report::{CheckResult, CheckStatus, Row};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::output::OutputState;
use crate::error::{Result, RunnerError};

/// A table with at most this many rows is written in full: `<key> <row as JSON>` per line.
pub const FULL_ROWS: usize = 200;
/// Above [`FULL_ROWS`] and up to this many rows, one line per row: `<key> #<row digest>` (the
/// first 12 hex digits of the SHA-256 of the row's JSON). A drift still names each row by key.
pub const DIGEST_ROWS: usize = 5_000;
/// Above [`DIGEST_ROWS`], one line per chunk of consecutive rows: `<first key> .. <last key>: N
/// rows #<digest>`. A chunk ends after a row whose key's hash is 0 modulo this number (on average
/// this many rows per chunk), so a missing or extra row changes only its own chunk's line.
pub const CHUNK_ONE_IN: u64 = 256;
/// Most lines of the unified diff a drift writes to `golden.diff` in the run directory.
pub const MAX_DIFF_LINES: usize = 2_000;

/// One table's rows by key, as [`OutputState`] keeps them.
type TableRows = BTreeMap<String, Map<String, Value>>;
/// A key's line in the accepted snapshot and now (the part after the key), when it has one.
type SnapshotAndNow = (Option<String>, Option<String>);

/// What one snapshot is of, for its file name and its header.
pub struct SnapshotId<'a> {
    pub pipeline: &'a str,
    pub scenario: &'a str,
    pub seed: u64,
}

impl SnapshotId<'_> {
    /// `<pipeline>__<scenario>-<seed>`: insta's `<module>__<name>` with the pipeline as module.
    /// The three parts are safe names already (letters, digits, `.`, `_`, `-`).
    pub fn stem(&self) -> String {
        format!("{}__{}-{}", self.pipeline, self.scenario, self.seed)
    }
}

/// The snapshot body: per table a header line (row count and form), then its rows in key order.
/// Nothing in it depends on the run (ids, times, workers are ignored columns or not read).
pub fn render(state: &OutputState) -> String {
    let mut out = String::new();
    let mut tables: BTreeMap<&str, Option<&TableRows>> = state
        .tables
        .iter()
        .map(|(t, rows)| (t.as_str(), Some(rows)))
        .collect();
    for t in &state.missing {
        tables.insert(t.as_str(), None);
    }
    for (table, rows) in tables {
        let Some(rows) = rows else {
            out.push_str(&format!(
                "table {table}: missing (the pipeline never created it)\n"
            ));
            continue;
        };
        let n = rows.len();
        if n <= FULL_ROWS {
            out.push_str(&format!("table {table}: {n} rows\n"));
            for (key, row) in rows {
                out.push_str(&format!("{key} {}\n", Value::Object(row.clone())));
            }
        } else if n <= DIGEST_ROWS {
            out.push_str(&format!(
                "table {table}: {n} rows, each as its key and a digest (more than {FULL_ROWS} rows)\n"
            ));
            for (key, row) in rows {
                out.push_str(&format!("{key} #{}\n", row_digest(row)));
            }
        } else {
            out.push_str(&format!(
                "table {table}: {n} rows, in chunks of consecutive keys (more than {DIGEST_ROWS} \
                 rows)\n"
            ));
            let mut chunk: Vec<(&String, &Map<String, Value>)> = Vec::new();
            for (key, row) in rows {
                chunk.push((key, row));
                if key_hash(key).is_multiple_of(CHUNK_ONE_IN) {
                    flush(&mut chunk, &mut out);
                }
            }
            flush(&mut chunk, &mut out);
        }
    }
    out
}

/// Writes one chunk line for `chunk` (if it has rows) and empties it.
fn flush(chunk: &mut Vec<(&String, &Map<String, Value>)>, out: &mut String) {
    if let (Some(first), Some(last)) = (chunk.first(), chunk.last()) {
        let mut h = Sha256::new();
        for (k, r) in chunk.iter() {
            h.update(k.as_bytes());
            h.update(Value::Object((*r).clone()).to_string().as_bytes());
        }
        out.push_str(&format!(
            "{} .. {}: {} rows #{}\n",
            first.0,
            last.0,
            chunk.len(),
            &hex(&h.finalize())[..12]
        ));
    }
    chunk.clear();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn row_digest(row: &Map<String, Value>) -> String {
    let d = Sha256::digest(Value::Object(row.clone()).to_string().as_bytes());
    hex(&d)[..12].to_string()
}

fn key_hash(key: &str) -> u64 {
    let d = Sha256::digest(key.as_bytes());
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// The snapshot file in insta's format: a YAML header (`source`, `description`), then the body.
fn snapshot_file(id: &SnapshotId, source: &str, body: &str) -> String {
    format!(
        "---\nsource: {source}\ndescription: fault-free end state of pipeline {}, scenario {}, \
         seed {}\n---\n{body}",
        id.pipeline, id.scenario, id.seed
    )
}

/// Where a run puts what the check found beyond its rows (`golden.diff`).
pub struct GoldenInput<'a> {
    /// The manifest's `golden_dir`.
    pub dir: &'a Path,
    /// The manifest file's name, the snapshot's `source`.
    pub source: &'a str,
    pub id: SnapshotId<'a>,
    /// The run's directory: a drift's full diff goes to `golden.diff` there.
    pub run_dir: &'a Path,
}

/// The command that accepts the pending snapshots of `dir`.
fn accept_command(dir: &Path) -> String {
    format!("faultline golden accept {}", dir.display())
}

/// The `golden` check of `state` (the fault-free end state): pass when it equals the accepted
/// snapshot; warn when there is none yet (the pending `.snap.new` is written); fail on a drift,
/// with one row per differing key (missing, then extra, then changed) and the unified diff in
/// `golden.diff`. A snapshot that cannot be read or written stops the run naming the file.
pub fn check(input: &GoldenInput, state: &OutputState) -> Result<CheckResult> {
    let dir = input.dir;
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let snap = dir.join(format!("{}.snap", input.id.stem()));
    let pending = dir.join(format!("{}.snap.new", input.id.stem()));
    let body = render(state);
    let now = normalize(&body);
    let rows_total: usize = state.tables.values().map(BTreeMap::len).sum();
    let write_pending = || {
        std::fs::write(&pending, snapshot_file(&input.id, input.source, &body))
            .map_err(|e| io(&pending, e))
    };
    if !snap.exists() {
        write_pending()?;
        return Ok(CheckResult::from_rows(
            "golden",
            CheckStatus::Warn,
            format!(
                "no golden snapshot {} yet: wrote the fault-free end state ({rows_total} rows in \
                 {} tables) to {}; review it, then accept it with `{}`",
                snap.display(),
                state.tables.len() + state.missing.len(),
                pending.display(),
                accept_command(dir)
            ),
            Vec::new(),
        ));
    }
    let old = insta::Snapshot::from_file(&snap).map_err(|e| {
        RunnerError::Usage(format!("reading golden snapshot {}: {e}", snap.display()))
    })?;
    let old = old.as_text().map(ToString::to_string).ok_or_else(|| {
        RunnerError::Usage(format!(
            "golden snapshot {} is a binary snapshot; delete it and accept a new one",
            snap.display()
        ))
    })?;
    if old == now {
        if pending.exists() {
            std::fs::remove_file(&pending).map_err(|e| io(&pending, e))?;
        }
        return Ok(CheckResult::from_rows(
            "golden",
            CheckStatus::Pass,
            format!(
                "the fault-free end state equals golden snapshot {} ({rows_total} rows)",
                snap.display()
            ),
            Vec::new(),
        ));
    }
    write_pending()?;
    let diff_path = input.run_dir.join("golden.diff");
    std::fs::create_dir_all(input.run_dir).map_err(|e| io(input.run_dir, e))?;
    std::fs::write(&diff_path, unified_diff(&old, &now, &snap)).map_err(|e| io(&diff_path, e))?;
    let rows = drift_rows(&old, &now, state);
    let count = |kind: &str| rows.iter().filter(|r| r["difference"] == kind).count();
    let tables: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["table"].as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(CheckResult::from_rows(
        "golden",
        CheckStatus::Fail,
        format!(
            "the fault-free end state drifted from golden snapshot {}: {} missing, {} extra, {} \
             changed rows (tables {}; listed missing first, then extra, then changed); the diff is \
             in {}, the new state in {}; if the change is intended, accept it with `{}`",
            snap.display(),
            count("missing"),
            count("extra"),
            count("changed"),
            if tables.is_empty() {
                "none: only table headers".into()
            } else {
                tables.join(", ")
            },
            diff_path.display(),
            pending.display(),
            accept_command(dir)
        ),
        rows,
    ))
}

/// As insta compares: trailing whitespace and CRLF do not count.
fn normalize(s: &str) -> String {
    s.trim_end().replace("\r\n", "\n")
}

fn io(path: &Path, source: std::io::Error) -> RunnerError {
    RunnerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The unified diff of the accepted snapshot and the new state (similar's), at most
/// [`MAX_DIFF_LINES`] lines.
pub fn unified_diff(old: &str, new: &str, snap: &Path) -> String {
    let old = format!("{old}\n");
    let new = format!("{new}\n");
    let name = snap.display().to_string();
    let diff = similar::TextDiff::from_lines(&old, &new);
    let text = diff
        .unified_diff()
        .context_radius(1)
        .header(&name, "fault-free run")
        .to_string();
    let total = text.lines().count();
    if total <= MAX_DIFF_LINES {
        return text;
    }
    let mut capped: String = text
        .lines()
        .take(MAX_DIFF_LINES)
        .map(|l| format!("{l}\n"))
        .collect();
    capped.push_str(&format!("... {} more lines\n", total - MAX_DIFF_LINES));
    capped
}

/// A snapshot line split into (table it belongs to, key, the rest); `None` for header lines.
fn split_line<'a>(table: &str, line: &'a str) -> Option<(String, String, &'a str)> {
    if !line.starts_with('[') {
        return None;
    }
    let mut values = serde_json::Deserializer::from_str(line).into_iter::<Value>();
    let key = values.next()?.ok()?;
    let rest = line[values.byte_offset()..].trim_start();
    Some((table.to_string(), key.to_string(), rest))
}

/// The table each line of a snapshot body belongs to (from the last `table` header above it).
fn line_tables(body: &str) -> Vec<String> {
    let mut current = String::new();
    body.lines()
        .map(|l| {
            if let Some(h) = l.strip_prefix("table ") {
                current = h.split(':').next().unwrap_or("").to_string();
            }
            current.clone()
        })
        .collect()
}

/// One row per key whose line differs: `missing` (only in the snapshot), `extra` (only now) or
/// `changed`, in that order, each with its `-`/`+` lines and, when the snapshot keeps only a
/// digest, the row as it is now.
pub fn drift_rows(old: &str, new: &str, state: &OutputState) -> Vec<Row> {
    let old_tables = line_tables(old);
    let new_tables = line_tables(new);
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    // (table, key) → (line in the snapshot, line now), in the order of the diff.
    let mut by_key: Vec<((String, String), SnapshotAndNow)> = Vec::new();
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    let diff = similar::TextDiff::from_slices(&old_lines, &new_lines);
    for change in diff.iter_all_changes() {
        let (line, table, removed) = match change.tag() {
            similar::ChangeTag::Equal => continue,
            similar::ChangeTag::Delete => {
                let i = change.old_index().expect("a deleted line has an old index");
                (old_lines[i], &old_tables[i], true)
            }
            similar::ChangeTag::Insert => {
                let i = change
                    .new_index()
                    .expect("an inserted line has a new index");
                (new_lines[i], &new_tables[i], false)
            }
        };
        let Some((table, key, rest)) = split_line(table, line) else {
            continue;
        };
        let slot = *index
            .entry((table.clone(), key.clone()))
            .or_insert_with(|| {
                by_key.push(((table, key), (None, None)));
                by_key.len() - 1
            });
        let entry = &mut by_key[slot].1;
        if removed {
            entry.0 = Some(rest.to_string());
        } else {
            entry.1 = Some(rest.to_string());
        }
    }
    let mut rows: Vec<(u8, Row)> = by_key
        .into_iter()
        .map(|((table, key), (was, now))| {
            let (rank, kind) = match (&was, &now) {
                (Some(_), None) => (0, "missing"),
                (None, Some(_)) => (1, "extra"),
                _ => (2, "changed"),
            };
            let mut m = Map::new();
            m.insert("table".into(), table.clone().into());
            m.insert("key".into(), key.clone().into());
            m.insert("difference".into(), kind.into());
            let diff: Vec<String> = was
                .iter()
                .map(|l| format!("- {key} {l}"))
                .chain(now.iter().map(|l| format!("+ {key} {l}")))
                .collect();
            m.insert("diff".into(), diff.join("\n").into());
            if now.as_deref().is_some_and(|l| l.starts_with('#')) {
                if let Some(row) = state.tables.get(&table).and_then(|t| t.get(&key)) {
                    m.insert("now".into(), Value::Object(row.clone()));
                }
            }
            (rank, m)
        })
        .collect();
    rows.sort_by_key(|(rank, _)| *rank);
    rows.into_iter().map(|(_, r)| r).collect()
}

/// `faultline golden accept`: every pending `<name>.snap.new` of `dir` becomes `<name>.snap`.
/// Returns the accepted files; an empty list when nothing was pending.
pub fn accept(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
    let mut accepted = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io(dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(stem) = name.strip_suffix(".snap.new") {
            let to = dir.join(format!("{stem}.snap"));
            std::fs::rename(&path, &to).map_err(|e| io(&path, e))?;
            accepted.push(to);
        }
    }
    accepted.sort();
    Ok(accepted)
}

#[cfg(test)]
mod tests;
