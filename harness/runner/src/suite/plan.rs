//! What a suite will run: the scenarios of the target, sharded, times the seeds; each made ready
//! (workload generated, faults planned, backend and model files checked) before any stack starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use faultline_infra::BackendKind;
use faultline_manifest::Input;
use faultline_scenario::group_protocol::session_knob_conflict;
use faultline_scenario::{GroupProtocol, Knob, PlannedFault, Scenario, Trigger};
use faultline_workload::Workload;

use crate::comparison::CompareSetup;
use crate::error::{Result, RunnerError};
use crate::pipeline::Pipeline;
use crate::run::check_backend_supports;

/// What `faultline run` was asked.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// A scenario file or a directory of them.
    pub target: PathBuf,
    /// In a directory, only files whose names start with this (e.g. `smoke`).
    pub prefix: Option<String>,
    /// Overrides every scenario's `workload.seed`.
    pub seed: Option<u64>,
    /// Runs each scenario with this many consecutive seeds from its seed. Default 1.
    pub seeds: u32,
    /// Runs each scenario and seed this many times (`--repeat`), for its reproduction rate.
    /// Default 1.
    pub repeat: u32,
    /// Make the `golden` check where the manifest names a `golden_dir`. `shrink` and `hunt` turn it
    /// off: their scenarios and seeds have no accepted snapshot, and they write no pending one.
    pub golden: bool,
    /// Print each run's lines (`[i/N] …` as it starts, `PASS`/`FAIL …` as it ends). `shrink` and
    /// `hunt` print a line per step or seed instead.
    pub outcome_lines: bool,
    /// Overrides every scenario's `infra.backend`.
    pub backend: Option<BackendKind>,
    /// Overrides every scenario's `pipeline.defect`.
    pub defect: Option<String>,
    /// Overrides every scenario's `pipeline.group_protocol` (`--group-protocol`).
    pub group_protocol: Option<GroupProtocol>,
    /// Where reports and bundles go.
    pub out: PathBuf,
    /// `(i, n)`: run only scenarios whose index (in name order) is `i - 1` modulo `n`.
    pub shard: Option<(u32, u32)>,
    /// Print progress lines.
    pub progress: bool,
    /// The pipeline's manifest (`--pipeline`); the reference ledger's when `None`.
    pub pipeline: Option<PathBuf>,
}

/// One planned run.
pub(crate) struct Job {
    pub file: PathBuf,
    pub scenario: Scenario,
    pub seed: u64,
    pub workload: Option<Workload>,
    pub plan: Option<Vec<PlannedFault>>,
}

/// Every scenario × seed of `opts.target`, in name order, only this shard's.
pub(crate) fn jobs(opts: &SuiteOptions) -> Result<Vec<Job>> {
    let all = faultline_scenario::load::load_target(&opts.target, opts.prefix.as_deref())?;
    Ok(shard(all, opts.shard)?
        .into_iter()
        .flat_map(|(file, scenario)| seeds_of(file, scenario, opts))
        .collect())
}

/// This shard's share of `all` (in name order): the items whose index is `i - 1` modulo `n`.
pub(crate) fn shard<T>(all: Vec<T>, shard: Option<(u32, u32)>) -> Result<Vec<T>> {
    let Some((i, n)) = shard else {
        return Ok(all);
    };
    if n == 0 || i == 0 || i > n {
        return Err(RunnerError::Usage(format!(
            "--shard {i}/{n}: expected I/N with 1 <= I <= N"
        )));
    }
    Ok(all
        .into_iter()
        .enumerate()
        .filter(|(k, _)| *k as u32 % n == i - 1)
        .map(|(_, x)| x)
        .collect())
}

/// The jobs of one loaded scenario: its seed (or `--seed`) and the `--seeds - 1` after it, each
/// `--repeat` times in a row, with model and policy paths resolved against the file's directory.
pub(crate) fn seeds_of(file: PathBuf, mut scenario: Scenario, opts: &SuiteOptions) -> Vec<Job> {
    scenario.resolve_paths(file.parent().unwrap_or(Path::new(".")));
    let base = opts.seed.unwrap_or(scenario.workload.seed);
    (0..opts.seeds.max(1))
        .flat_map(|k| {
            std::iter::repeat_n(base.wrapping_add(u64::from(k)), opts.repeat.max(1) as usize)
        })
        .map(|seed| Job {
            file: file.clone(),
            scenario: scenario.clone(),
            seed,
            workload: None,
            plan: None,
        })
        .collect()
}

/// One run made ready: what [`Job`] left open is decided.
pub(crate) struct PlannedRun {
    pub file: PathBuf,
    pub scenario: Scenario,
    pub seed: u64,
    pub workload: Workload,
    pub plan: Vec<PlannedFault>,
    /// The backend asked for (`auto` still unresolved).
    pub backend: BackendKind,
    /// The pipeline under test.
    pub pipeline: Arc<Pipeline>,
    /// Knobs the scenario sets that the pipeline does not map (report warnings).
    pub knob_warnings: Vec<String>,
    /// Whether the repro command must name the group protocol: it is not the one the scenario
    /// file would give on its own, or it is not the default.
    pub name_group_protocol: bool,
}

/// Makes every job ready, so a bad scenario costs no time; in broker-count order, so runs
/// needing the same stack follow each other. Starts nothing and writes nothing.
pub(crate) fn prepare(jobs: Vec<Job>, opts: &SuiteOptions) -> Result<Vec<PlannedRun>> {
    let pipeline = Pipeline::load(opts.pipeline.as_deref())?;
    let mut prepared = jobs
        .into_iter()
        .map(|job| prepare_one(job, opts, &pipeline))
        .collect::<Result<Vec<_>>>()?;
    prepared.sort_by_key(|p| p.scenario.infra.brokers);
    Ok(prepared)
}

/// One job made ready: the defect is known, the workload generated, the faults planned and each
/// trigger reachable, the backend able to inject them, the `[compare]` model and policy files
/// loaded. Everything `run` and `check` validate before any stack; touches no infra, no `--out`.
pub(crate) fn prepare_one(
    mut job: Job,
    opts: &SuiteOptions,
    pipeline: &Arc<Pipeline>,
) -> Result<PlannedRun> {
    let file_protocol = job.scenario.pipeline.group_protocol;
    let protocol = opts.group_protocol.unwrap_or(file_protocol);
    job.scenario.pipeline.group_protocol = protocol;
    let session_knob = job
        .scenario
        .pipeline
        .knobs
        .get(&Knob::SessionTimeoutMs)
        .copied();
    if let Some(m) = session_knob_conflict(protocol, session_knob) {
        return Err(RunnerError::Usage(format!(
            "{} with --group-protocol {protocol}: {m}",
            job.file.display()
        )));
    }
    let defect = opts
        .defect
        .as_deref()
        .or(job.scenario.pipeline.defect.as_deref());
    if let Some(d) = defect {
        pipeline.check_defect(d)?;
    }
    let workload = match job.workload {
        Some(w) => w,
        None => workload(&job.scenario, job.seed, pipeline, false)?,
    };
    let plan = match job.plan {
        Some(p) => p,
        None => faultline_scenario::plan(&job.scenario, job.seed).map_err(|mut e| {
            e.file = job.file.display().to_string();
            e
        })?,
    };
    reachable_triggers(&job.file, job.seed, &plan, workload.records.len() as u64)?;
    if let Some(spec) = &pipeline.manifest.expect {
        fields_seen(spec, &workload, &pipeline.manifest.file)?;
    }
    let backend = opts.backend.unwrap_or(job.scenario.infra.backend);
    check_backend_supports(backend, &plan)?;
    // [compare] model and policy files are readable before any stack starts.
    CompareSetup::load(&job.scenario, job.seed)?;
    if job.scenario.checks.replay {
        replay_possible(&job.file, &pipeline.manifest)?;
    }
    Ok(PlannedRun {
        name_group_protocol: protocol != file_protocol || protocol != GroupProtocol::Classic,
        knob_warnings: pipeline.knob_warnings(&job.scenario, &plan),
        pipeline: pipeline.clone(),
        file: job.file,
        scenario: job.scenario,
        seed: job.seed,
        workload,
        plan,
        backend,
    })
}

/// Every field an `[expect]` expression reads appears in at least one record the run sends:
/// a field no record has is a typo (or the wrong input), refused before anything starts.
fn fields_seen(
    spec: &faultline_expect::ExpectSpec,
    workload: &Workload,
    manifest: &Path,
) -> Result<()> {
    let placement: BTreeMap<u64, (i32, i64)> = workload
        .records
        .iter()
        .map(|r| (r.seq, (0, r.seq as i64)))
        .collect();
    let produced = crate::run::produce::Produced {
        placement,
        sent_at_ms: Vec::new(),
    };
    let records = crate::run::expectations::input_records(workload, &produced);
    let unseen = spec.fields_never_seen(&records);
    if unseen.is_empty() {
        return Ok(());
    }
    Err(RunnerError::Usage(format!(
        "manifest {}: [expect] reads field(s) {} that none of the {} records sent has; fix the \
         field path (a.b.c, items[0].sku) or the input",
        manifest.display(),
        unseen
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", "),
        records.len()
    )))
}

/// `[checks] replay` on a pipeline that is not the ledger compares its `[[output]]` tables before
/// and after it re-read its input; refused up front where that cannot work.
fn replay_possible(file: &Path, m: &faultline_manifest::Manifest) -> Result<()> {
    use faultline_manifest::{Progress, Replay};
    if m.expectations.is_some() {
        return Ok(());
    }
    let why = if m.outputs.is_empty() {
        "the replay compares the [[output]] tables before and after the pipeline re-reads its \
         input, and the manifest has none; add [[output]] tables or remove the check"
    } else if matches!(m.progress, Progress::Sql(_)) && matches!(m.replay, Replay::Earliest) {
        "the pipeline keeps its offsets in its own table (progress.source = \"sql\"), so \
         resetting its consumer group would not rewind it; give [replay] sql = \"UPDATE \
         {schema}.<offsets table> SET <offset column> = 0\" or a [replay] command"
    } else {
        return Ok(());
    };
    Err(RunnerError::Usage(format!(
        "{}: `[checks] replay` with pipeline `{}` ({}): {why}",
        file.display(),
        m.name,
        m.file.display()
    )))
}

/// The records a run of `s` with `seed` sends: the manifest's recorded events (`[input]`) or the
/// generated ledger events, with the scenario's record faults on top; or, with `clean`, without
/// them (no duplicates, malformed records, poison pills, oversized records or reordering): what
/// the differential check's fault-free run sends.
pub(crate) fn workload(
    s: &Scenario,
    seed: u64,
    pipeline: &Pipeline,
    clean: bool,
) -> Result<Workload> {
    let mut spec = s.workload.clone();
    spec.seed = seed;
    spec.partitions = s.infra.partitions;
    if clean {
        spec.duplicate_ratio = 0.0;
        spec.malformed_ratio = 0.0;
        spec.poison_pills = 0;
        spec.oversized = 0;
        spec.out_of_order_window = 0;
    }
    Ok(match &pipeline.manifest.input {
        Some(Input::Records(records)) => faultline_workload::from_recorded(records, &spec)?,
        Some(Input::Schema(input)) => super::schema_input::workload(input, &spec)?,
        None => faultline_workload::generate(&spec)?,
    })
}

/// An `after_records` trigger beyond what this seed's workload sends would never fire: refused
/// before anything starts (validation refuses what no seed could reach; this is the exact count).
fn reachable_triggers(file: &Path, seed: u64, plan: &[PlannedFault], records: u64) -> Result<()> {
    for p in plan {
        if let Trigger::AfterRecords(n) = p.trigger {
            if n > records {
                return Err(RunnerError::Usage(format!(
                    "{}: fault {} fires after_records = {n}, but seed {seed} sends only {records} \
                     records, so it would never be injected; lower after_records or raise \
                     workload.events",
                    file.display(),
                    p.id
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_refuses_a_trigger_past_the_workload_and_a_bad_defect() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("late.toml");
        std::fs::write(
            &file,
            "[workload]\nseed = 3\nevents = 50\n\n[[faults]]\nkind = \"kill_worker\"\nafter_records = 50\n",
        )
        .unwrap();
        let opts = SuiteOptions {
            target: file.clone(),
            prefix: None,
            seed: None,
            seeds: 1,
            repeat: 1,
            golden: true,
            outcome_lines: true,
            backend: Some(BackendKind::Processes),
            defect: None,
            group_protocol: None,
            out: dir.path().join("out"),
            shard: None,
            progress: false,
            pipeline: None,
        };
        let planned = prepare(jobs(&opts).unwrap(), &opts).unwrap().remove(0);
        let sent = planned.workload.records.len() as u64;
        reachable_triggers(&file, 3, &planned.plan, sent).unwrap();
        // One record fewer than the trigger waits for: it would never fire.
        let err = reachable_triggers(&file, 3, &planned.plan, 49)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("would never be injected") && err.contains("late.toml"),
            "{err}"
        );
        assert_eq!(
            sent, 50,
            "no duplicates or malformed records in this workload"
        );
        let bad = SuiteOptions {
            defect: Some("bogus".into()),
            ..opts
        };
        let err = prepare(jobs(&bad).unwrap(), &bad)
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("known: commit-before-write"), "{err}");
        assert!(
            !dir.path().join("out").exists(),
            "nothing written before a run"
        );
    }
}
