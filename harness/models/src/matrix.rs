//! A dense, row-major table of named feature columns: what models score in bulk.
//!
//! Per-row `BTreeMap<String, f64>`s are the readable interface ([`crate::Model::score`]); a matrix
//! lets a scorecard or an ONNX graph score a million rows without a million maps.

use std::collections::BTreeMap;

use crate::features::{Features, TxnInput, FEATURE_COUNT, FEATURE_NAMES};

/// Rows of `f64` features under column names.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    names: Vec<String>,
    values: Vec<f64>,
}

impl FeatureMatrix {
    /// An empty matrix with the given columns.
    pub fn new(names: Vec<String>) -> Self {
        FeatureMatrix {
            names,
            values: Vec::new(),
        }
    }

    /// The standard feature columns ([`FEATURE_NAMES`]) of each input.
    pub fn from_inputs<'a>(inputs: impl IntoIterator<Item = &'a TxnInput>) -> Self {
        let mut m = FeatureMatrix::new(FEATURE_NAMES.iter().map(|s| s.to_string()).collect());
        let mut row = [0.0; FEATURE_COUNT];
        for input in inputs {
            Features::write_row(input, &mut row);
            m.values.extend_from_slice(&row);
        }
        m
    }

    /// Appends a row; its length must equal the column count.
    ///
    /// # Panics
    /// On a length mismatch, which is a bug in the caller.
    pub fn push_row(&mut self, row: &[f64]) {
        assert_eq!(
            row.len(),
            self.names.len(),
            "row width must match the column count"
        );
        self.values.extend_from_slice(row);
    }

    /// Adds whole columns to a matrix of `rows` rows (which may have no columns yet).
    ///
    /// # Panics
    /// If a column's length is not `rows`, or the matrix's rows differ from `rows`.
    pub fn append_columns(&mut self, columns: Vec<(String, Vec<f64>)>, rows: usize) {
        if columns.is_empty() {
            return;
        }
        let old = self.names.len();
        assert!(old == 0 || self.rows() == rows, "row count must match");
        assert!(
            columns.iter().all(|(_, c)| c.len() == rows),
            "column length must match"
        );
        let width = old + columns.len();
        let mut values = Vec::with_capacity(rows * width);
        for r in 0..rows {
            values.extend_from_slice(&self.values[r * old..(r + 1) * old]);
            values.extend(columns.iter().map(|(_, c)| c[r]));
        }
        self.names.extend(columns.into_iter().map(|(n, _)| n));
        self.values = values;
    }

    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        if self.names.is_empty() {
            0
        } else {
            self.values.len() / self.names.len()
        }
    }

    /// Row `i` in column order.
    pub fn row(&self, i: usize) -> &[f64] {
        let w = self.names.len();
        &self.values[i * w..(i + 1) * w]
    }

    /// Row `i` as a name → value map.
    pub fn row_map(&self, i: usize) -> BTreeMap<String, f64> {
        self.names
            .iter()
            .cloned()
            .zip(self.row(i).iter().copied())
            .collect()
    }

    /// Column indices of `wanted`, in that order, or the names that are absent.
    pub fn columns_of(&self, wanted: &[String]) -> Result<Vec<usize>, Vec<String>> {
        let mut missing = Vec::new();
        let idx: Vec<usize> = wanted
            .iter()
            .filter_map(|w| {
                let found = self.names.iter().position(|n| n == w);
                if found.is_none() {
                    missing.push(w.clone());
                }
                found
            })
            .collect();
        if missing.is_empty() {
            Ok(idx)
        } else {
            Err(missing)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_column_lookup() {
        let mut m = FeatureMatrix::new(vec!["a".into(), "b".into()]);
        m.push_row(&[1.0, 2.0]);
        m.push_row(&[3.0, 4.0]);
        assert_eq!(m.rows(), 2);
        assert_eq!(m.row(1), &[3.0, 4.0]);
        assert_eq!(m.row_map(0)["b"], 2.0);
        assert_eq!(m.columns_of(&["b".into(), "a".into()]), Ok(vec![1, 0]));
        assert_eq!(m.columns_of(&["c".into()]), Err(vec!["c".to_string()]));
    }
}
