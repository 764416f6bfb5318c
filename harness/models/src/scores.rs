//! Per-row scores of both models: what `faultline compare --scores FILE` reads (predictions the
//! owner already has, no model needed) and what every comparison writes as `scores.csv` beside
//! `comparison.json`, so a result can be audited row by row.
//!
//! The file is CSV with a header row. The columns are named by [`ScoreColumns`] (the defaults are
//! the names `scores.csv` is written with, so a written file reads back as it is); other columns
//! are ignored. Every error names the file, the line and the column, and the flag that fixes it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{ModelError, Result};

/// Column names of `scores.csv`, in the order they are written.
pub const SCORE_CSV_COLUMNS: [&str; 6] = [
    "id",
    "label",
    "champion_score",
    "challenger_score",
    "champion_decision",
    "challenger_decision",
];

/// The file name of the per-row scores written beside `comparison.json`.
pub const SCORES_FILE: &str = "scores.csv";

/// Which columns of a scores file hold what, and which label value is the positive class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreColumns {
    /// Row id (`--id-column`).
    pub id: String,
    /// The label (`--label-column`).
    pub label: String,
    /// The label value of the positive class (`--positive`); any other value is negative.
    pub positive: String,
    /// The champion's score (`--champion-column`).
    pub champion: String,
    /// The challenger's score (`--challenger-column`).
    pub challenger: String,
}

impl Default for ScoreColumns {
    /// The names `scores.csv` is written with, and `1` as the positive label.
    fn default() -> Self {
        ScoreColumns {
            id: SCORE_CSV_COLUMNS[0].into(),
            label: SCORE_CSV_COLUMNS[1].into(),
            positive: "1".into(),
            champion: SCORE_CSV_COLUMNS[2].into(),
            challenger: SCORE_CSV_COLUMNS[3].into(),
        }
    }
}

/// Both models' scores for each labelled row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowScores {
    /// Where the rows came from (a dataset or a scores file).
    pub source: PathBuf,
    /// Row ids.
    pub ids: Vec<String>,
    /// True for the positive class.
    pub labels: Vec<bool>,
    /// The champion's score per row.
    pub champion: Vec<f64>,
    /// The challenger's score per row.
    pub challenger: Vec<f64>,
}

/// Which flag sets each column, for error messages.
const FLAGS: [(&str, &str); 4] = [
    ("id", "--id-column"),
    ("label", "--label-column"),
    ("champion", "--champion-column"),
    ("challenger", "--challenger-column"),
];

impl RowScores {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Reads a scores CSV with the columns `columns` names; other columns are ignored.
    pub fn load(path: impl AsRef<Path>, columns: &ScoreColumns) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| ModelError::io(path, e))?;
        let csv_err = |e: csv::Error| {
            let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
            ModelError::Dataset {
                path: path.to_path_buf(),
                problem: format!("line {line}: malformed CSV ({e})"),
            }
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .buffer_capacity(1 << 20)
            .from_reader(file);
        let headers = rdr.byte_headers().map_err(csv_err)?.clone();
        let wanted = [
            &columns.id,
            &columns.label,
            &columns.champion,
            &columns.challenger,
        ];
        let mut at = [0usize; 4];
        for (k, name) in wanted.iter().enumerate() {
            at[k] = headers
                .iter()
                .position(|h| h == name.as_bytes())
                .ok_or_else(|| {
                    let found: Vec<String> = headers
                        .iter()
                        .map(|h| String::from_utf8_lossy(h).into_owned())
                        .collect();
                    ModelError::DatasetField {
                        path: path.to_path_buf(),
                        line: 1,
                        field: name.to_string(),
                        problem: format!(
                            "no such column for the {} (header has {}); name it with {}",
                            FLAGS[k].0,
                            found.join(", "),
                            FLAGS[k].1
                        ),
                    }
                })?;
        }
        let mut rows = RowScores {
            source: path.to_path_buf(),
            ids: Vec::new(),
            labels: Vec::new(),
            champion: Vec::new(),
            challenger: Vec::new(),
        };
        let positive = columns.positive.as_bytes();
        let mut record = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut record).map_err(csv_err)? {
            let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
            let cell = |k: usize| record.get(at[k]).unwrap_or_default();
            let score = |k: usize| -> Result<f64> {
                let text = std::str::from_utf8(cell(k)).unwrap_or("");
                text.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite())
                    .ok_or_else(|| ModelError::DatasetField {
                        path: path.to_path_buf(),
                        line,
                        field: wanted[k].to_string(),
                        problem: format!(
                            "expected a finite number (the {} score), got {:?}",
                            FLAGS[k].0,
                            String::from_utf8_lossy(cell(k))
                        ),
                    })
            };
            rows.champion.push(score(2)?);
            rows.challenger.push(score(3)?);
            rows.labels.push(cell(1) == positive);
            rows.ids.push(String::from_utf8_lossy(cell(0)).into_owned());
        }
        if rows.is_empty() {
            return Err(ModelError::Dataset {
                path: path.to_path_buf(),
                problem: "has no rows after the header".into(),
            });
        }
        if !rows.labels.iter().any(|&l| l) {
            return Err(ModelError::DatasetField {
                path: path.to_path_buf(),
                line: 2,
                field: columns.label.clone(),
                problem: format!(
                    "no row has the positive label {:?}; pass the positive class's value with --positive",
                    columns.positive
                ),
            });
        }
        Ok(rows)
    }

    /// Writes `scores.csv`: one row per input row with both scores and both decisions (1 when
    /// the score reaches the model's threshold), columns as in [`SCORE_CSV_COLUMNS`].
    pub fn write_csv(
        &self,
        champion_threshold: f64,
        challenger_threshold: f64,
        path: impl AsRef<Path>,
    ) -> Result<()> {
        let path = path.as_ref();
        let io = |e: std::io::Error| ModelError::io(path, e);
        let file = std::fs::File::create(path).map_err(io)?;
        let mut w = csv::WriterBuilder::new().from_writer(std::io::BufWriter::new(file));
        let csv_io = |e: csv::Error| ModelError::io(path, e.into());
        w.write_record(SCORE_CSV_COLUMNS).map_err(csv_io)?;
        let bit = |b: bool| if b { "1" } else { "0" };
        for i in 0..self.len() {
            let (a, b) = (self.champion[i], self.challenger[i]);
            w.write_record([
                self.ids[i].as_str(),
                bit(self.labels[i]),
                &a.to_string(),
                &b.to_string(),
                bit(a >= champion_threshold),
                bit(b >= challenger_threshold),
            ])
            .map_err(csv_io)?;
        }
        w.into_inner()
            .map_err(|e| io(e.into_error()))?
            .flush()
            .map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("s.csv");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_named_columns_ignoring_others_and_round_trips_through_scores_csv() {
        let dir = tempfile::tempdir().unwrap();
        let cols = ScoreColumns {
            id: "txn".into(),
            label: "is_fraud".into(),
            positive: "yes".into(),
            champion: "old".into(),
            challenger: "new".into(),
        };
        let p = write(
            dir.path(),
            "new,extra,txn,is_fraud,old\n0.9,x,a,yes,0.2\n0.1,y,b,no,0.7\n",
        );
        let rows = RowScores::load(&p, &cols).unwrap();
        assert_eq!(rows.ids, ["a", "b"]);
        assert_eq!(rows.labels, [true, false]);
        assert_eq!(
            (rows.champion.clone(), rows.challenger.clone()),
            (vec![0.2, 0.7], vec![0.9, 0.1])
        );
        let out = dir.path().join(SCORES_FILE);
        rows.write_csv(0.5, 0.5, &out).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "id,label,champion_score,challenger_score,champion_decision,challenger_decision\n\
             a,1,0.2,0.9,0,1\nb,0,0.7,0.1,1,0\n"
        );
        let back = RowScores::load(&out, &ScoreColumns::default()).unwrap();
        assert_eq!(
            (back.ids, back.labels, back.champion, back.challenger),
            (rows.ids, rows.labels, rows.champion, rows.challenger)
        );
    }

    #[test]
    fn a_missing_column_names_it_the_header_and_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "id,label,champion_score\na,1,0.5\n");
        let e = RowScores::load(&p, &ScoreColumns::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.csv line 1")
                && e.contains("`challenger_score`")
                && e.contains("--challenger-column"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_score_names_the_line_and_column_and_no_positive_names_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "id,label,champion_score,challenger_score\na,1,0.5,0.2\nb,0,NaN,0.1\n",
        );
        let e = RowScores::load(&p, &ScoreColumns::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("`champion_score`") && e.contains("\"NaN\""),
            "{e}"
        );
        let p = write(
            dir.path(),
            "id,label,champion_score,challenger_score\na,0,0.5,0.2\n",
        );
        let e = RowScores::load(&p, &ScoreColumns::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("--positive") && e.contains("`label`"), "{e}");
    }
}
