//! The `containers` backend: testcontainers runs one container per broker and one for Postgres.
//! Images come from [`images`]; host ports are picked up front, bound to 127.0.0.1 only, and kept
//! across a broker restart so clients reconnect to the same address.

pub mod images;

use std::time::Instant;

use async_trait::async_trait;
use testcontainers::bollard::models::HostConfig;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use crate::backend::Backend;
use crate::error::{InfraError, Result};
use crate::kafka_config::{broker_properties, env_var_for, new_cluster_id, BrokerAddrs};
use crate::pg::{random_password, PgConfig};
use crate::ports::free_ports;
use crate::reaper::{register, Registration, Resource};
use crate::spec::StackSpec;
use crate::stack::{BrokerId, Stack, READY_TIMEOUT};
use images::{ImageRef, DEFAULT_KAFKA_IMAGE, DEFAULT_POSTGRES_IMAGE};

const KAFKA_CLIENT_PORT: u16 = 9092;
const KAFKA_INTERNAL_PORT: u16 = 19092;
const KAFKA_CONTROLLER_PORT: u16 = 9093;
const POSTGRES_PORT: u16 = 5432;
/// Label put on every container, with the run id as value, so leftovers can be found.
pub const RUN_LABEL: &str = "dev.faultline.run";

/// Starts stacks as containers.
#[derive(Debug, Clone)]
pub struct ContainersBackend {
    pub kafka_image: ImageRef,
    pub postgres_image: ImageRef,
}

impl ContainersBackend {
    /// Images from `FAULTLINE_KAFKA_IMAGE` / `FAULTLINE_POSTGRES_IMAGE`, else the official ones.
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            kafka_image: ImageRef::from_env("FAULTLINE_KAFKA_IMAGE", DEFAULT_KAFKA_IMAGE)?,
            postgres_image: ImageRef::from_env("FAULTLINE_POSTGRES_IMAGE", DEFAULT_POSTGRES_IMAGE)?,
        })
    }
}

/// Binds every published port to 127.0.0.1 only (testcontainers would bind 0.0.0.0).
fn loopback_only(hc: &mut HostConfig) {
    if let Some(bindings) = hc.port_bindings.as_mut() {
        for list in bindings.values_mut().flatten() {
            for b in list.iter_mut() {
                b.host_ip = Some("127.0.0.1".into());
            }
        }
    }
}

#[async_trait]
impl Backend for ContainersBackend {
    fn name(&self) -> &'static str {
        "containers"
    }

    async fn start(&self, spec: &StackSpec) -> Result<Box<dyn Stack>> {
        spec.validate()?;
        let t0 = Instant::now();
        let n = spec.brokers as usize;
        let host_ports = free_ports(n + 1)?;
        let network = (n > 1).then(|| format!("faultline-{}", spec.run_id));
        // Until every container is tracked by id, an interrupt removes them by the run's label.
        let _starting = register(Resource::LabelledContainers(format!(
            "{RUN_LABEL}={}",
            spec.run_id
        )));
        let network_reg = network.clone().map(|net| register(Resource::Network(net)));
        let name_of = |id: u32| format!("faultline-{}-kafka-{id}", spec.run_id);
        let addrs: Vec<BrokerAddrs> = (1..=n as u32)
            .map(|id| {
                // On a network, brokers reach each other by container name; alone, by localhost.
                let host = if network.is_some() {
                    name_of(id)
                } else {
                    "localhost".into()
                };
                BrokerAddrs {
                    id,
                    client_bind: format!("0.0.0.0:{KAFKA_CLIENT_PORT}"),
                    client_advertised: spec
                        .advertised_for(id)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("127.0.0.1:{}", host_ports[id as usize - 1])),
                    internal_bind: format!("0.0.0.0:{KAFKA_INTERNAL_PORT}"),
                    internal_advertised: format!("{host}:{KAFKA_INTERNAL_PORT}"),
                    controller_bind: format!("0.0.0.0:{KAFKA_CONTROLLER_PORT}"),
                    controller_advertised: format!("{host}:{KAFKA_CONTROLLER_PORT}"),
                }
            })
            .collect();
        let cluster_id = new_cluster_id();

        let pg_port = host_ports[n];
        let password = random_password();
        let pg_request = GenericImage::new(
            self.postgres_image.name.clone(),
            self.postgres_image.tag.clone(),
        )
        .with_exposed_port(POSTGRES_PORT.tcp())
        .with_wait_for(WaitFor::message_on_stderr(
            "database system is ready to accept connections",
        ))
        .with_env_var("POSTGRES_PASSWORD", password.clone())
        .with_env_var("POSTGRES_USER", "postgres")
        .with_env_var("POSTGRES_DB", "postgres")
        .with_mapped_port(pg_port, POSTGRES_PORT.tcp())
        .with_label(RUN_LABEL, spec.run_id.clone())
        .with_container_name(format!("faultline-{}-postgres", spec.run_id))
        .with_host_config_modifier(loopback_only)
        .with_startup_timeout(READY_TIMEOUT);

        let kafka_requests: Vec<_> = addrs
            .iter()
            .map(|a| {
                let mut req =
                    GenericImage::new(self.kafka_image.name.clone(), self.kafka_image.tag.clone())
                        .with_exposed_port(KAFKA_CLIENT_PORT.tcp())
                        .with_wait_for(WaitFor::message_on_stdout("Kafka Server started"))
                        .with_env_var("CLUSTER_ID", cluster_id.clone())
                        .with_env_var(
                            "KAFKA_HEAP_OPTS",
                            std::env::var("FAULTLINE_KAFKA_HEAP")
                                .unwrap_or_else(|_| "-Xms256m -Xmx1g".into()),
                        )
                        .with_mapped_port(host_ports[a.id as usize - 1], KAFKA_CLIENT_PORT.tcp())
                        .with_label(RUN_LABEL, spec.run_id.clone())
                        .with_container_name(name_of(a.id))
                        .with_host_config_modifier(loopback_only)
                        .with_startup_timeout(READY_TIMEOUT);
                let mut props = broker_properties(a, &addrs);
                props.insert("log.dirs".into(), "/tmp/kafka-data".into());
                for (k, v) in props {
                    req = req.with_env_var(env_var_for(&k), v);
                }
                if let Some(net) = &network {
                    req = req.with_network(net.clone());
                }
                req
            })
            .collect();

        // Every broker must start at once: a KRaft quorum of three waits for a majority.
        let (pg, kafkas) = tokio::join!(
            pg_request.start(),
            futures::future::join_all(kafka_requests.into_iter().map(|r| r.start()))
        );
        let pg = Tracked::new(pg?);
        let mut brokers = Vec::new();
        for (a, k) in addrs.into_iter().zip(kafkas) {
            brokers.push(ContainerBroker {
                host_port: host_ports[a.id as usize - 1],
                addrs: a,
                container: Tracked::new(k?),
            });
        }
        let stack = ContainerStack {
            brokers,
            postgres: pg,
            pg_config: PgConfig::new("127.0.0.1", pg_port, "postgres", password, "postgres"),
            _network: network_reg,
        };
        let direct = stack
            .brokers
            .iter()
            .map(|b| format!("127.0.0.1:{}", b.host_port))
            .collect::<Vec<_>>()
            .join(",");
        if spec.advertised.iter().all(Option::is_none) {
            crate::ready::wait_for_kafka("kafka", &direct, n, READY_TIMEOUT, String::new).await?;
        }
        // The official image logs "ready" once for its init-time server too; a real query settles it.
        crate::ready::wait_for_postgres(&stack.pg_config, READY_TIMEOUT, String::new).await?;
        tracing::info!(
            elapsed_ms = t0.elapsed().as_millis() as u64,
            brokers = n,
            "containers stack ready"
        );
        Ok(Box::new(stack))
    }
}

/// A container plus its reaper registration (removed by `docker rm -f` on Ctrl-C).
struct Tracked {
    container: ContainerAsync<GenericImage>,
    _reg: Registration,
}

impl Tracked {
    fn new(container: ContainerAsync<GenericImage>) -> Self {
        let reg = register(Resource::Container(container.id().to_string()));
        Self {
            container,
            _reg: reg,
        }
    }

    async fn logs(&self) -> String {
        let out = self.container.stdout_to_vec().await.unwrap_or_default();
        let err = self.container.stderr_to_vec().await.unwrap_or_default();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        );
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(200)..].join("\n")
    }
}

struct ContainerBroker {
    addrs: BrokerAddrs,
    host_port: u16,
    container: Tracked,
}

struct ContainerStack {
    brokers: Vec<ContainerBroker>,
    postgres: Tracked,
    pg_config: PgConfig,
    /// The brokers' network, removed on Ctrl-C after them (testcontainers removes it otherwise).
    _network: Option<Registration>,
}

impl ContainerStack {
    fn broker(&self, id: BrokerId) -> Result<&ContainerBroker> {
        self.brokers
            .iter()
            .find(|b| b.addrs.id == id)
            .ok_or(InfraError::NoSuchBroker(id))
    }
}

#[async_trait]
impl Stack for ContainerStack {
    fn backend(&self) -> &'static str {
        "containers"
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
        Ok(format!("127.0.0.1:{}", self.broker(id)?.host_port))
    }

    fn postgres(&self) -> &PgConfig {
        &self.pg_config
    }

    async fn kill_broker(&self, id: BrokerId) -> Result<()> {
        Ok(self
            .broker(id)?
            .container
            .container
            .stop_with_timeout(Some(0))
            .await?)
    }

    async fn stop_broker(&self, id: BrokerId) -> Result<()> {
        Ok(self
            .broker(id)?
            .container
            .container
            .stop_with_timeout(Some(20))
            .await?)
    }

    async fn start_broker(&self, id: BrokerId) -> Result<()> {
        let b = self.broker(id)?;
        b.container.container.start().await?;
        crate::ready::wait_for_kafka(
            &format!("kafka broker {id}"),
            &format!("127.0.0.1:{}", b.host_port),
            1,
            READY_TIMEOUT,
            String::new,
        )
        .await?;
        Ok(())
    }

    async fn pause_broker(&self, id: BrokerId) -> Result<()> {
        // The cgroup freezer can refuse while a process is in uninterruptible I/O ("unable to
        // freeze"); it succeeds a moment later, so try a few times before giving up.
        let container = &self.broker(id)?.container.container;
        let mut attempt = 1;
        loop {
            match container.pause().await {
                Ok(()) => return Ok(()),
                Err(e) if attempt < 5 => {
                    tracing::info!(broker = id, attempt, error = %e, "docker pause refused; retrying");
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn unpause_broker(&self, id: BrokerId) -> Result<()> {
        Ok(self.broker(id)?.container.container.unpause().await?)
    }

    async fn kill_postgres(&self) -> Result<()> {
        Ok(self.postgres.container.stop_with_timeout(Some(0)).await?)
    }

    async fn start_postgres(&self) -> Result<()> {
        self.postgres.container.start().await?;
        crate::ready::wait_for_postgres(&self.pg_config, READY_TIMEOUT, String::new).await?;
        Ok(())
    }

    async fn restart_postgres(&self) -> Result<()> {
        self.postgres.container.stop_with_timeout(Some(20)).await?;
        self.start_postgres().await
    }

    async fn logs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for b in &self.brokers {
            out.push((format!("kafka-{}", b.addrs.id), b.container.logs().await));
        }
        out.push(("postgres".into(), self.postgres.logs().await));
        out
    }

    async fn teardown(self: Box<Self>) -> Result<()> {
        let ContainerStack {
            brokers, postgres, ..
        } = *self;
        let mut first_err = None;
        for b in brokers {
            if let Err(e) = b.container.container.rm().await {
                first_err.get_or_insert(e);
            }
        }
        if let Err(e) = postgres.container.rm().await {
            first_err.get_or_insert(e);
        }
        first_err.map_or(Ok(()), |e| Err(e.into()))
    }
}
