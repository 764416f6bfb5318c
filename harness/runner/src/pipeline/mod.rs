//! The pipeline under test, as its manifest describes it (harness/manifest): the reference ledger's
//! built-in manifest or the user's `--pipeline` file. Everything the runner knows about a pipeline
//! comes from here; no other module names a pipeline's variables or tables.
//!
//! - `env`   the values of the placeholders for a run and for each worker; the rendered environment.
//! - `setup` the run's schema, the manifest's setup SQL and command, before the first worker.
//! - `ready` waiting for a started worker's readiness probe.

pub mod env;
pub mod ready;
pub mod setup;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultline_manifest::{load, Manifest};
use faultline_scenario::{FaultAction, Knob, PlannedFault, Scenario};

use crate::error::{Result, RunnerError};

/// The reference pipeline's manifest, built into the binary (the same file as in the repository).
const LEDGER_MANIFEST: &str = include_str!("../../../pipeline/faultline.toml");
/// How reports and errors name the built-in manifest.
pub const LEDGER_MANIFEST_PATH: &str = "harness/pipeline/faultline.toml";

/// A loaded manifest and where its program is.
#[derive(Debug)]
pub struct Pipeline {
    pub manifest: Manifest,
    /// The reference ledger's manifest built into the binary.
    pub builtin: bool,
    /// The resolved program of `command`.
    pub program: PathBuf,
}

impl Pipeline {
    /// The manifest at `path`, or the reference ledger's when `None`. The program must be found.
    pub fn load(path: Option<&Path>) -> Result<Arc<Pipeline>> {
        let manifest = match path {
            Some(p) => load::load(p)?,
            None => Self::ledger_manifest(),
        };
        let program = load::find_program(&manifest, &binary_dirs())?;
        Ok(Arc::new(Pipeline {
            manifest,
            builtin: path.is_none(),
            program,
        }))
    }

    /// The reference ledger's built-in manifest (it is tested to parse).
    pub fn ledger_manifest() -> Manifest {
        load::parse_in(
            LEDGER_MANIFEST,
            Path::new(LEDGER_MANIFEST_PATH),
            Path::new("."),
        )
        .expect("the built-in ledger manifest parses")
    }

    /// The same pipeline started with `argv` instead (a scenario's `pipeline.command`).
    pub fn with_command(&self, argv: &[String]) -> Result<Pipeline> {
        let mut manifest = self.manifest.clone();
        manifest.command = argv
            .iter()
            .map(|a| faultline_manifest::Template {
                segments: vec![faultline_manifest::placeholder::Segment::Text(a.clone())],
            })
            .collect();
        let program = load::find_program(&manifest, &binary_dirs()).map_err(|e| {
            RunnerError::Usage(format!("the scenario's pipeline.command: {}", e.message))
        })?;
        Ok(Pipeline {
            manifest,
            builtin: self.builtin,
            program,
        })
    }

    /// The manifest file given with `--pipeline`; `None` for the built-in ledger manifest.
    pub fn given_file(&self) -> Option<PathBuf> {
        (!self.builtin).then(|| self.manifest.file.clone())
    }

    /// Refuses a defect the pipeline does not declare, listing those it does.
    pub fn check_defect(&self, name: &str) -> Result<()> {
        let m = &self.manifest;
        match &m.defects {
            Some(d) if d.names.iter().any(|n| n == name) => Ok(()),
            Some(d) if self.builtin => Err(RunnerError::Usage(format!(
                "--defect `{name}` is not a planted defect of the reference pipeline; known: {}",
                d.names.join(", ")
            ))),
            Some(d) => Err(RunnerError::Usage(format!(
                "--defect `{name}` is not a variant of pipeline `{}` ({}); known: {}",
                m.name,
                m.file.display(),
                d.names.join(", ")
            ))),
            None => Err(RunnerError::Usage(format!(
                "--defect `{name}`: pipeline `{}` ({}) declares no [defects]; add `variable` and \
                 `names` to its manifest",
                m.name,
                m.file.display()
            ))),
        }
    }

    /// Warnings for a scenario's knobs that this pipeline does not map, naming the faults of the
    /// plan that may not bite without them.
    pub fn knob_warnings(&self, s: &Scenario, plan: &[PlannedFault]) -> Vec<String> {
        let mut out = Vec::new();
        for knob in s.pipeline.knobs.keys() {
            if self.manifest.knobs.contains_key(knob) {
                continue;
            }
            let affected: Vec<&str> = plan
                .iter()
                .filter(|p| knob_matters(*knob, &p.action))
                .map(|p| p.id.as_str())
                .collect();
            let why = if affected.is_empty() {
                String::new()
            } else {
                format!(
                    "; these faults may not bite: {} ({})",
                    affected.join(", "),
                    knob_effect(*knob)
                )
            };
            out.push(format!(
                "the scenario sets knob `{knob}` and pipeline `{}` maps no variable to it in \
                 [knobs]{why}",
                self.manifest.name
            ));
        }
        out
    }
}

/// Whether a fault of `kind` relies on `knob` to have its effect.
fn knob_matters(knob: Knob, action: &FaultAction) -> bool {
    match knob {
        Knob::SessionTimeoutMs => matches!(action, FaultAction::PauseWorker { .. }),
        Knob::BatchMaxRecords | Knob::BatchLingerMs => matches!(
            action,
            FaultAction::KillWorker { .. }
                | FaultAction::PauseWorker { .. }
                | FaultAction::RestartWorker { .. }
        ),
    }
}

fn knob_effect(knob: Knob) -> &'static str {
    match knob {
        Knob::SessionTimeoutMs => {
            "a pause shorter than the pipeline's own session timeout makes no zombie"
        }
        Knob::BatchMaxRecords | Knob::BatchLingerMs => {
            "with the pipeline's own batch size a kill may not land inside a batch"
        }
    }
}

/// Where a bare program name is looked up before `PATH`: the running executable's directory and
/// its parent (test binaries live in `target/*/deps`).
pub fn binary_dirs() -> Vec<PathBuf> {
    let Ok(exe) = std::env::current_exe() else {
        return Vec::new();
    };
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let parent = dir.parent().map(Path::to_path_buf);
    std::iter::once(dir).chain(parent).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_manifest::{Placeholder, Scope};

    fn contract() -> String {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/PIPELINE-CONTRACT.md");
        std::fs::read_to_string(p).unwrap()
    }

    /// The rows of the markdown table whose first cell starts with `` `{ `` or is a knob name.
    fn table_rows(doc: &str, first: impl Fn(&str) -> bool) -> Vec<Vec<String>> {
        doc.lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| {
                let mut cells: Vec<String> = l
                    .trim_matches('|')
                    .split(" | ")
                    .map(|c| c.trim().to_string())
                    .collect();
                cells[0] = cells[0].trim_matches('`').to_string();
                cells
            })
            .filter(|cells| first(&cells[0]))
            .collect()
    }

    #[test]
    fn the_contract_documents_every_placeholder_and_knob_as_the_code_has_them() {
        let doc = contract();
        let rows = table_rows(&doc, |c| c.starts_with('{'));
        let documented: Vec<(String, String, String)> = rows
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
            .collect();
        let code: Vec<(String, String, String)> = Placeholder::ALL
            .iter()
            .map(|p| {
                let scope = match p.scope() {
                    Scope::Run => "run",
                    Scope::Worker => "worker",
                    Scope::Optional => "optional",
                };
                (p.to_string(), scope.to_string(), p.doc().to_string())
            })
            .collect();
        assert_eq!(documented, code);
        let knobs: Vec<(String, String)> = table_rows(&doc, |c| Knob::from_name(c).is_some())
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
        let code: Vec<(String, String)> = Knob::ALL
            .iter()
            .map(|k| (k.name().to_string(), k.doc().to_string()))
            .collect();
        assert_eq!(knobs, code);
    }

    #[test]
    fn the_contract_names_every_variable_the_ledger_manifest_sets() {
        let doc = contract();
        let section = &doc[doc.find("## The reference ledger pipeline").unwrap()..];
        let m = load::parse_in(
            LEDGER_MANIFEST,
            Path::new(LEDGER_MANIFEST_PATH),
            Path::new("."),
        )
        .unwrap();
        let vars = m
            .env
            .keys()
            .chain(m.knobs.values())
            .chain(m.defects.iter().map(|d| &d.variable));
        for v in vars {
            assert!(section.contains(&format!("`{v}`")), "{v} is not documented");
        }
    }

    #[test]
    fn the_ledger_manifest_declares_every_planted_defect() {
        let m = load::parse_in(
            LEDGER_MANIFEST,
            Path::new(LEDGER_MANIFEST_PATH),
            Path::new("."),
        )
        .unwrap();
        let names = m.defects.expect("[defects]").names;
        assert_eq!(names, faultline_pipeline::defects::Defect::NAMES.to_vec());
        assert_eq!(m.name, "ledger");
        assert_eq!(m.knobs.len(), Knob::ALL.len(), "every knob is mapped");
    }
}
