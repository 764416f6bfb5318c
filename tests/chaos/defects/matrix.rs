//! The detection-power matrix, `tests/chaos/defects.toml`: its parser, and the checks that keep its
//! other readers in step with it (the README's "Detection power" table and `ci/defects.sh`, which
//! `ci/nightly.sh` reads it through). None of these needs Kafka or Postgres.

use std::collections::HashSet;

use serde::Deserialize;

/// Where the matrix lives, relative to the repository.
pub const FILE: &str = "tests/chaos/defects.toml";

/// One planted defect and what must catch it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// A name from `faultline_pipeline::defects::Defect::NAMES`.
    pub name: String,
    /// Smoke scenarios (files in scenarios/smoke/, without `.toml`) that must each catch it.
    pub scenarios: Vec<String>,
    /// Anomaly classes that count as the right problem: a failing check must report one of them.
    pub classes: Vec<String>,
    /// What the ledger manifest's declarations (`[expect]`: the `expectations` check and the
    /// declared `dead_letters` check) must report for it, one of these; empty when only the code
    /// behind the builtin oracle can see it (offsets).
    #[serde(default)]
    pub declared: Vec<String>,
    pub gate: Gate,
}

/// Who fails when the defect is not caught.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    /// CI (tests/chaos/defects.rs) and the nightly run.
    Ci,
    /// The nightly run only.
    Nightly,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    defect: Vec<Row>,
}

/// Parses the matrix. Refuses a row that could never fail a check (no scenario or no class) and a
/// defect listed twice, so that every row means something.
pub fn parse(text: &str) -> Result<Vec<Row>, String> {
    let rows = toml::from_str::<File>(text)
        .map_err(|e| format!("{FILE}: {e}"))?
        .defect;
    let mut seen = HashSet::new();
    for r in &rows {
        if !seen.insert(r.name.as_str()) {
            return Err(format!("{FILE}: defect `{}` is listed twice", r.name));
        }
        if r.scenarios.is_empty() || r.classes.is_empty() {
            return Err(format!(
                "{FILE}: defect `{}` needs at least one scenario and one anomaly class",
                r.name
            ));
        }
    }
    Ok(rows)
}

/// The repository's matrix.
pub fn load() -> Vec<Row> {
    let path = crate::repo().join(FILE);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse(&text).unwrap_or_else(|e| panic!("{e}"))
}

/// The matrix row of `defect`.
pub fn row(defect: &str) -> Row {
    load()
        .into_iter()
        .find(|r| r.name == defect)
        .unwrap_or_else(|| panic!("{FILE} has no row for `{defect}`"))
}

/// A smoke scenario's file, relative to the repository.
pub fn scenario_path(scenario: &str) -> String {
    format!("scenarios/smoke/{scenario}.toml")
}

/// The names inside backticks in a Markdown table cell, in order, leaving out parenthesised notes
/// (they may quote a field, like `in_transaction = true`).
fn ticked(cell: &str) -> Vec<String> {
    let mut depth = 0usize;
    let bare: String = cell
        .chars()
        .filter(|&c| {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => return depth == 0,
            }
            false
        })
        .collect();
    bare.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The README columns checked against the file; the last one ("seeds that caught it") is a human
/// record of what was observed and is not checked.
const HEADER: [&str; 6] = [
    "defect",
    "caught by",
    "anomaly reported",
    "declarations report",
    "gate",
    "seeds that caught it",
];

/// The checked columns of a README row: defect, scenarios that must catch it, anomalies, the
/// declarations' anomalies, gate.
type Checked = (String, Vec<String>, Vec<String>, Vec<String>, Gate);

/// The rows of the table under `### Detection power`, as (defect, caught by, anomalies, gate) after
/// checking the header. In "caught by", only the scenarios before "also" count: what follows is a
/// note on other scenarios that were seen to catch it.
fn readme_rows(readme: &str) -> Result<Vec<Checked>, String> {
    let section = readme
        .split_once("\n### Detection power\n")
        .ok_or("README.md has no `### Detection power` section")?
        .1;
    let mut lines = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'));
    let cells = |l: &str| -> Vec<String> {
        l.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    };
    let header = cells(lines.next().ok_or("the Detection power table is missing")?);
    if header != HEADER {
        return Err(format!(
            "Detection power table header is {header:?}, expected {HEADER:?}"
        ));
    }
    lines
        .skip(1) // the |---| line
        .map(|l| {
            let c = cells(l);
            let [defect, caught, anomalies, declared, gate, _seeds] = &c[..] else {
                return Err(format!("Detection power row with other columns: {l}"));
            };
            let gate = match gate.as_str() {
                "CI" => Gate::Ci,
                "nightly only" => Gate::Nightly,
                other => {
                    return Err(format!(
                        "gate `{other}` in `{l}`: expected CI or nightly only"
                    ))
                }
            };
            let [name] = &ticked(defect)[..] else {
                return Err(format!("defect cell `{defect}` must hold one `name`"));
            };
            let gated = caught.split(" also ").next().unwrap_or_default();
            Ok((
                name.clone(),
                ticked(gated),
                ticked(anomalies),
                ticked(declared),
                gate,
            ))
        })
        .collect()
}

#[test]
fn the_repository_matrix_parses_and_names_existing_smoke_scenarios() {
    let rows = load();
    assert!(!rows.is_empty(), "{FILE} lists no defect");
    for r in &rows {
        for s in &r.scenarios {
            let path = crate::repo().join(scenario_path(s));
            faultline_scenario::load::load(&path)
                .unwrap_or_else(|e| panic!("{}: scenario `{s}`: {e}", r.name));
        }
    }
}

#[test]
fn every_planted_defect_has_a_scenario_that_catches_it() {
    let mut listed: Vec<String> = load().into_iter().map(|r| r.name).collect();
    let mut planted = faultline_pipeline::defects::Defect::NAMES.to_vec();
    listed.sort_unstable();
    planted.sort_unstable();
    assert_eq!(
        listed, planted,
        "{FILE} against the compiled planted defects"
    );
}

#[test]
fn the_readme_table_agrees_with_the_matrix_file() {
    let readme = std::fs::read_to_string(crate::repo().join("README.md")).unwrap();
    let table = readme_rows(&readme).unwrap_or_else(|e| panic!("{e}"));
    let file: Vec<_> = load()
        .into_iter()
        .map(|r| (r.name, r.scenarios, r.classes, r.declared, r.gate))
        .collect();
    assert_eq!(
        table, file,
        "README.md's Detection power table (defect, scenarios before \"also\", anomalies, \
         declarations' anomalies, gate) differs from {FILE}, row for row"
    );
}

/// What `ci/defects.sh` prints for the matrix file `file` (the repository's when `None`).
fn defects_sh(file: Option<&std::path::Path>) -> String {
    let out = std::process::Command::new("bash")
        .arg(crate::repo().join("ci/defects.sh"))
        .args(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ci/defects.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn ci_defects_sh_lists_what_the_parser_reads() {
    let expected: String = load()
        .iter()
        .flat_map(|r| {
            let gate = match r.gate {
                Gate::Ci => "ci",
                Gate::Nightly => "nightly",
            };
            r.scenarios
                .iter()
                .map(move |s| format!("{} {s} {gate}\n", r.name))
        })
        .collect();
    assert_eq!(defects_sh(None), expected);
}

#[test]
fn ci_defects_sh_reads_several_scenarios_per_row_and_several_rows() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.toml");
    std::fs::write(
        &file,
        "# note\n[[defect]]\nname = \"a\"\nscenarios = [\"s1\", \"s2\"]\nclasses = [\"lost\"]\n\
         gate = \"nightly\"\n\n[[defect]]\nname = \"b\"\nscenarios = [\"s3\"]\nclasses = [\"x\"]\ngate = \"ci\"\n",
    )
    .unwrap();
    assert_eq!(
        defects_sh(Some(&file)),
        "a s1 nightly\na s2 nightly\nb s3 ci\n"
    );
}

const ONE: &str = "[[defect]]\nname = \"drop-malformed\"\nscenarios = [\"smoke-1-records\", \"smoke-5-network\"]\nclasses = [\"missing_from_quarantine\"]\ndeclared = [\"missing_dead_letter\"]\ngate = \"nightly\"\n";

#[test]
fn parse_reads_every_field() {
    assert_eq!(
        parse(ONE).unwrap(),
        vec![Row {
            name: "drop-malformed".into(),
            scenarios: vec!["smoke-1-records".into(), "smoke-5-network".into()],
            classes: vec!["missing_from_quarantine".into()],
            declared: vec!["missing_dead_letter".into()],
            gate: Gate::Nightly,
        }]
    );
}

#[test]
fn parse_refuses_an_unknown_gate_or_field() {
    let e = parse(&ONE.replace("\"nightly\"", "\"weekly\"")).unwrap_err();
    assert!(e.contains("weekly") && e.contains("line 6"), "{e}");
    let e = parse(&format!("{ONE}seeds = 3\n")).unwrap_err();
    assert!(e.contains("unknown field `seeds`"), "{e}");
}

#[test]
fn parse_refuses_a_row_that_cannot_fail_or_a_defect_listed_twice() {
    let e = parse(&ONE.replace("[\"missing_from_quarantine\"]", "[]")).unwrap_err();
    assert!(
        e.contains("at least one scenario and one anomaly class"),
        "{e}"
    );
    let e = parse(&ONE.replace("[\"smoke-1-records\", \"smoke-5-network\"]", "[]")).unwrap_err();
    assert!(
        e.contains("at least one scenario and one anomaly class"),
        "{e}"
    );
    let e = parse(&format!("{ONE}{ONE}")).unwrap_err();
    assert!(e.contains("`drop-malformed` is listed twice"), "{e}");
}

#[test]
fn the_readme_reader_takes_scenarios_before_also_and_checks_the_header() {
    let table = "intro\n\n| defect | caught by | anomaly reported | declarations report | gate | seeds that caught it |\n|---|---|---|---|---|---|\n\
                 | `a` | `s1` (why: `f = true`), `s2`; also `s9` | `lost`, `offset_gap` | `lost` | CI | 3 of 3 |\n\
                 | `b` | `s3` | `x` | (code) | nightly only | 1 of 3 |\n\nafter\n";
    let rows = readme_rows(&format!("# r\n### Detection power\n{table}")).unwrap();
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        rows,
        vec![
            (
                "a".into(),
                v(&["s1", "s2"]),
                v(&["lost", "offset_gap"]),
                v(&["lost"]),
                Gate::Ci
            ),
            ("b".into(), v(&["s3"]), v(&["x"]), v(&[]), Gate::Nightly),
        ]
    );
    let e = readme_rows(&format!(
        "### x\n### Detection power\n{}",
        table.replace("| gate ", "| CI? ")
    ))
    .unwrap_err();
    assert!(e.contains("header"), "{e}");
    assert!(readme_rows("no section").is_err());
}
