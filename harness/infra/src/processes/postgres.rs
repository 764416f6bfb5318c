//! Postgres as local processes: `initdb` once, then `postgres` in the foreground (no `pg_ctl`
//! daemon, so the harness owns the postmaster and its whole process group).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use super::Toolchain;
use crate::error::{InfraError, IoContext, Result};
use crate::pg::{random_password, PgConfig};
use crate::reaper::{tail_file, ManagedChild};

pub(super) struct LocalPostgres {
    pub config: PgConfig,
    tools: Toolchain,
    data: PathBuf,
    socket_dir: PathBuf,
    log: PathBuf,
    child: Mutex<Option<ManagedChild>>,
}

impl LocalPostgres {
    /// `initdb` with a random superuser password, then start.
    pub fn init_and_start(tools: &Toolchain, root: &Path, port: u16) -> Result<Self> {
        let base = root.join("postgres");
        let data = base.join("data");
        let socket_dir = base.join("sock");
        std::fs::create_dir_all(&socket_dir).at(&socket_dir)?;
        let password = random_password();
        let pwfile = base.join("pwfile");
        std::fs::write(&pwfile, &password).at(&pwfile)?;
        std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o600)).at(&pwfile)?;
        if let Some((uid, gid)) = tools.pg_user {
            for p in [&base, &socket_dir, &pwfile] {
                std::os::unix::fs::chown(p, Some(uid), Some(gid)).at(p)?;
            }
        }
        let mut initdb = Command::new(tools.pg_bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-A",
                "scram-sha-256",
                "--auth-local=trust",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .current_dir(&base);
        as_service_user(&mut initdb, tools);
        let out = initdb.output().at(tools.pg_bin.join("initdb"))?;
        let _ = std::fs::remove_file(&pwfile);
        if !out.status.success() {
            return Err(InfraError::Process {
                service: "postgres initdb".into(),
                message: format!("exited with {}", out.status),
                log_tail: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            });
        }
        let pg = Self {
            config: PgConfig::new("127.0.0.1", port, "postgres", password, "postgres"),
            tools: tools.clone(),
            data,
            socket_dir,
            log: base.join("postgres.log"),
            child: Mutex::new(None),
        };
        pg.start()?;
        Ok(pg)
    }

    pub fn start(&self) -> Result<()> {
        let mut slot = self.child.lock().expect("postgres lock");
        if let Some(c) = slot.as_mut() {
            if c.try_exit().is_none() {
                return Ok(());
            }
        }
        let mut cmd = Command::new(self.tools.pg_bin.join("postgres"));
        cmd.arg("-D")
            .arg(&self.data)
            .args(["-p", &self.config.port.to_string(), "-k"])
            .arg(&self.socket_dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=200",
            ])
            .current_dir(self.data.parent().expect("data dir has a parent"));
        if let Ok(extra) = std::env::var("FAULTLINE_PG_OPTS") {
            cmd.args(extra.split_whitespace());
        }
        as_service_user(&mut cmd, &self.tools);
        *slot = Some(ManagedChild::spawn("postgres", cmd, &self.log)?);
        Ok(())
    }

    /// SIGKILL the postmaster and its backends.
    pub fn kill(&self) {
        if let Some(mut c) = self.child.lock().expect("postgres lock").take() {
            c.kill();
        }
    }

    /// Fast shutdown (SIGINT rolls back open transactions), SIGKILL after 20 s.
    pub fn stop_fast(&self) {
        if let Some(mut c) = self.child.lock().expect("postgres lock").take() {
            let _ = c.signal(libc::SIGINT);
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while std::time::Instant::now() < deadline && c.try_exit().is_none() {
                std::thread::sleep(Duration::from_millis(25));
            }
            c.kill();
        }
    }

    pub fn log_tail(&self) -> String {
        tail_file(&self.log, 30)
    }
}

fn as_service_user(cmd: &mut Command, tools: &Toolchain) {
    if let Some((uid, gid)) = tools.pg_user {
        cmd.uid(uid).gid(gid);
    }
}
