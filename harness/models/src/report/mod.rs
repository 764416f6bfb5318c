//! The three outputs of a comparison, all deterministic (no timestamps, sorted maps):
//!
//! - [`markdown`] `summary.md`, a table a reviewer reads in a pull request;
//! - [`html`]     `report.html`, self-contained with inline SVG charts ([`svg`]);
//! - `comparison.json`, the [`Comparison`] itself with `verdict` first.

use std::path::{Path, PathBuf};

use crate::compare::Comparison;
use crate::error::{ModelError, Result};
use crate::robustness::{Change, Robustness};

pub mod html;
pub mod markdown;
pub mod svg;

/// File names written into the output directory.
pub const JSON_FILE: &str = "comparison.json";
/// See [`JSON_FILE`].
pub const MARKDOWN_FILE: &str = "summary.md";
/// See [`JSON_FILE`].
pub const HTML_FILE: &str = "report.html";

/// `comparison.json`'s text: pretty-printed, ending in a newline.
pub fn comparison_json(c: &Comparison) -> String {
    let mut s = serde_json::to_string_pretty(c)
        .expect("a Comparison has only finite numbers and string keys");
    s.push('\n');
    s
}

/// Paths of the files [`write_outputs`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPaths {
    /// `comparison.json`.
    pub json: PathBuf,
    /// `summary.md`.
    pub markdown: PathBuf,
    /// `report.html`.
    pub html: PathBuf,
}

/// Writes `comparison.json`, `summary.md` and `report.html` into `out_dir`, creating it if needed.
pub fn write_outputs(c: &Comparison, out_dir: impl AsRef<Path>) -> Result<OutputPaths> {
    let dir = out_dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let paths = OutputPaths {
        json: dir.join(JSON_FILE),
        markdown: dir.join(MARKDOWN_FILE),
        html: dir.join(HTML_FILE),
    };
    for (path, text) in [
        (&paths.json, comparison_json(c)),
        (&paths.markdown, markdown::summary(c)),
        (&paths.html, html::report(c)),
    ] {
        std::fs::write(path, text).map_err(|e| ModelError::io(path, e))?;
    }
    Ok(paths)
}

/// A signed number with four decimals, as every output shows deltas.
pub(crate) fn signed(x: f64) -> String {
    format!("{x:+.4}")
}

/// The header of the robustness table both `summary.md` and `report.html` show.
pub(crate) const ROBUSTNESS_HEADER: [&str; 6] = [
    "rows",
    "metric",
    "champion fault-free → faulted",
    "challenger fault-free → faulted",
    "challenger − champion change",
    "interval",
];

/// One line of the robustness table per split and metric: each model's value in both runs with
/// its change and interval, then the difference of the changes and its interval.
pub(crate) fn robustness_rows(r: &Robustness) -> Vec<[String; 6]> {
    let change = |c: &Change| {
        format!(
            "{:.4} → {:.4} ({} [{}, {}])",
            c.fault_free,
            c.faulted,
            signed(c.change),
            signed(c.ci.low),
            signed(c.ci.high)
        )
    };
    r.splits
        .iter()
        .flat_map(|s| {
            s.difference.iter().map(move |(m, d)| {
                [
                    format!(
                        "{} ({} rows, {} fraud, {} on fallback features)",
                        s.rows, s.n, s.positives, s.fallback
                    ),
                    m.to_string(),
                    change(&s.champion[m]),
                    change(&s.challenger[m]),
                    signed(d.delta),
                    format!("[{}, {}]", signed(d.ci.low), signed(d.ci.high)),
                ]
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{compare_scores, ModelScores};
    use crate::policy::Policy;

    pub(crate) fn sample() -> Comparison {
        let n = 400;
        let labels: Vec<bool> = (0..n).map(|i| i % 5 == 0).collect();
        let a: Vec<f64> = (0..n).map(|i| ((i * 31) % 97) as f64 / 97.0).collect();
        let b: Vec<f64> = (0..n)
            .map(|i| {
                if labels[i] {
                    0.4 + a[i] * 0.6
                } else {
                    a[i] * 0.8
                }
            })
            .collect();
        compare_scores(
            ModelScores {
                version: "champ <v1>",
                format: "scorecard",
                threshold: 0.5,
                scores: &a,
            },
            ModelScores {
                version: "chall & v2",
                format: "onnx",
                threshold: 0.5,
                scores: &b,
            },
            &labels,
            "data/x.jsonl",
            &Policy {
                min_samples: 10,
                min_positives: 1,
                min_negatives: 1,
                resamples: 100,
                ..Policy::all_metrics()
            },
            7,
        )
    }

    #[test]
    fn writes_three_files_with_verdict_first_in_json() {
        let dir = tempfile::tempdir().unwrap();
        let c = sample();
        let paths = write_outputs(&c, dir.path().join("out")).unwrap();
        let json = std::fs::read_to_string(&paths.json).unwrap();
        assert!(json.starts_with("{\n  \"verdict\": \""), "{}", &json[..40]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        for key in [
            "verdict",
            "n",
            "seed",
            "champion",
            "challenger",
            "deltas",
            "mcnemar",
            "policy",
            "gates",
        ] {
            assert!(v.get(key).is_some(), "comparison.json lacks `{key}`");
        }
        assert!(v["deltas"]["precision"]["ci"]["low"].is_number());
        assert!(
            v["champion"].get("pr_curve").is_none(),
            "curves stay out of the JSON"
        );
        assert!(std::fs::read_to_string(&paths.markdown)
            .unwrap()
            .contains("| precision |"));
        assert!(std::fs::read_to_string(&paths.html)
            .unwrap()
            .contains("<svg"));
    }

    #[test]
    fn outputs_are_deterministic() {
        let (a, b) = (sample(), sample());
        assert_eq!(comparison_json(&a), comparison_json(&b));
        assert_eq!(html::report(&a), html::report(&b));
    }
}
