//! The `processes` backend: Kafka brokers as `java` processes from the Maven-assembled jars and
//! Postgres as `initdb` + `postgres`, in a temp dir, on pinned loopback ports. As root, Postgres runs
//! under the `postgres` user (it refuses to run as root).

mod kafka;
mod postgres;
mod toolchain;

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

pub use toolchain::Toolchain;

use crate::backend::Backend;
use crate::error::{InfraError, Result};
use crate::kafka_config::{new_cluster_id, BrokerAddrs};
use crate::pg::PgConfig;
use crate::ports::free_ports;
use crate::reaper::ManagedDir;
use crate::spec::StackSpec;
use crate::stack::{BrokerId, Stack, READY_TIMEOUT};
use kafka::{LocalBroker, BROKER_STARTED};
use postgres::LocalPostgres;

/// Starts stacks as local processes.
#[derive(Debug, Clone)]
pub struct ProcessesBackend {
    tools: Toolchain,
}

impl ProcessesBackend {
    /// Finds Java, the Kafka jars and the Postgres binaries, or says how to get them.
    pub fn locate() -> Result<Self> {
        Ok(Self {
            tools: Toolchain::locate()?,
        })
    }
}

#[async_trait]
impl Backend for ProcessesBackend {
    fn name(&self) -> &'static str {
        "processes"
    }

    async fn start(&self, spec: &StackSpec) -> Result<Box<dyn Stack>> {
        spec.validate()?;
        let t0 = Instant::now();
        let dir = ManagedDir::new(&spec.run_id)?;
        let n = spec.brokers as usize;
        let ports = free_ports(3 * n + 1)?;
        let addrs: Vec<BrokerAddrs> = (0..n)
            .map(|i| {
                let id = i as u32 + 1;
                let client = format!("127.0.0.1:{}", ports[3 * i]);
                let internal = format!("127.0.0.1:{}", ports[3 * i + 1]);
                let controller = format!("127.0.0.1:{}", ports[3 * i + 2]);
                BrokerAddrs {
                    id,
                    client_advertised: spec
                        .advertised_for(id)
                        .map(str::to_string)
                        .unwrap_or_else(|| client.clone()),
                    client_bind: client,
                    internal_advertised: internal.clone(),
                    internal_bind: internal,
                    controller_advertised: controller.clone(),
                    controller_bind: controller,
                }
            })
            .collect();
        let cluster_id = new_cluster_id();

        // Postgres and the brokers start side by side: the JVMs dominate, Postgres hides behind them.
        let pg_task = {
            let tools = self.tools.clone();
            let root = dir.path().to_path_buf();
            let port = ports[3 * n];
            tokio::task::spawn_blocking(move || LocalPostgres::init_and_start(&tools, &root, port))
        };
        let mut broker_tasks = Vec::new();
        for a in &addrs {
            let tools = self.tools.clone();
            let root = dir.path().to_path_buf();
            let (a, all, cid) = (a.clone(), addrs.clone(), cluster_id.clone());
            broker_tasks.push(tokio::task::spawn_blocking(move || {
                LocalBroker::format_and_start(&tools, &root, a, &all, &cid)
            }));
        }
        let mut brokers = Vec::new();
        for t in broker_tasks {
            brokers.push(Arc::new(t.await.map_err(join_err)??));
        }
        let postgres = Arc::new(pg_task.await.map_err(join_err)??);

        let stack = ProcessStack {
            brokers,
            postgres,
            _dir: dir,
        };
        // Ready means: metadata lists all brokers, and a query works. With an advertised override,
        // whatever listens there (a fault proxy) is wired only after this returns, and librdkafka
        // follows advertised addresses even when bootstrapped on a direct listener, so a metadata
        // probe could hang on it; there the broker's own "started" line is the signal, and the
        // caller probes through the advertised addresses once they are wired (see `StackSpec`).
        if spec.advertised.iter().all(Option::is_none) {
            let direct: Vec<String> = stack
                .brokers
                .iter()
                .map(|b| b.addrs.client_bind.clone())
                .collect();
            crate::ready::wait_for_kafka("kafka", &direct.join(","), n, READY_TIMEOUT, || {
                stack.brokers_log_tail()
            })
            .await?;
        } else {
            for b in &stack.brokers {
                let service = format!("kafka broker {}", b.addrs.id);
                crate::ready::wait_for_log_line(
                    &service,
                    b.log_path(),
                    BROKER_STARTED,
                    READY_TIMEOUT,
                    || stack.brokers_log_tail(),
                )
                .await?;
            }
        }
        crate::ready::wait_for_postgres(stack.postgres(), READY_TIMEOUT, || {
            stack.postgres.log_tail()
        })
        .await?;
        tracing::info!(
            elapsed_ms = t0.elapsed().as_millis() as u64,
            brokers = n,
            "processes stack ready"
        );
        Ok(Box::new(stack))
    }
}

fn join_err(e: tokio::task::JoinError) -> InfraError {
    InfraError::Process {
        service: "startup task".into(),
        message: e.to_string(),
        log_tail: String::new(),
    }
}

/// A running processes stack. Drop kills everything and removes the temp dir.
struct ProcessStack {
    brokers: Vec<Arc<LocalBroker>>,
    postgres: Arc<LocalPostgres>,
    // Declared last: dropped after the processes that write into it.
    _dir: ManagedDir,
}

impl ProcessStack {
    fn broker(&self, id: BrokerId) -> Result<Arc<LocalBroker>> {
        self.brokers
            .iter()
            .find(|b| b.addrs.id == id)
            .cloned()
            .ok_or(InfraError::NoSuchBroker(id))
    }

    fn brokers_log_tail(&self) -> String {
        self.brokers
            .iter()
            .map(|b| format!("[broker {}]\n{}", b.addrs.id, b.log_tail(15)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn on_broker<T: Send + 'static>(
        &self,
        id: BrokerId,
        f: impl FnOnce(&LocalBroker) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let b = self.broker(id)?;
        tokio::task::spawn_blocking(move || f(&b))
            .await
            .map_err(join_err)?
    }

    async fn on_postgres<T: Send + 'static>(
        &self,
        f: impl FnOnce(&LocalPostgres) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let p = self.postgres.clone();
        tokio::task::spawn_blocking(move || f(&p))
            .await
            .map_err(join_err)?
    }
}

#[async_trait]
impl Stack for ProcessStack {
    fn backend(&self) -> &'static str {
        "processes"
    }

    fn bootstrap_servers(&self) -> String {
        self.brokers
            .iter()
            .map(|b| b.addrs.client_advertised.clone())
            .collect::<Vec<_>>()
            .join(",")
    }

    fn broker_ids(&self) -> Vec<BrokerId> {
        self.brokers.iter().map(|b| b.addrs.id).collect()
    }

    fn broker_listener(&self, id: BrokerId) -> Result<String> {
        Ok(self.broker(id)?.addrs.client_bind.clone())
    }

    fn postgres(&self) -> &PgConfig {
        &self.postgres.config
    }

    async fn kill_broker(&self, id: BrokerId) -> Result<()> {
        self.on_broker(id, |b| {
            b.kill();
            Ok(())
        })
        .await
    }

    async fn stop_broker(&self, id: BrokerId) -> Result<()> {
        self.on_broker(id, |b| {
            b.stop();
            Ok(())
        })
        .await
    }

    async fn start_broker(&self, id: BrokerId) -> Result<()> {
        let b = self.broker(id)?;
        self.on_broker(id, |b| b.start()).await?;
        crate::ready::wait_for_kafka(
            &format!("kafka broker {id}"),
            &b.addrs.client_bind,
            1,
            READY_TIMEOUT,
            || b.log_tail(30),
        )
        .await?;
        Ok(())
    }

    async fn pause_broker(&self, id: BrokerId) -> Result<()> {
        self.on_broker(id, |b| b.signal(libc::SIGSTOP)).await
    }

    async fn unpause_broker(&self, id: BrokerId) -> Result<()> {
        self.on_broker(id, |b| b.signal(libc::SIGCONT)).await
    }

    async fn kill_postgres(&self) -> Result<()> {
        self.on_postgres(|p| {
            p.kill();
            Ok(())
        })
        .await
    }

    async fn start_postgres(&self) -> Result<()> {
        self.on_postgres(|p| p.start()).await?;
        let p = self.postgres.clone();
        crate::ready::wait_for_postgres(&p.config, READY_TIMEOUT, || p.log_tail()).await?;
        Ok(())
    }

    async fn restart_postgres(&self) -> Result<()> {
        self.on_postgres(|p| {
            p.stop_fast();
            Ok(())
        })
        .await?;
        self.start_postgres().await
    }

    async fn logs(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .brokers
            .iter()
            .map(|b| (format!("kafka-{}", b.addrs.id), b.log_tail(200)))
            .collect();
        out.push(("postgres".into(), self.postgres.log_tail()));
        out
    }

    async fn teardown(self: Box<Self>) -> Result<()> {
        tokio::task::spawn_blocking(move || drop(self))
            .await
            .map_err(join_err)
    }
}
