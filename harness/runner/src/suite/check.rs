//! `faultline check` and `faultline run --dry-run`: everything `run` validates before it starts a
//! stack, for every scenario × seed of the target, and the fault plan each would run. It starts no
//! Kafka, Postgres or container, takes no `--out` lock and writes no file: it loads the scenarios,
//! then hands each job to [`prepare_one`], the step `run` itself takes before any stack.
//!
//! Unlike `run`, which stops at the first bad scenario, it reports every bad file and job.

use std::path::PathBuf;

use faultline_infra::BackendKind;
use faultline_scenario::{
    BrokerSel, FaultAction, GroupProtocol, NetTarget, PlannedFault, Trigger, WorkerSel,
};

use super::execute::TIME_LIMIT_ALLOWANCE_S;
use super::plan::{prepare_one, seeds_of, shard, SuiteOptions};
use crate::error::Result;
use crate::pipeline::Pipeline;
use std::sync::Arc;

/// What `check` found: the runs that would start, and every problem that stops them.
#[derive(Debug)]
pub struct CheckReport {
    /// Scenario files of the target (all of them, before sharding).
    pub files: usize,
    /// Every valid scenario × seed of this shard, in the order of the files.
    pub runs: Vec<CheckedRun>,
    /// One line per invalid file or job, naming the file (and the line and field where known).
    pub problems: Vec<String>,
}

/// One run `faultline run` would start, with its fault plan.
#[derive(Debug)]
pub struct CheckedRun {
    pub file: PathBuf,
    pub scenario: String,
    pub seed: u64,
    /// The backend asked for (`auto` stays `auto`: resolving it would ask Docker).
    pub backend: BackendKind,
    /// The consumer group protocol the workers join with (after `--group-protocol`).
    pub group_protocol: GroupProtocol,
    pub brokers: u32,
    /// Records the workload of this seed sends.
    pub records: usize,
    pub time_limit_s: u64,
    pub plan: Vec<PlannedFault>,
}

impl CheckReport {
    /// True when every file and job is valid.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// Per valid run a heading and its fault plan as a table, then a one-line summary (the
    /// problems themselves are in [`problems`](Self::problems), for stderr).
    pub fn render(&self) -> String {
        let mut s = String::new();
        for run in &self.runs {
            s.push_str(&run.render());
        }
        let faults: usize = self.runs.iter().map(|r| r.plan.len()).sum();
        s.push_str(&format!(
            "faultline check: {} scenario file(s), {} run(s), {faults} planned fault(s): {}\n",
            self.files,
            self.runs.len(),
            match self.problems.len() {
                0 => "all valid".to_string(),
                n => format!("{n} problem(s)"),
            }
        ));
        s
    }
}

impl CheckedRun {
    fn render(&self) -> String {
        let mut s = format!(
            "\n{} seed {} ({}): backend {}, group protocol {}, {} broker(s), {} records, time \
             limit {} s (+{} s allowance)\n",
            self.scenario,
            self.seed,
            self.file.display(),
            self.backend,
            self.group_protocol,
            self.brokers,
            self.records,
            self.time_limit_s,
            TIME_LIMIT_ALLOWANCE_S
        );
        if self.backend == BackendKind::External && self.group_protocol == GroupProtocol::Consumer {
            s.push_str(&format!(
                "  note: {}\n",
                faultline_infra::kafka_config::external_consumer_group_note()
            ));
        }
        if self.plan.is_empty() {
            s.push_str("  no faults\n");
            return s;
        }
        let mut rows = vec![[
            "id".to_string(),
            "trigger".to_string(),
            "kind".to_string(),
            "target".to_string(),
            "duration".to_string(),
        ]];
        rows.extend(self.plan.iter().map(|p| {
            [
                if p.drawn {
                    format!("{} (drawn)", p.id)
                } else {
                    p.id.clone()
                },
                trigger(&p.trigger),
                p.kind.clone(),
                target(&p.action),
                match p.duration_ms {
                    0 => "instant".to_string(),
                    ms => format!("{:.1} s", ms as f64 / 1000.0),
                },
            ]
        }));
        let widths: Vec<usize> = (0..5)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            s.push_str(&format!("  {}\n", cells.join("  ").trim_end()));
        }
        s
    }
}

fn trigger(t: &Trigger) -> String {
    match t {
        Trigger::AtMs(ms) => format!("at {:.3} s", *ms as f64 / 1000.0),
        Trigger::AfterRecords(n) => format!("after {n} records"),
    }
}

/// What a planned fault will hit, as far as the plan knows (an `any` target is picked from the
/// live workers or brokers when it fires).
fn target(action: &FaultAction) -> String {
    let worker = |w: &WorkerSel| match w {
        WorkerSel::Any => "any worker".to_string(),
        WorkerSel::Id(id) => format!("worker:{id}"),
    };
    let broker = |b: &BrokerSel| match b {
        BrokerSel::Any => "any broker".to_string(),
        BrokerSel::Id(n) => format!("broker:{n}"),
    };
    let proxy = |t: &NetTarget| match t {
        NetTarget::Kafka => "proxy:kafka (every broker)".to_string(),
        NetTarget::Broker(n) => format!("proxy:kafka-{n}"),
        NetTarget::Postgres => "proxy:postgres".to_string(),
    };
    match action {
        FaultAction::KillWorker {
            worker: w,
            in_transaction,
        }
        | FaultAction::PauseWorker {
            worker: w,
            in_transaction,
        } if *in_transaction => format!("{} (in a transaction)", worker(w)),
        FaultAction::KillWorker { worker: w, .. }
        | FaultAction::PauseWorker { worker: w, .. }
        | FaultAction::RestartWorker { worker: w } => worker(w),
        FaultAction::ScaleWorkers { workers } => format!("workers (to {workers})"),
        FaultAction::KillBroker { broker: b }
        | FaultAction::StopBroker { broker: b }
        | FaultAction::PauseBroker { broker: b } => broker(b),
        FaultAction::KillPostgres
        | FaultAction::RestartPostgres
        | FaultAction::TerminatePgBackends => "postgres".to_string(),
        FaultAction::Network { target, toxic } => {
            format!("{}: {}", proxy(target), toxic.describe())
        }
        FaultAction::Partition { target } => proxy(target),
        FaultAction::EnrichmentOutage { status } => format!("enrichment (HTTP {status})"),
        FaultAction::EnrichmentLatency { latency_ms } => {
            format!("enrichment (+{latency_ms} ms)")
        }
    }
}

/// Flags that hold for the whole suite, checked once before any scenario: the `--pipeline`
/// manifest (or the reference ledger's) is loaded and its program found, and an unknown
/// `--defect` is refused with the message `run` gives.
fn check_suite_flags(opts: &SuiteOptions) -> Result<Arc<Pipeline>> {
    let pipeline = Pipeline::load(opts.pipeline.as_deref())?;
    if let Some(d) = &opts.defect {
        pipeline.check_defect(d)?;
    }
    Ok(pipeline)
}

/// Validates `opts.target` as `run` would before starting anything, collecting every problem.
/// `Err` is a problem with the flags or the target itself (nothing to check): an unknown
/// `--defect`, a bad `--shard`, a missing file or an empty directory.
pub fn check(opts: &SuiteOptions) -> Result<CheckReport> {
    let pipeline = check_suite_flags(opts)?;
    let files = faultline_scenario::load::target_files(&opts.target, opts.prefix.as_deref())?;
    let count = files.len();
    let loaded = files.into_iter().map(|f| {
        let scenario = faultline_scenario::load::load(&f);
        (f, scenario)
    });
    let mut report = CheckReport {
        files: count,
        runs: Vec::new(),
        problems: Vec::new(),
    };
    // Every file is read (as `run` reads every file), then this shard's are planned.
    let loaded: Vec<_> = loaded.collect();
    for (file, scenario) in shard(loaded, opts.shard)? {
        let scenario = match scenario {
            Ok(s) => s,
            Err(e) => {
                report.problems.push(e.to_string());
                continue;
            }
        };
        for job in seeds_of(file.clone(), scenario, opts) {
            let seed = job.seed;
            match prepare_one(job, opts, &pipeline) {
                Ok(p) => report.runs.push(CheckedRun {
                    scenario: p.scenario.name.clone(),
                    seed: p.seed,
                    backend: p.backend,
                    group_protocol: p.scenario.pipeline.group_protocol,
                    brokers: p.scenario.infra.brokers,
                    records: p.workload.records.len(),
                    time_limit_s: p.scenario.time_limit_s,
                    plan: p.plan,
                    file: p.file,
                }),
                Err(e) => {
                    let e = e.to_string();
                    let named = e.contains(&file.display().to_string());
                    report.problems.push(if named {
                        e
                    } else {
                        format!("{} seed {seed}: {e}", file.display())
                    });
                }
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn opts(target: &Path) -> SuiteOptions {
        SuiteOptions {
            target: target.to_path_buf(),
            prefix: None,
            seed: None,
            seeds: 2,
            repeat: 1,
            golden: true,
            outcome_lines: true,
            backend: None,
            defect: None,
            group_protocol: None,
            out: target.join("never-created"),
            shard: None,
            progress: false,
            pipeline: None,
        }
    }

    #[test]
    fn every_bad_file_is_reported_and_good_ones_are_planned() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a-good.toml"),
            "[workload]\nseed = 5\nevents = 40\n\n[[faults]]\nkind = \"pause_worker\"\nworker = \"w1\"\n\
             at_ms = 1500\nduration_ms = 2000\n\n[[faults]]\nkind = \"kill_worker\"\nafter_records = 20\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b-typo.toml"),
            "[[faults]]\nkind = \"kil_worker\"\nat_ms = 1\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("c-late.toml"),
            "[workload]\nevents = 10\n\n[[faults]]\nkind = \"kill_worker\"\nafter_records = 100000\n",
        )
        .unwrap();
        let report = check(&opts(dir.path())).unwrap();
        assert_eq!(report.files, 3);
        assert!(!report.is_valid());
        let seeds: Vec<_> = report
            .runs
            .iter()
            .map(|r| (&r.scenario[..], r.seed))
            .collect();
        assert_eq!(seeds, [("a-good", 5), ("a-good", 6)]);
        assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
        assert!(
            report.problems[0].contains("b-typo.toml line 2: field `faults[0].kind`"),
            "{:?}",
            report.problems
        );
        // c-late sends at most 10 records whatever the seed: refused.
        assert!(
            report.problems[1].contains("c-late.toml"),
            "{:?}",
            report.problems
        );
        let text = report.render();
        assert!(text.contains("a-good seed 5 ("), "{text}");
        let pause = text
            .lines()
            .find(|l| l.contains("pause_worker#1"))
            .expect("the pause in the table");
        for cell in ["at 1.500 s", "pause_worker", "worker:w1", "2.0 s"] {
            assert!(pause.contains(cell), "{pause}");
        }
        let kill = text.lines().find(|l| l.contains("kill_worker#1")).unwrap();
        for cell in ["after 20 records", "any worker"] {
            assert!(kill.contains(cell), "{kill}");
        }
        assert!(
            text.ends_with(
                "faultline check: 3 scenario file(s), 2 run(s), 4 planned fault(s): 2 problem(s)\n"
            ),
            "{text}"
        );
        assert!(!dir.path().join("never-created").exists());
    }

    #[test]
    fn an_unknown_defect_is_refused_before_any_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let o = SuiteOptions {
            defect: Some("bogus".into()),
            ..opts(dir.path())
        };
        let err = check(&o).unwrap_err().to_string();
        assert!(err.contains("`bogus`") && err.contains("known: "), "{err}");
    }
}
