//! [`write_all`]: every report file of a suite into one directory.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::SuiteReport;
use crate::{html, json, junit, markdown};

/// Why a report could not be written; IO errors name the path.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot create report directory {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot serialize {} as JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// The paths [`write_all`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFiles {
    /// `report.json`: the whole suite.
    pub report_json: PathBuf,
    /// `runs/<scenario>-<seed>/report.json`, one per run in run order.
    pub run_json: Vec<PathBuf>,
    /// `junit.xml`.
    pub junit: PathBuf,
    /// `report.html`.
    pub html: PathBuf,
    /// `summary.md`.
    pub summary: PathBuf,
}

/// Writes `report.json`, `runs/<scenario>-<seed>/report.json` per run, `junit.xml`, `report.html`
/// and `summary.md` under `out_dir` (created if missing). Each file is written to a temporary name
/// and renamed, so a reader never sees half a report.
pub fn write_all(suite: &SuiteReport, out_dir: &Path) -> Result<WrittenFiles, ReportError> {
    create_dir(out_dir)?;
    let report_json = out_dir.join("report.json");
    let suite_json = json::suite_json(suite).map_err(|source| ReportError::Json {
        path: report_json.clone(),
        source,
    })?;
    write(&report_json, &suite_json)?;

    let mut run_json = Vec::with_capacity(suite.runs.len());
    let mut taken = BTreeSet::new();
    for run in &suite.runs {
        let dir = out_dir.join("runs").join(run_dir_name(
            &run.scenario,
            run.seed,
            &run.backend,
            &mut taken,
        ));
        create_dir(&dir)?;
        let path = dir.join("report.json");
        let body = json::run_json(run).map_err(|source| ReportError::Json {
            path: path.clone(),
            source,
        })?;
        write(&path, &body)?;
        run_json.push(path);
    }

    let files = WrittenFiles {
        report_json,
        run_json,
        junit: out_dir.join("junit.xml"),
        html: out_dir.join("report.html"),
        summary: out_dir.join("summary.md"),
    };
    write(&files.junit, &junit::junit_xml(suite))?;
    write(&files.html, &html::report_html(suite))?;
    write(&files.summary, &markdown::summary_md(suite))?;
    Ok(files)
}

/// `<scenario>-<seed>` with anything but `[A-Za-z0-9._-]` replaced, made unique within the suite
/// (the backend, then a counter, is appended when a scenario and seed ran twice).
fn run_dir_name(scenario: &str, seed: u64, backend: &str, taken: &mut BTreeSet<String>) -> String {
    let safe = |s: &str| -> String {
        let cleaned: String = s
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        // Never `.` or `..`, never hidden.
        if cleaned.starts_with('.') || cleaned.is_empty() {
            format!("_{cleaned}")
        } else {
            cleaned
        }
    };
    let base = format!("{}-{seed}", safe(scenario));
    let mut candidates = [base.clone(), format!("{base}-{}", safe(backend))]
        .into_iter()
        .chain((2..).map(|n| format!("{base}-{}-{n}", safe(backend))));
    let name = candidates.find(|c| !taken.contains(c)).unwrap_or(base);
    taken.insert(name.clone());
    name
}

fn create_dir(path: &Path) -> Result<(), ReportError> {
    fs::create_dir_all(path).map_err(|source| ReportError::CreateDir {
        path: path.to_path_buf(),
        source,
    })
}

fn write(path: &Path, contents: &str) -> Result<(), ReportError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, contents)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|source| ReportError::Write {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample_suite;
    use crate::model::RunReport;

    #[test]
    fn writes_every_file_and_one_json_per_run() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let suite = sample_suite();
        let files = write_all(&suite, &out).unwrap();
        assert_eq!(
            files.run_json,
            [
                out.join("runs/steady-state-7/report.json"),
                out.join("runs/broker-restart-42/report.json")
            ]
        );
        let back: SuiteReport =
            serde_json::from_str(&fs::read_to_string(&files.report_json).unwrap()).unwrap();
        assert_eq!(back, suite);
        let run: RunReport =
            serde_json::from_str(&fs::read_to_string(&files.run_json[1]).unwrap()).unwrap();
        assert_eq!(run, suite.runs[1]);
        for path in [&files.junit, &files.html, &files.summary] {
            assert!(
                fs::metadata(path).unwrap().len() > 500,
                "{} is too small",
                path.display()
            );
        }
        let mut names: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "junit.xml",
                "report.html",
                "report.json",
                "runs",
                "summary.md"
            ]
        );
    }

    #[test]
    fn run_directories_are_safe_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(
            run_dir_name("a/../b c", 1, "processes", &mut taken),
            "a_.._b_c-1"
        );
        assert_eq!(run_dir_name("x", 1, "processes", &mut taken), "x-1");
        assert_eq!(
            run_dir_name("x", 1, "containers", &mut taken),
            "x-1-containers"
        );
        assert_eq!(
            run_dir_name("x", 1, "containers", &mut taken),
            "x-1-containers-2"
        );
        assert_eq!(run_dir_name("..", 3, "p", &mut taken), "_..-3");
    }

    #[test]
    fn io_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, "not a directory").unwrap();
        let err = write_all(&sample_suite(), &blocker.join("out")).unwrap_err();
        assert!(matches!(err, ReportError::CreateDir { .. }));
        assert!(
            err.to_string()
                .contains(&blocker.join("out").display().to_string()),
            "{err}"
        );
    }
}
