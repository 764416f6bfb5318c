//! Reading scenario files. Every error names the file, and the line and field when they can be found,
//! with the allowed values: `scenario kill.toml line 12: field `faults[0].kind`: unknown fault kind ...`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::ScenarioError;
use crate::fault::{BrokerSel, FaultAction, FaultEntry, WorkerSel};
use crate::name::safe_name;
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
        // Refused rather than rewritten: a silently changed name would not match the file in
        // reports and bundles. There is no line to point at; the file name is the problem.
        safe_name(&s.name).map_err(|m| ScenarioError {
            file: file.into(),
            line: None,
            field: "name".into(),
            message: format!(
                "no `name` is set, so it comes from the file name: {m}; rename the file or set `name`"
            ),
        })?;
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
    target_files(path, prefix)?
        .into_iter()
        .map(|p| load(&p).map(|s| (p, s)))
        .collect()
}

/// The scenario files [`load_target`] would load, in name order, without reading them: `path`
/// itself when it is not a directory, else its `*.toml` files (starting with `prefix`, if given).
/// For callers that report every bad file rather than the first (`faultline check`).
pub fn target_files(path: &Path, prefix: Option<&str>) -> Result<Vec<PathBuf>, ScenarioError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
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
    Ok(files)
}

/// Checks values that the types alone cannot: ranges, a safe name, that the fault schedule can be
/// built, and that every fault can happen (see [`feasible`]).
fn validate(s: &Scenario) -> Result<(), (String, String)> {
    let bad = |f: &str, m: String| Err((f.to_string(), m));
    safe_name(&s.name).map_err(|m| ("name".to_string(), m))?;
    if s.time_limit_s == 0 {
        return bad(
            "time_limit_s",
            "is 0; it must be at least 1 second (expected 1..=86400)".into(),
        );
    }
    if s.time_limit_s > 86_400 {
        return bad(
            "time_limit_s",
            format!("{} is over a day; expected 1..=86400", s.time_limit_s),
        );
    }
    if let Some(stall) = s.stall_limit_s.filter(|&n| n == 0 || n > s.time_limit_s) {
        return bad(
            "stall_limit_s",
            format!(
                "{stall} is outside 1..=time_limit_s ({}); after this many seconds without \
                 progress the wait for the pipeline ends with a failed `caught_up`",
                s.time_limit_s
            ),
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
    if let Some(m) = crate::group_protocol::session_knob_conflict(
        s.pipeline.group_protocol,
        s.pipeline
            .knobs
            .get(&crate::knob::Knob::SessionTimeoutMs)
            .copied(),
    ) {
        return bad("pipeline.knobs.session_timeout_ms", m);
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
            &format!("pipeline.env.{k}"),
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
    feasible(s)
}

/// Refuses faults that can never happen, whatever the seed. Runs after [`plan`] succeeded, so every
/// entry's kind, trigger and duration are known to be valid. The rules:
/// - a broker id above `infra.brokers`;
/// - a worker id above the highest id a run can start: workers are `w1..=wN` for
///   `pipeline.workers = N`, and each `kill_worker` or `restart_worker` (fixed, or each of
///   `random.count` draws when one may draw them) starts one replacement with the next id. With a
///   `scale_workers` anywhere there is no fixed bound, and ids are not checked;
/// - `after_records` above an upper bound of the records sent: `events`, plus
///   `ceil(events * duplicate_ratio) * duplicate_burst` copies, `ceil(events * malformed_ratio)`,
///   `poison_pills` and `oversized`. The exact count needs the generated workload; a trigger
///   between the two is the runner's to report (it logs the fault as skipped);
/// - a time window (`at_ms + duration_ms`, or for `[random]` the latest start `to_ms` plus the
///   longest duration a draw can get) that ends after `time_limit_s`, which also has to cover
///   starting the stack and the checks.
fn feasible(s: &Scenario) -> Result<(), (String, String)> {
    let limit_ms = s.time_limit_s.saturating_mul(1000);
    let max_worker = max_worker_id(s);
    let fixed = s
        .faults
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("faults[{i}]"), f));
    let drawn = s.random.iter().flat_map(|r| {
        r.faults
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("random.faults[{i}]"), f))
    });
    for (at, f) in fixed.chain(drawn) {
        let action = f.action().map_err(|(p, m)| (format!("{at}.{p}"), m))?;
        target_exists(s, &action, max_worker).map_err(|(p, m)| (format!("{at}.{p}"), m))?;
    }
    let max_records = max_records(&s.workload);
    for (i, f) in s.faults.iter().enumerate() {
        if let Some(n) = f.after_records.filter(|&n| n > max_records) {
            return Err((
                format!("faults[{i}].after_records"),
                format!(
                    "{n} can never be reached: the workload sends at most {max_records} records \
                     (events plus every duplicate, malformed, poison-pill and oversized record); \
                     expected at most {max_records}"
                ),
            ));
        }
        if let Some(at) = f.at_ms {
            let end = at.saturating_add(f.duration_ms.unwrap_or(0));
            if end > limit_ms {
                let field = if f.duration_ms.is_some() {
                    "duration_ms"
                } else {
                    "at_ms"
                };
                return Err((
                    format!("faults[{i}].{field}"),
                    format!(
                        "the fault ends at {end} ms (at_ms + duration_ms), after time_limit_s = {} \
                         ({limit_ms} ms); start it earlier, shorten it or raise time_limit_s",
                        s.time_limit_s
                    ),
                ));
            }
        }
    }
    if let Some(r) = s.random.as_ref().filter(|r| r.count > 0) {
        for (i, f) in r.faults.iter().enumerate() {
            let needs = f.action().is_ok_and(|a| a.needs_duration());
            let longest = f
                .duration_ms
                .unwrap_or(if needs { r.duration_ms[1] } else { 0 });
            let end = r.to_ms.saturating_add(longest);
            if end > limit_ms {
                return Err((
                    "random.to_ms".into(),
                    format!(
                        "a drawn `{}` (random.faults[{i}]) can start at {} ms and last {longest} ms, \
                         ending at {end} ms, after time_limit_s = {} ({limit_ms} ms); lower to_ms, \
                         shorten the duration or raise time_limit_s",
                        f.kind, r.to_ms, s.time_limit_s
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Refuses a named broker or worker that no run of `s` has; `max_worker` as from [`max_worker_id`].
fn target_exists(
    s: &Scenario,
    action: &FaultAction,
    max_worker: Option<u64>,
) -> Result<(), (&'static str, String)> {
    use FaultAction::*;
    match action {
        KillBroker {
            broker: BrokerSel::Id(n),
        }
        | StopBroker {
            broker: BrokerSel::Id(n),
        }
        | PauseBroker {
            broker: BrokerSel::Id(n),
        } if *n > s.infra.brokers => Err((
            "broker",
            format!(
                "{n} is above infra.brokers = {}; expected `any` or 1..={}",
                s.infra.brokers, s.infra.brokers
            ),
        )),
        KillWorker {
            worker: WorkerSel::Id(id),
            ..
        }
        | PauseWorker {
            worker: WorkerSel::Id(id),
            ..
        }
        | RestartWorker {
            worker: WorkerSel::Id(id),
        } => {
            // `FaultEntry::action` accepted the id, so it is `w` and a number >= 1.
            let n: u64 = id[1..].parse().unwrap_or(u64::MAX);
            match max_worker {
                Some(max) if n > max => Err((
                    "worker",
                    format!(
                        "`{id}` never runs: pipeline.workers = {} starts w1..w{}{}; expected `any` or w1..w{max}",
                        s.pipeline.workers,
                        s.pipeline.workers,
                        if max > u64::from(s.pipeline.workers) {
                            format!(" and replacements of killed or restarted workers up to w{max}")
                        } else {
                            String::new()
                        }
                    ),
                )),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// The highest worker id a run of `s` can start, or `None` when `scale_workers` makes it unbounded.
fn max_worker_id(s: &Scenario) -> Option<u64> {
    let replaces = |f: &FaultEntry| {
        matches!(
            f.action(),
            Ok(FaultAction::KillWorker { .. } | FaultAction::RestartWorker { .. })
        )
    };
    let all = || {
        s.faults
            .iter()
            .chain(s.random.iter().flat_map(|r| &r.faults))
    };
    if all().any(|f| matches!(f.action(), Ok(FaultAction::ScaleWorkers { .. }))) {
        return None;
    }
    let fixed = s.faults.iter().filter(|f| replaces(f)).count() as u64;
    let drawn = s
        .random
        .as_ref()
        .filter(|r| r.faults.iter().any(replaces))
        .map_or(0, |r| u64::from(r.count));
    Some(u64::from(s.pipeline.workers) + fixed + drawn)
}

/// An upper bound of the records a workload sends (see [`feasible`]). `ceil` is at least the
/// generator's `round`, so the bound holds without copying its arithmetic.
fn max_records(w: &faultline_workload::WorkloadSpec) -> u64 {
    let share = |ratio: f64| (w.events as f64 * ratio).ceil() as u64;
    w.events
        .saturating_add(share(w.duplicate_ratio).saturating_mul(u64::from(w.duplicate_burst)))
        .saturating_add(share(w.malformed_ratio))
        .saturating_add(w.poison_pills)
        .saturating_add(w.oversized)
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// The line of a dotted field path like `infra.brokers`, `faults[2].kind` or
/// `random.faults[0].weight`, by walking table headers. When the key is not written it falls back
/// to its table: the table's header, else the first header of a table inside it (`[pipeline.env]`
/// for `pipeline`, `[[random.faults]]` for `random`), else the table's own place in its parent;
/// an array entry written inline (`faults = [{ ... }]`) falls back to the array's key.
pub fn locate(text: &str, field: &str) -> Option<usize> {
    let (table, key) = match field.rsplit_once('.') {
        Some((t, k)) => (t, k),
        None => ("", field),
    };
    let inside = |name: &str| {
        name.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(['.', '[']))
    };
    let mut current = String::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut header_line = None;
    let mut nested_line = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let header = if let Some(name) = line.strip_prefix("[[").and_then(|l| l.split("]]").next())
        {
            let name = name.trim().to_string();
            let n = counts.entry(name.clone()).or_insert(0);
            *n += 1;
            Some(format!("{name}[{}]", *n - 1))
        } else {
            line.strip_prefix('[')
                .and_then(|l| l.split(']').next())
                .map(|name| name.trim().to_string())
        };
        match header {
            Some(name) => {
                // The field is a whole table, e.g. `compare` or `faults[1]`: its header.
                if name == field {
                    return Some(i + 1);
                }
                if name == table {
                    header_line.get_or_insert(i + 1);
                }
                if inside(&name) {
                    nested_line.get_or_insert(i + 1);
                }
                current = name;
            }
            None if current == table && line.split('=').next().unwrap_or("").trim() == key => {
                return Some(i + 1);
            }
            None => {}
        }
    }
    header_line
        .or(nested_line)
        .or_else(|| (!table.is_empty()).then(|| locate(text, table)).flatten())
        .or_else(|| {
            let array = field.strip_suffix(']')?.rsplit_once('[')?.0;
            locate(text, array)
        })
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod validate_tests;

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
