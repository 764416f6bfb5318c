//! The values of the manifest's placeholders: per run (from the stack and the run's names), then
//! per worker (its id, a free port, its Postgres `application_name`), and the environment and
//! command they render into.

use std::collections::BTreeMap;

use faultline_manifest::{Placeholder, Scope, Template};
use faultline_scenario::Scenario;

use faultline_infra::PgConfig;

use crate::error::{Result, RunnerError};

/// What a run has that placeholders stand for.
pub struct RunContext<'a> {
    pub bootstrap: &'a str,
    /// How the pipeline reaches Postgres (through the fault proxy when there is one).
    pub pipeline_pg: &'a PgConfig,
    pub schema: &'a str,
    pub topic: &'a str,
    pub dlq_topic: &'a str,
    pub group: &'a str,
    pub run_id: &'a str,
    pub enrich_url: Option<&'a str>,
}

/// Placeholder values that are the same for every worker of a run.
#[derive(Debug, Clone, Default)]
pub struct RunValues(BTreeMap<Placeholder, String>);

impl RunValues {
    /// The values for one run.
    pub fn new(ctx: &RunContext<'_>, s: &Scenario) -> Self {
        let pg = ctx.pipeline_pg;
        let mut v = BTreeMap::new();
        v.insert(Placeholder::KafkaBootstrap, ctx.bootstrap.to_string());
        v.insert(Placeholder::PostgresUrl, pg.url_with_password());
        v.insert(Placeholder::PostgresHost, pg.host.clone());
        v.insert(Placeholder::PostgresPort, pg.port.to_string());
        v.insert(Placeholder::PostgresUser, pg.user.clone());
        v.insert(Placeholder::PostgresPassword, pg.password().to_string());
        v.insert(Placeholder::PostgresDatabase, pg.dbname.clone());
        v.insert(Placeholder::Schema, ctx.schema.to_string());
        v.insert(Placeholder::InputTopic, ctx.topic.to_string());
        v.insert(Placeholder::DlqTopic, ctx.dlq_topic.to_string());
        v.insert(Placeholder::GroupId, ctx.group.to_string());
        v.insert(Placeholder::RunId, ctx.run_id.to_string());
        v.insert(
            Placeholder::GroupProtocol,
            s.pipeline.group_protocol.to_string(),
        );
        if let Some(u) = ctx.enrich_url {
            v.insert(Placeholder::EnrichUrl, u.to_string());
        }
        if let Some(m) = &s.pipeline.champion {
            v.insert(Placeholder::ChampionModel, m.clone());
        }
        if let Some(m) = &s.pipeline.challenger {
            v.insert(Placeholder::ChallengerModel, m.clone());
        }
        RunValues(v)
    }

    /// The value of `p` for worker `worker` (`None` for the run-wide scope).
    pub fn get(&self, p: Placeholder, worker: Option<&WorkerValues>) -> Option<String> {
        match (p, worker) {
            (Placeholder::WorkerId, Some(w)) => Some(w.id.clone()),
            (Placeholder::MetricsPort, Some(w)) => Some(w.port.to_string()),
            // Each worker's sessions carry its own application_name, so faults can find them in
            // pg_stat_activity.
            (Placeholder::PostgresUrl, Some(w)) => self
                .0
                .get(&p)
                .map(|u| with_application_name(u, &w.pg_app_name)),
            _ => self.0.get(&p).cloned(),
        }
    }

    /// `t` rendered; the error names the field and the placeholder that has no value.
    pub fn render(
        &self,
        t: &Template,
        worker: Option<&WorkerValues>,
        field: &str,
    ) -> Result<String> {
        t.render(|p| self.get(p, worker)).map_err(|p| {
            RunnerError::Usage(format!(
                "the manifest's `{field}` uses {p}, which has no value in this run"
            ))
        })
    }

    /// The manifest's `env` rendered: an entry whose optional placeholder has no value in this run
    /// is left out.
    pub fn environment(
        &self,
        env: &BTreeMap<String, Template>,
        worker: Option<&WorkerValues>,
    ) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for (k, t) in env {
            let missing_optional = t
                .placeholders()
                .any(|p| p.scope() == Scope::Optional && self.get(p, worker).is_none());
            if missing_optional {
                continue;
            }
            if worker.is_none() && t.placeholders().any(|p| p.scope() == Scope::Worker) {
                continue;
            }
            out.insert(k.clone(), self.render(t, worker, &format!("env.{k}"))?);
        }
        Ok(out)
    }
}

/// What differs between the workers of a run.
#[derive(Debug, Clone)]
pub struct WorkerValues {
    /// `w1`, `w2`, ...
    pub id: String,
    /// A port that was free when the worker started.
    pub port: u16,
    /// Its sessions' Postgres `application_name`.
    pub pg_app_name: String,
}

impl WorkerValues {
    /// Worker `n` of run `run_id`, with a free port.
    pub fn new(n: u32, run_id: &str) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| RunnerError::Pipeline {
                message: format!("cannot reserve a port for worker w{n}: {e}"),
                log_tail: String::new(),
            })?;
        Ok(Self {
            id: format!("w{n}"),
            port,
            pg_app_name: pg_app_name(run_id, n),
        })
    }
}

/// The Postgres `application_name` of worker `n` (in `{postgres_url}` and `PGAPPNAME`): how
/// `in_transaction` faults find its sessions in `pg_stat_activity`. Unique per run, since several
/// runs may share one Postgres.
pub fn pg_app_name(run_id: &str, n: u32) -> String {
    format!("faultline-{run_id}-w{n}")
}

/// `url` with `application_name` set, unless it already names one.
fn with_application_name(url: &str, app: &str) -> String {
    if url.contains("application_name=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={app}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_application_name_joins_the_url_once() {
        assert_eq!(
            with_application_name("postgres://u:p@h:5/db", "a"),
            "postgres://u:p@h:5/db?application_name=a"
        );
        assert_eq!(
            with_application_name("postgres://h/db?sslmode=disable", "a"),
            "postgres://h/db?sslmode=disable&application_name=a"
        );
        assert_eq!(
            with_application_name("postgres://h/db?application_name=mine", "a"),
            "postgres://h/db?application_name=mine"
        );
    }

    #[test]
    fn optional_values_leave_their_variable_unset() {
        let mut v = RunValues::default();
        v.0.insert(Placeholder::Schema, "s1".into());
        let env: BTreeMap<String, Template> = [
            ("SCHEMA", "{schema}"),
            ("ENRICH", "{enrich_url}"),
            ("ID", "{worker_id}"),
        ]
        .into_iter()
        .map(|(k, t)| (k.to_string(), Template::parse(t).unwrap()))
        .collect();
        let w = WorkerValues {
            id: "w3".into(),
            port: 1,
            pg_app_name: "a".into(),
        };
        let out = v.environment(&env, Some(&w)).unwrap();
        assert_eq!(out.get("SCHEMA").map(String::as_str), Some("s1"));
        assert_eq!(out.get("ID").map(String::as_str), Some("w3"));
        assert!(!out.contains_key("ENRICH"));
        let run_wide = v.environment(&env, None).unwrap();
        assert!(!run_wide.contains_key("ID"), "no worker, no worker id");
    }
}
