//! One Kafka broker as a local `java` process in KRaft combined mode.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use super::Toolchain;
use crate::error::{InfraError, IoContext, Result};
use crate::kafka_config::{broker_properties, render_properties, BrokerAddrs};
use crate::reaper::{tail_file, ManagedChild};

/// What a broker logs once it serves clients.
pub(super) const BROKER_STARTED: &str = "Kafka Server started";

/// A broker: its config and data live in `dir`; the process may be stopped and started again.
pub(super) struct LocalBroker {
    pub addrs: BrokerAddrs,
    tools: Toolchain,
    config: PathBuf,
    log: PathBuf,
    child: Mutex<Option<ManagedChild>>,
}

impl LocalBroker {
    /// Writes the config, formats the log dir (`kafka.tools.StorageTool`) and starts the broker.
    pub fn format_and_start(
        tools: &Toolchain,
        root: &Path,
        addrs: BrokerAddrs,
        all: &[BrokerAddrs],
        cluster_id: &str,
    ) -> Result<Self> {
        let dir = root.join(format!("kafka-{}", addrs.id));
        std::fs::create_dir_all(dir.join("data")).at(&dir)?;
        let mut props = broker_properties(&addrs, all);
        props.insert("log.dirs".into(), dir.join("data").display().to_string());
        let config = dir.join("server.properties");
        std::fs::write(&config, render_properties(&props)).at(&config)?;
        let log = dir.join("broker.log");

        let out = Command::new(&tools.java)
            .args(["-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp"])
            .arg(classpath(tools))
            .args([
                "kafka.tools.StorageTool",
                "format",
                "--ignore-formatted",
                "-t",
                cluster_id,
                "-c",
            ])
            .arg(&config)
            .output()
            .at(&tools.java)?;
        if !out.status.success() {
            return Err(InfraError::Process {
                service: format!("kafka broker {} storage format", addrs.id),
                message: format!("exited with {}", out.status),
                log_tail: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            });
        }
        let broker = Self {
            addrs,
            tools: tools.clone(),
            config,
            log,
            child: Mutex::new(None),
        };
        broker.start()?;
        Ok(broker)
    }

    /// Starts the broker process if it is not running.
    pub fn start(&self) -> Result<()> {
        let mut slot = self.child.lock().expect("broker lock");
        if let Some(c) = slot.as_mut() {
            if c.try_exit().is_none() {
                return Ok(());
            }
        }
        let mut cmd = Command::new(&self.tools.java);
        let heap =
            std::env::var("FAULTLINE_KAFKA_HEAP").unwrap_or_else(|_| "-Xms256m -Xmx1g".into());
        cmd.args(heap.split_whitespace()).arg("-XX:+UseSerialGC");
        if let Ok(extra) = std::env::var("FAULTLINE_KAFKA_JAVA_OPTS") {
            cmd.args(extra.split_whitespace());
        }
        cmd.arg(format!(
            "-Dlog4j2.configurationFile={}",
            self.tools
                .kafka_home
                .join("config/log4j2.properties")
                .display()
        ))
        .arg("-cp")
        .arg(classpath(&self.tools))
        .arg("kafka.Kafka")
        .arg(&self.config);
        *slot = Some(ManagedChild::spawn(
            format!("kafka broker {}", self.addrs.id),
            cmd,
            &self.log,
        )?);
        Ok(())
    }

    pub fn kill(&self) {
        if let Some(mut c) = self.child.lock().expect("broker lock").take() {
            c.kill();
        }
    }

    /// Controlled shutdown (SIGTERM), SIGKILL after 20 s.
    pub fn stop(&self) {
        if let Some(mut c) = self.child.lock().expect("broker lock").take() {
            c.terminate(Duration::from_secs(20));
        }
    }

    pub fn signal(&self, sig: i32) -> Result<()> {
        match self.child.lock().expect("broker lock").as_ref() {
            Some(c) => c.signal(sig),
            None => Err(InfraError::Process {
                service: format!("kafka broker {}", self.addrs.id),
                message: "is not running".into(),
                log_tail: String::new(),
            }),
        }
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn log_tail(&self, n: usize) -> String {
        tail_file(&self.log, n)
    }
}

fn classpath(tools: &Toolchain) -> String {
    format!("{}/*", tools.kafka_home.join("libs").display())
}
