//! Labelled datasets: enriched transactions with a 0/1 fraud label, read from JSON Lines or CSV.
//!
//! Both formats have the same columns ([`COLUMNS`]): the event fields, the profile fields and
//! `label`. `channel` may be absent, `null` or (CSV) empty. Unknown columns are rejected because
//! they are usually typos. Every error names the file, the line and the field.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{ModelError, Result};
use crate::features::{Channel, Kind, RiskTier, TxnInput};
use crate::matrix::FeatureMatrix;
use crate::time::UtcTimestamp;

/// The columns of a dataset file, in the order they are written.
pub const COLUMNS: [&str; 11] = [
    "transaction_id",
    "account_id",
    "kind",
    "amount_cents",
    "created_at",
    "schema_version",
    "channel",
    "account_age_days",
    "risk_tier",
    "country",
    "label",
];

/// One labelled, enriched transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledRow {
    /// Event id.
    pub transaction_id: String,
    /// Account the event belongs to.
    pub account_id: String,
    /// Event schema version, 1 or 2.
    pub schema_version: u8,
    /// Two-letter country from the profile service (carried, not a feature).
    pub country: String,
    /// The feature inputs.
    pub input: TxnInput,
    /// True for fraud.
    pub label: bool,
}

/// A loaded dataset: its rows, their feature matrix and labels.
#[derive(Debug, Clone)]
pub struct Dataset {
    source: PathBuf,
    rows: Vec<LabelledRow>,
    features: FeatureMatrix,
    labels: Vec<bool>,
}

impl Dataset {
    /// Loads `.jsonl`/`.ndjson`/`.json` as JSON Lines and `.csv` as CSV with a header row.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let file = || std::fs::File::open(path).map_err(|e| ModelError::io(path, e));
        let rows = match ext.as_deref() {
            Some("jsonl" | "ndjson" | "json") => {
                read_jsonl(path, std::io::BufReader::new(file()?))?
            }
            Some("csv") => read_csv(path, file()?)?,
            _ => {
                return Err(ModelError::Dataset {
                    path: path.to_path_buf(),
                    problem: "unknown extension; expected .jsonl, .ndjson or .csv".into(),
                })
            }
        };
        if rows.is_empty() {
            return Err(ModelError::Dataset {
                path: path.to_path_buf(),
                problem: "has no rows".into(),
            });
        }
        Ok(Dataset::from_rows(path, rows))
    }

    /// A dataset built in memory; `source` labels it in errors and reports.
    pub fn from_rows(source: impl Into<PathBuf>, rows: Vec<LabelledRow>) -> Self {
        let features = FeatureMatrix::from_inputs(rows.iter().map(|r| &r.input));
        let labels = rows.iter().map(|r| r.label).collect();
        Dataset {
            source: source.into(),
            rows,
            features,
            labels,
        }
    }

    /// Where the rows came from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows.
    pub fn rows(&self) -> &[LabelledRow] {
        &self.rows
    }

    /// The feature matrix, one row per dataset row.
    pub fn features(&self) -> &FeatureMatrix {
        &self.features
    }

    /// The labels, one per row.
    pub fn labels(&self) -> &[bool] {
        &self.labels
    }
}

/// A field value as found in the file: a JSON value or a CSV cell.
enum Cell<'a> {
    Json(&'a Value),
    Text(&'a str),
}

/// Reads one row's fields, producing errors that name the file, line and field.
struct RowReader<'a, F: Fn(&str) -> Option<Cell<'a>>> {
    path: &'a Path,
    line: usize,
    get: F,
}

impl<'a, F: Fn(&str) -> Option<Cell<'a>>> RowReader<'a, F> {
    fn err(&self, field: &str, problem: impl Into<String>) -> ModelError {
        ModelError::DatasetField {
            path: self.path.to_path_buf(),
            line: self.line,
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The field as text, or `None` when absent, null or an empty CSV cell.
    fn opt_text(&self, field: &str) -> Result<Option<String>> {
        match (self.get)(field) {
            None | Some(Cell::Json(Value::Null)) => Ok(None),
            Some(Cell::Text("")) => Ok(None),
            Some(Cell::Text(s)) => Ok(Some(s.to_string())),
            Some(Cell::Json(Value::String(s))) => Ok(Some(s.clone())),
            Some(Cell::Json(v)) => Err(self.err(
                field,
                format!("expected a string, got {}", crate::model::describe_json(v)),
            )),
        }
    }

    fn text(&self, field: &str) -> Result<String> {
        self.opt_text(field)?
            .ok_or_else(|| self.err(field, "missing"))
    }

    fn parsed<T: std::str::FromStr<Err = String>>(&self, field: &str) -> Result<T> {
        self.text(field)?
            .parse()
            .map_err(|e: String| self.err(field, e))
    }

    /// A whole number in `lo..=hi`.
    fn integer(&self, field: &str, lo: i64, hi: i64) -> Result<i64> {
        let range = || format!("expected an integer in {lo}..={hi}");
        let n = match (self.get)(field) {
            None | Some(Cell::Json(Value::Null)) => return Err(self.err(field, "missing")),
            Some(Cell::Json(Value::Number(n))) => n
                .as_i64()
                .ok_or_else(|| self.err(field, format!("{}, got {n}", range())))?,
            Some(Cell::Json(v)) => {
                return Err(self.err(
                    field,
                    format!("{}, got {}", range(), crate::model::describe_json(v)),
                ))
            }
            Some(Cell::Text(s)) => s
                .trim()
                .parse()
                .map_err(|_| self.err(field, format!("{}, got {s:?}", range())))?,
        };
        if n < lo || n > hi {
            return Err(self.err(field, format!("{}, got {n}", range())));
        }
        Ok(n)
    }

    fn row(&self) -> Result<LabelledRow> {
        let kind: Kind = self.parsed("kind")?;
        let created_at: UtcTimestamp = self
            .text("created_at")?
            .parse()
            .map_err(|e: crate::time::TimestampError| self.err("created_at", e.to_string()))?;
        let channel = match self.opt_text("channel")? {
            None => None,
            Some(c) => Some(c.parse::<Channel>().map_err(|e| self.err("channel", e))?),
        };
        let label = match (self.get)("label") {
            None | Some(Cell::Json(Value::Null)) => {
                return Err(self.err("label", "missing; every row needs a label of 0 or 1"))
            }
            _ => self
                .integer("label", 0, 1)
                .map_err(|_| self.err("label", "must be 0 or 1"))?,
        };
        Ok(LabelledRow {
            transaction_id: self.text("transaction_id")?,
            account_id: self.text("account_id")?,
            schema_version: self.integer("schema_version", 1, 2)? as u8,
            country: self.text("country")?,
            input: TxnInput {
                kind,
                amount_cents: self.integer("amount_cents", 0, i64::MAX)?,
                created_at,
                channel,
                account_age_days: self.integer("account_age_days", 0, i64::from(u32::MAX))? as u32,
                risk_tier: self.parsed::<RiskTier>("risk_tier")?,
            },
            label: label == 1,
        })
    }
}

fn unknown_column(path: &Path, line: usize, name: &str) -> ModelError {
    ModelError::DatasetField {
        path: path.to_path_buf(),
        line,
        field: name.to_string(),
        problem: format!("unknown column; expected only {}", COLUMNS.join(", ")),
    }
}

fn read_jsonl(path: &Path, reader: impl BufRead) -> Result<Vec<LabelledRow>> {
    let mut rows = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line_no = i + 1;
        let line = line.map_err(|e| ModelError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let obj: Map<String, Value> =
            serde_json::from_str(&line).map_err(|e| ModelError::Dataset {
                path: path.to_path_buf(),
                problem: format!("line {line_no}: not a JSON object ({e})"),
            })?;
        if let Some(k) = obj.keys().find(|k| !COLUMNS.contains(&k.as_str())) {
            return Err(unknown_column(path, line_no, k));
        }
        let reader = RowReader {
            path,
            line: line_no,
            get: |f: &str| obj.get(f).map(Cell::Json),
        };
        rows.push(reader.row()?);
    }
    Ok(rows)
}

fn read_csv(path: &Path, reader: impl std::io::Read) -> Result<Vec<LabelledRow>> {
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
        ModelError::Dataset {
            path: path.to_path_buf(),
            problem: format!("line {line}: malformed CSV ({e})"),
        }
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let headers = rdr.headers().map_err(csv_err)?.clone();
    if let Some(h) = headers.iter().find(|h| !COLUMNS.contains(h)) {
        return Err(unknown_column(path, 1, h));
    }
    let index = |name: &str| headers.iter().position(|h| h == name);
    let mut rows = Vec::new();
    for record in rdr.records() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let reader = RowReader {
            path,
            line,
            get: |f: &str| index(f).and_then(|i| record.get(i)).map(Cell::Text),
        };
        rows.push(reader.row()?);
    }
    Ok(rows)
}

/// The JSON object of one row, keys in [`COLUMNS`] order. `channel` is omitted when absent.
fn row_json(row: &LabelledRow) -> String {
    let esc = |s: &str| serde_json::to_string(s).expect("strings always serialise");
    let channel = row
        .input
        .channel
        .map(|c| format!(",\"channel\":\"{c}\""))
        .unwrap_or_default();
    format!(
        "{{\"transaction_id\":{},\"account_id\":{},\"kind\":\"{}\",\"amount_cents\":{},\"created_at\":\"{}\",\"schema_version\":{}{channel},\"account_age_days\":{},\"risk_tier\":\"{}\",\"country\":{},\"label\":{}}}",
        esc(&row.transaction_id),
        esc(&row.account_id),
        row.input.kind,
        row.input.amount_cents,
        row.input.created_at,
        row.schema_version,
        row.input.account_age_days,
        row.input.risk_tier,
        esc(&row.country),
        u8::from(row.label),
    )
}

/// Writes rows as JSON Lines (one object per line, fixed key order, `\n` endings).
pub fn write_jsonl(rows: &[LabelledRow], mut out: impl Write) -> std::io::Result<()> {
    for row in rows {
        writeln!(out, "{}", row_json(row))?;
    }
    Ok(())
}

/// Writes rows as CSV with a [`COLUMNS`] header; an absent channel is an empty cell.
pub fn write_csv(rows: &[LabelledRow], out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for r in rows {
        let i = &r.input;
        w.write_record([
            r.transaction_id.clone(),
            r.account_id.clone(),
            i.kind.to_string(),
            i.amount_cents.to_string(),
            i.created_at.to_string(),
            r.schema_version.to_string(),
            i.channel.map(|c| c.to_string()).unwrap_or_default(),
            i.account_age_days.to_string(),
            i.risk_tier.to_string(),
            r.country.clone(),
            u8::from(r.label).to_string(),
        ])?;
    }
    w.flush()
}

#[cfg(test)]
mod tests;
