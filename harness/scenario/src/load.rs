//! Reading scenario files. Every error names the file, and the line and field when they can be found,
//! with the allowed values: `scenario kill.toml line 12: field `faults[0].kind`: unknown fault kind ...`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::ScenarioError;
use crate::scenario::Scenario;
use crate::schedule::plan;

/// Parses and validates a scenario. `file` names it in errors and gives the default name.
pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let mut s: Scenario = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|sp| line_of(text, sp.start));
        // toml's message carries the field and the expected values; drop its own snippet.
        let message = e.message().trim().to_string();
        ScenarioError {
            file: file.into(),
            line,
            field: String::new(),
            message,
        }
    })?;
    if s.name.is_empty() {
        s.name = Path::new(file)
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    validate(&s).map_err(|(field, message)| ScenarioError {
        file: file.into(),
        line: locate(text, &field),
        field,
        message,
    })?;
    Ok(s)
}

/// Reads and parses one file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.display().to_string(),
        line: None,
        field: String::new(),
        message: format!("cannot read it: {e}"),
    })?;
    parse(&text, &path.display().to_string())
}

/// A file, or every `*.toml` in a directory (sorted by name; names starting with `prefix` only,
/// when given). A directory with no scenario is an error.
pub fn load_target(
    path: &Path,
    prefix: Option<&str>,
) -> Result<Vec<(PathBuf, Scenario)>, ScenarioError> {
    if !path.is_dir() {
        return Ok(vec![(path.to_path_buf(), load(path)?)]);
    }
    let dir_err = |message: String| ScenarioError {
        file: path.display().to_string(),
        line: None,
        field: String::new(),
        message,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| dir_err(format!("cannot list the directory: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter(|p| {
            prefix.is_none_or(|pre| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(pre))
            })
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(dir_err("holds no scenario (*.toml) files".into()));
    }
    files
        .into_iter()
        .map(|p| load(&p).map(|s| (p, s)))
        .collect()
}

/// Checks values that the types alone cannot: ranges, and that the fault schedule can be built.
fn validate(s: &Scenario) -> Result<(), (String, String)> {
    let bad = |f: &str, m: String| Err((f.to_string(), m));
    if !(1..=86_400).contains(&s.time_limit_s) {
        return bad(
            "time_limit_s",
            format!("{} is over a day; expected 1..=86400", s.time_limit_s),
        );
    }
    if s.infra.brokers != 1 && s.infra.brokers != 3 {
        return bad(
            "infra.brokers",
            format!("{} is not allowed; expected 1 or 3", s.infra.brokers),
        );
    }
    if !(1..=64).contains(&s.infra.partitions) {
        return bad(
            "infra.partitions",
            format!("{} is outside 1..=64", s.infra.partitions),
        );
    }
    if !(1..=16).contains(&s.pipeline.workers) {
        return bad(
            "pipeline.workers",
            format!("{} is outside 1..=16", s.pipeline.workers),
        );
    }
    if s.compare.is_some() {
        let missing: Vec<&str> = [
            ("pipeline.champion", &s.pipeline.champion),
            ("pipeline.challenger", &s.pipeline.challenger),
        ]
        .into_iter()
        .filter(|(_, v)| v.as_deref().is_none_or(str::is_empty))
        .map(|(name, _)| name)
        .collect();
        if !missing.is_empty() {
            return bad(
                "compare",
                format!("needs model files in {} (the comparison reads their versions and thresholds); e.g. champion = \"../golden/models/champion.json\"", missing.join(" and ")),
            );
        }
    }
    if let Some(k) = s
        .pipeline
        .env
        .keys()
        .find(|k| k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        return bad(
            "pipeline.env",
            format!("`{k}` is not an environment variable name (letters, digits, _)"),
        );
    }
    if s.workload.partitions != faultline_workload::WorkloadSpec::default().partitions
        && s.workload.partitions != s.infra.partitions
    {
        return bad(
            "workload.partitions",
            "is taken from infra.partitions; remove it".into(),
        );
    }
    let mut w = s.workload.clone();
    w.partitions = s.infra.partitions;
    w.validate().map_err(|e| {
        (
            format!("workload.{}", e.field),
            format!("{} is not allowed; expected {}", e.value, e.allowed),
        )
    })?;
    plan(s, w.seed).map_err(|e| (e.field, e.message))?;
    for f in s
        .faults
        .iter()
        .chain(s.random.iter().flat_map(|r| &r.faults))
    {
        let action = f.action().map_err(|(f, m)| (f.to_string(), m))?;
        if matches!(action, crate::FaultAction::KillBroker { broker: crate::BrokerSel::Id(n) }
            | crate::FaultAction::StopBroker { broker: crate::BrokerSel::Id(n) }
            | crate::FaultAction::PauseBroker { broker: crate::BrokerSel::Id(n) } if n > s.infra.brokers)
        {
            return bad(
                "faults",
                format!(
                    "a `{}` names a broker above infra.brokers = {}",
                    f.kind, s.infra.brokers
                ),
            );
        }
    }
    Ok(())
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// The line of a dotted field path like `infra.brokers`, `faults[2].kind` or
/// `random.faults[0].weight`, by walking table headers; falls back to the table's header line.
pub fn locate(text: &str, field: &str) -> Option<usize> {
    let (table, key) = match field.rsplit_once('.') {
        Some((t, k)) => (t.to_string(), k),
        None => (String::new(), field),
    };
    let mut current = String::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut header_line = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
            let name = name.trim().to_string();
            let n = counts.entry(name.clone()).or_insert(0);
            current = format!("{name}[{n}]");
            *n += 1;
        } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            current = name.trim().to_string();
        } else if current == table {
            let k = line.split('=').next().unwrap_or("").trim();
            if k == key {
                return Some(i + 1);
            }
            continue;
        } else {
            continue;
        }
        if current == table {
            header_line = Some(i + 1);
        }
        // A whole table named at the top level, e.g. `compare`: its header.
        if table.is_empty() && current == key {
            return Some(i + 1);
        }
    }
    // A top-level key, or a table header (e.g. `faults[1]` itself).
    if table.is_empty() {
        return header_line;
    }
    header_line.or_else(|| locate(text, &table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_default_scenario_named_after_the_file() {
        let s = parse("", "scenarios/baseline.toml").unwrap();
        assert_eq!(s.name, "baseline");
        assert_eq!(s.pipeline.workers, 2);
        assert_eq!(s.infra.partitions, 4);
    }

    #[test]
    fn a_typo_in_a_field_names_file_line_and_the_allowed_fields() {
        let text = "[infra]\nbrokers = 1\nparititons = 4\n";
        let e = parse(text, "s.toml").unwrap_err();
        assert_eq!(e.line, Some(3));
        let shown = e.to_string();
        assert!(
            shown
                .starts_with("scenario s.toml line 3: unknown field `parititons`, expected one of"),
            "{shown}"
        );
        assert!(shown.contains("`partitions`"), "{shown}");
    }

    #[test]
    fn a_bad_value_names_file_line_and_field() {
        let text = "description = \"x\"\n\n[infra]\npartitions = 4\nbrokers = 2\n";
        let e = parse(text, "s.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "scenario s.toml line 5: field `infra.brokers`: 2 is not allowed; expected 1 or 3"
        );
    }

    #[test]
    fn a_bad_fault_kind_points_at_its_line_among_several_faults() {
        let text = "[[faults]]\nkind = \"kill_worker\"\nat_ms = 1\n\n[[faults]]\nkind = \"kil\"\nat_ms = 2\n";
        let e = parse(text, "kill.toml").unwrap_err();
        assert_eq!(e.field, "faults[1].kind");
        assert_eq!(e.line, Some(6));
        assert!(
            e.message.contains("expected one of kill_worker"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_workload_range_error_names_the_workload_field() {
        let e = parse("[workload]\nevents = 1\nduplicate_ratio = 1.5\n", "w.toml").unwrap_err();
        assert_eq!(e.field, "workload.duplicate_ratio");
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn a_wrong_type_names_the_line() {
        let e = parse("[pipeline]\nworkers = \"two\"\n", "p.toml").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("invalid type"), "{}", e.message);
    }

    const COMPARE: &str = "description = \"x\"\n\n[pipeline]\nchampion = \"../golden/models/champion.json\"\nchallenger = \"../golden/models/challenger.onnx\"\n\n[compare]\npolicy = \"../golden/models/policy.toml\"\nseed = 9\n";

    #[test]
    fn a_compare_block_parses_with_defaults_and_resolves_paths_from_the_file() {
        let mut s = parse(COMPARE, "scenarios/c.toml").unwrap();
        let c = s.compare.clone().unwrap();
        assert_eq!(
            (c.policy.as_deref(), c.seed, c.baseline),
            (Some("../golden/models/policy.toml"), Some(9), true)
        );
        s.resolve_paths(Path::new("/repo/scenarios"));
        assert_eq!(
            s.pipeline.champion.as_deref(),
            Some("/repo/scenarios/../golden/models/champion.json")
        );
        assert_eq!(
            s.compare.as_ref().unwrap().policy.as_deref(),
            Some("/repo/scenarios/../golden/models/policy.toml")
        );
        let mut absolute = parse(
            &COMPARE.replace("../golden/models/champion.json", "/m/champion.json"),
            "c.toml",
        )
        .unwrap();
        absolute.resolve_paths(Path::new("/elsewhere"));
        assert_eq!(
            absolute.pipeline.champion.as_deref(),
            Some("/m/champion.json")
        );
    }

    #[test]
    fn a_typo_in_the_compare_block_names_its_line_and_the_fields() {
        let e = parse(
            &COMPARE.replace("seed = 9", "baseline = true\nbasline = false"),
            "c.toml",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(10));
        assert!(
            e.message.contains("unknown field `basline`") && e.message.contains("`baseline`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn compare_without_model_files_points_at_the_block() {
        let e = parse(
            "description = \"x\"\n\n[compare]\nbaseline = false\n",
            "c.toml",
        )
        .unwrap_err();
        assert_eq!((e.field.as_str(), e.line), ("compare", Some(3)));
        assert!(
            e.message
                .contains("pipeline.champion and pipeline.challenger"),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_fault_free_baseline_drops_every_fault_and_keeps_the_rest() {
        let text = format!("{COMPARE}\n[[faults]]\nkind = \"kill_worker\"\nat_ms = 1\n\n[random]\ncount = 2\n\n[[random.faults]]\nkind = \"pause_worker\"\n");
        let s = parse(&text, "c.toml").unwrap();
        let clean = s.fault_free_baseline().unwrap();
        assert!(clean.faults.is_empty() && clean.random.is_none());
        assert_eq!(clean.compare.as_ref().map(|c| c.baseline), Some(false));
        assert_eq!(
            (clean.workload.clone(), clean.pipeline.clone()),
            (s.workload.clone(), s.pipeline.clone())
        );
        assert!(plan(&clean, 5).unwrap().is_empty());
        assert!(
            clean.fault_free_baseline().is_none(),
            "a baseline has no baseline of its own"
        );
        assert!(parse("", "e.toml").unwrap().fault_free_baseline().is_none());
    }

    #[test]
    fn shipped_scenarios_all_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let all = load_target(&dir, None).unwrap();
        assert!(all.len() >= 12, "only {} scenarios", all.len());
        for (path, s) in &all {
            assert!(
                !s.description.is_empty(),
                "{} has no description",
                path.display()
            );
            plan(s, s.workload.seed).unwrap();
        }
        let smoke = load_target(&dir.join("smoke"), Some("smoke")).unwrap();
        assert!(smoke.len() >= 5, "only {} smoke scenarios", smoke.len());
        for (path, s) in &smoke {
            assert!(
                s.time_limit_s <= 150,
                "{} may take too long for the smoke suite",
                path.display()
            );
        }
    }
}
