//! Waiting for a started worker to be ready, as the manifest's `[ready]` says: a line of its log,
//! an HTTP URL answering 2xx, or a TCP port accepting. Not ready in time fails the run with the
//! worker's last log lines.

use std::path::Path;
use std::time::Duration;

use faultline_manifest::{Probe, Ready};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::env::{RunValues, WorkerValues};
use crate::error::{Result, RunnerError};

/// Waits until worker `w` (whose output goes to `log`) is ready. `alive` says whether it still
/// runs; a worker that exits while waited for fails at once.
pub async fn wait(
    ready: &Ready,
    values: &RunValues,
    w: &WorkerValues,
    log: &Path,
    mut alive: impl FnMut() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + ready.timeout;
    let target = match &ready.probe {
        Probe::None => return Ok(()),
        Probe::Log(_) => String::new(),
        Probe::Http(t) => values.render(t, Some(w), "ready.http")?,
        Probe::Tcp(t) => values.render(t, Some(w), "ready.tcp")?,
    };
    loop {
        let ok = match &ready.probe {
            Probe::None => true,
            Probe::Log(re) => std::fs::read_to_string(log)
                .map(|t| t.lines().any(|l| re.is_match(l)))
                .unwrap_or(false),
            Probe::Http(_) => http_ok(&target).await,
            Probe::Tcp(_) => tokio::net::TcpStream::connect(&target).await.is_ok(),
        };
        if ok {
            return Ok(());
        }
        let what = match &ready.probe {
            Probe::Log(re) => format!("no line of its output matched ready.log `{re}`"),
            Probe::Http(_) => format!("{target} (ready.http) did not answer 2xx"),
            Probe::Tcp(_) => format!("{target} (ready.tcp) accepted no connection"),
            Probe::None => String::new(),
        };
        if !alive() {
            return Err(not_ready(
                w,
                log,
                format!("it exited before it was ready: {what}"),
            ));
        }
        if Instant::now() >= deadline {
            return Err(not_ready(
                w,
                log,
                format!(
                    "not ready after {} s (ready.timeout_s): {what}",
                    ready.timeout.as_secs()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn not_ready(w: &WorkerValues, log: &Path, why: String) -> RunnerError {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    RunnerError::Pipeline {
        message: format!("worker {} {why} (its log: {})", w.id, log.display()),
        log_tail: lines[lines.len().saturating_sub(20)..].join("\n"),
    }
}

/// A plain HTTP/1.0 GET; true on a 2xx status line.
async fn http_ok(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let attempt = async {
        let mut s = tokio::net::TcpStream::connect(hostport).await.ok()?;
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {hostport}\r\n\r\n").as_bytes())
            .await
            .ok()?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).await.ok()?;
        let line = String::from_utf8_lossy(&buf[..n]);
        let code = line.split_whitespace().nth(1)?;
        Some(code.starts_with('2'))
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}
