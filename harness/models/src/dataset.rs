//! Labelled datasets: enriched transactions with a 0/1 fraud label, read from JSON Lines or CSV.
//!
//! A file may hold any columns. The label's column and its positive value are [`DataColumns`]
//! (`--label-column`, `--positive`). When the file has the ledger's columns ([`COLUMNS`]: the
//! event fields, the profile fields; `channel` may be absent, `null` or, in CSV, empty), each row
//! also yields the built-in features ([`crate::features`]). Every other column whose values are all
//! numbers is a feature under its own name, for models that name it; the rest is ignored. Which
//! features a comparison needs is the models' business: a model naming one the file lacks is an
//! error naming both ([`crate::ModelError::FeatureMismatch`]). Every error names the file, the line
//! and the field.

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

/// The ledger columns a file must have for its rows to yield the built-in features (all of
/// [`COLUMNS`] but the optional `channel` and the label, whose name is a flag).
const LEDGER_REQUIRED: [&str; 9] = [
    "transaction_id",
    "account_id",
    "kind",
    "amount_cents",
    "created_at",
    "schema_version",
    "account_age_days",
    "risk_tier",
    "country",
];

/// Which column holds the label and which of its values is the positive class (fraud).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataColumns {
    /// The label's column (`--label-column`).
    pub label: String,
    /// The positive value (`--positive`); every other value is negative. With the default `1`,
    /// a label must be 0 or 1, which catches a wrong column early.
    pub positive: String,
}

impl Default for DataColumns {
    /// `label`, positive `1`: the ledger's own labels.
    fn default() -> Self {
        DataColumns {
            label: "label".into(),
            positive: "1".into(),
        }
    }
}

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
    ids: Vec<String>,
    features: FeatureMatrix,
    labels: Vec<bool>,
}

/// What a file yielded before it becomes a [`Dataset`].
#[derive(Default)]
struct Loaded {
    /// Ledger rows (empty when the file lacks the ledger columns).
    rows: Vec<LabelledRow>,
    ids: Vec<String>,
    labels: Vec<bool>,
    /// Extra numeric columns, by name; `None` once a value was not a number.
    numeric: Vec<(String, Option<Vec<f64>>)>,
}

impl Loaded {
    fn push_numeric(&mut self, values: impl Fn(&str) -> Option<f64>) {
        for (name, column) in &mut self.numeric {
            let value = values(name);
            match (column.as_mut(), value) {
                (Some(c), Some(v)) if v.is_finite() => c.push(v),
                _ => *column = None,
            }
        }
    }
}

impl Dataset {
    /// Loads `.jsonl`/`.ndjson`/`.json` as JSON Lines and `.csv` as CSV with a header row, the
    /// label in column `label` with positive value 1.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Dataset::load_with(path, &DataColumns::default())
    }

    /// [`Dataset::load`] with the label's column and positive value named by `columns`.
    pub fn load_with(path: impl AsRef<Path>, columns: &DataColumns) -> Result<Self> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let file = || std::fs::File::open(path).map_err(|e| ModelError::io(path, e));
        let loaded = match ext.as_deref() {
            Some("jsonl" | "ndjson" | "json") => {
                read_jsonl(path, std::io::BufReader::new(file()?), columns)?
            }
            Some("csv") => read_csv(path, file()?, columns)?,
            _ => {
                return Err(ModelError::Dataset {
                    path: path.to_path_buf(),
                    problem: "unknown extension; expected .jsonl, .ndjson or .csv".into(),
                })
            }
        };
        if loaded.labels.is_empty() {
            return Err(ModelError::Dataset {
                path: path.to_path_buf(),
                problem: "has no rows".into(),
            });
        }
        let mut features = if loaded.rows.is_empty() {
            FeatureMatrix::new(Vec::new())
        } else {
            FeatureMatrix::from_inputs(loaded.rows.iter().map(|r| &r.input))
        };
        let numeric: Vec<(String, Vec<f64>)> = loaded
            .numeric
            .into_iter()
            .filter_map(|(name, c)| Some((name, c?)))
            .filter(|(name, _)| !features.names().contains(name))
            .collect();
        features.append_columns(numeric, loaded.labels.len());
        Ok(Dataset {
            source: path.to_path_buf(),
            rows: loaded.rows,
            ids: loaded.ids,
            features,
            labels: loaded.labels,
        })
    }

    /// A dataset built in memory; `source` labels it in errors and reports.
    pub fn from_rows(source: impl Into<PathBuf>, rows: Vec<LabelledRow>) -> Self {
        let features = FeatureMatrix::from_inputs(rows.iter().map(|r| &r.input));
        let labels = rows.iter().map(|r| r.label).collect();
        Dataset {
            source: source.into(),
            ids: rows.iter().map(|r| r.transaction_id.clone()).collect(),
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
        self.labels.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The ledger rows; empty when the file lacks the ledger columns.
    pub fn rows(&self) -> &[LabelledRow] {
        &self.rows
    }

    /// The feature matrix, one row per dataset row.
    pub fn features(&self) -> &FeatureMatrix {
        &self.features
    }

    /// Each row's id: its `transaction_id`, else its `id`, else its line number.
    pub fn ids(&self) -> &[String] {
        &self.ids
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

    /// The label: whether the cell equals `columns.positive` (with the default positive `1`, the
    /// cell must be 0 or 1).
    fn label(&self, columns: &DataColumns) -> Result<bool> {
        let field = columns.label.as_str();
        let text = match (self.get)(field) {
            None | Some(Cell::Json(Value::Null)) | Some(Cell::Text("")) => {
                return Err(self.err(
                    field,
                    "missing; every row needs a label (name its column with --label-column)",
                ))
            }
            Some(Cell::Text(s)) => s.trim().to_string(),
            Some(Cell::Json(Value::String(s))) => s.clone(),
            Some(Cell::Json(v)) => v.to_string(),
        };
        if columns.positive == "1" && text != "0" && text != "1" {
            return Err(self.err(
                field,
                "must be 0 or 1 (for other labels, pass the positive value with --positive)",
            ));
        }
        Ok(text == columns.positive)
    }

    /// A number, if the field holds one.
    fn number(&self, field: &str) -> Option<f64> {
        match (self.get)(field)? {
            Cell::Json(Value::Number(n)) => n.as_f64(),
            Cell::Json(_) => None,
            Cell::Text(s) => s.trim().parse().ok(),
        }
    }

    /// The id: `transaction_id`, else `id`, else the line number.
    fn id(&self) -> String {
        ["transaction_id", "id"]
            .iter()
            .find_map(|f| self.opt_text(f).ok().flatten())
            .unwrap_or_else(|| format!("line-{}", self.line))
    }

    /// One row into `into`: id, label, the ledger fields when `ledger`, the numeric columns.
    fn read_into(&self, into: &mut Loaded, columns: &DataColumns, ledger: bool) -> Result<()> {
        let label = self.label(columns)?;
        if ledger {
            into.rows.push(self.row(label)?);
        }
        into.ids.push(self.id());
        into.labels.push(label);
        into.push_numeric(|f| self.number(f));
        Ok(())
    }

    fn row(&self, label: bool) -> Result<LabelledRow> {
        let kind: Kind = self.parsed("kind")?;
        let created_at: UtcTimestamp = self
            .text("created_at")?
            .parse()
            .map_err(|e: crate::time::TimestampError| self.err("created_at", e.to_string()))?;
        let channel = match self.opt_text("channel")? {
            None => None,
            Some(c) => Some(c.parse::<Channel>().map_err(|e| self.err("channel", e))?),
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
            label,
        })
    }
}

/// Columns that are neither ledger columns nor the label: candidate numeric features.
fn extra_columns<'a>(
    names: impl Iterator<Item = &'a str>,
    columns: &DataColumns,
) -> Vec<(String, Option<Vec<f64>>)> {
    names
        .filter(|n| *n != columns.label && !COLUMNS.contains(n))
        .map(|n| (n.to_string(), Some(Vec::new())))
        .collect()
}

fn has_ledger_columns<'a>(names: impl Iterator<Item = &'a str> + Clone) -> bool {
    LEDGER_REQUIRED
        .iter()
        .all(|c| names.clone().any(|n| n == *c))
}

fn read_jsonl(path: &Path, reader: impl BufRead, columns: &DataColumns) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut ledger = None;
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
        // The first row decides the columns, as a CSV header does.
        let ledger = *ledger.get_or_insert_with(|| {
            loaded.numeric = extra_columns(obj.keys().map(String::as_str), columns);
            has_ledger_columns(obj.keys().map(String::as_str))
        });
        let reader = RowReader {
            path,
            line: line_no,
            get: |f: &str| obj.get(f).map(Cell::Json),
        };
        reader.read_into(&mut loaded, columns, ledger)?;
    }
    Ok(loaded)
}

fn read_csv(path: &Path, reader: impl std::io::Read, columns: &DataColumns) -> Result<Loaded> {
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
    let mut loaded = Loaded {
        numeric: extra_columns(headers.iter(), columns),
        ..Loaded::default()
    };
    let ledger = has_ledger_columns(headers.iter());
    let index = |name: &str| headers.iter().position(|h| h == name);
    for record in rdr.records() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let reader = RowReader {
            path,
            line,
            get: |f: &str| index(f).and_then(|i| record.get(i)).map(Cell::Text),
        };
        reader.read_into(&mut loaded, columns, ledger)?;
    }
    Ok(loaded)
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
