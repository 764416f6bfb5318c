//! Starting what one run needs: fault proxies (bound first, so brokers can advertise them), the
//! stack, the topics, the profile service, and the names that keep runs apart on a shared stack.

use faultline_infra::{backend_for, BackendKind, PgConfig, Stack, StackSpec};
use faultline_proxy::Proxy;
use faultline_scenario::{Family, PlannedFault};

use crate::error::{Result, RunnerError};

/// Names one run uses; unique per run so runs can share a stack.
#[derive(Debug, Clone)]
pub struct Names {
    pub run_id: String,
    pub topic: String,
    pub dlq_topic: String,
    pub group: String,
    pub schema: String,
}

impl Names {
    pub fn new(scenario: &str, seed: u64) -> Self {
        let run_id = faultline_infra::spec::new_run_id();
        let slug: String = scenario
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(30)
            .collect();
        let topic = format!("fl-{slug}-{seed}-{run_id}");
        Self {
            dlq_topic: format!("{topic}.dlq"),
            group: format!("{topic}.workers"),
            schema: format!("fl_{}_{run_id}", slug.replace('-', "_")),
            topic,
            run_id,
        }
    }
}

/// The running infrastructure of one run.
pub struct Infra {
    pub stack: Box<dyn Stack>,
    pub kafka_proxies: Vec<Proxy>,
    pub postgres_proxy: Option<Proxy>,
    pub brokers: u32,
}

impl Infra {
    /// What workers and the producer use: through the proxies when there are any.
    pub fn bootstrap(&self) -> String {
        self.stack.bootstrap_servers()
    }

    /// Postgres for the pipeline: through the proxy when there is one.
    pub fn pipeline_pg(&self) -> PgConfig {
        let direct = self.stack.postgres().clone();
        match &self.postgres_proxy {
            Some(p) => {
                let mut c = direct;
                c.host = p.listen_addr().ip().to_string();
                c.port = p.listen_addr().port();
                c
            }
            None => direct,
        }
    }

    /// Postgres for the harness itself (checks, progress): always direct.
    pub fn harness_pg(&self) -> &PgConfig {
        self.stack.postgres()
    }

    /// Removes every toxic and re-enables every proxy: a run starts clean after a failed one.
    pub fn reset_proxies(&self) {
        for p in self.kafka_proxies.iter().chain(&self.postgres_proxy) {
            p.clear_toxics();
            p.set_enabled(true);
        }
    }

    pub async fn teardown(self) -> Result<()> {
        for p in self.kafka_proxies {
            p.shutdown().await;
        }
        if let Some(p) = self.postgres_proxy {
            p.shutdown().await;
        }
        self.stack.teardown().await?;
        Ok(())
    }
}

/// Refuses plans the backend cannot carry out, before anything starts.
pub fn check_backend_supports(kind: BackendKind, plan: &[PlannedFault]) -> Result<()> {
    if kind != BackendKind::External {
        return Ok(());
    }
    if let Some(p) = plan.iter().find(|p| p.action.needs_own_infra()) {
        return Err(RunnerError::Usage(format!(
            "fault {} needs brokers/Postgres the harness runs; the external backend cannot {}; use --backend processes or containers",
            p.id, p.kind
        )));
    }
    if let Some(p) = plan.iter().find(|p| p.action.family() == Family::Network) {
        return Err(RunnerError::Usage(format!(
            "fault {} needs a fault proxy in front of the brokers, which cannot be advertised by external brokers; use --backend processes or containers",
            p.id
        )));
    }
    Ok(())
}

/// Binds a proxy per broker and one for Postgres, starts the stack behind them (brokers advertise
/// their proxy), and points the proxies at it. Runs of a suite share one such stack per broker count.
pub async fn start(kind: BackendKind, brokers: u32, seed: u64) -> Result<Infra> {
    let mut kafka_proxies = Vec::new();
    let mut postgres_proxy = None;
    // External brokers advertise their own addresses; a proxy in front of them would be bypassed.
    if kind != BackendKind::External {
        for id in 1..=brokers {
            kafka_proxies.push(
                Proxy::bind(&format!("kafka-{id}"), "127.0.0.1:0", seed ^ u64::from(id)).await?,
            );
        }
        postgres_proxy = Some(Proxy::bind("postgres", "127.0.0.1:0", seed ^ 0xffff).await?);
    }
    let spec = StackSpec {
        brokers,
        advertised: kafka_proxies
            .iter()
            .map(|p| Some(p.listen_addr().to_string()))
            .collect(),
        ..StackSpec::default()
    };
    let stack = backend_for(kind).await?.start(&spec).await?;
    for (i, p) in kafka_proxies.iter().enumerate() {
        p.set_upstream(&stack.broker_listener(i as u32 + 1)?);
    }
    if let Some(p) = &postgres_proxy {
        let pg = stack.postgres();
        p.set_upstream(&format!("{}:{}", pg.host, pg.port));
    }
    if !kafka_proxies.is_empty() {
        // The backend could not probe metadata before the proxies were wired; probe the whole path.
        faultline_infra::ready::wait_for_kafka(
            "kafka through the fault proxies",
            &stack.bootstrap_servers(),
            brokers as usize,
            faultline_infra::stack::READY_TIMEOUT,
            String::new,
        )
        .await?;
    }
    Ok(Infra {
        stack,
        kafka_proxies,
        postgres_proxy,
        brokers,
    })
}

/// Creates the run's input and dead-letter topics.
pub async fn create_topics(infra: &Infra, names: &Names, partitions: i32) -> Result<()> {
    let rf = if infra.brokers >= 3 { 3 } else { 1 };
    faultline_infra::doctor::create_topic(&infra.bootstrap(), &names.topic, partitions, rf).await?;
    faultline_infra::doctor::create_topic(&infra.bootstrap(), &names.dlq_topic, 1, rf).await?;
    Ok(())
}
