//! Proving nothing leaks: a child copy of the test binary starts a stack, records what it started,
//! then panics or waits for SIGINT; the parent checks every recorded pid, container and dir is gone.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use faultline_infra::reaper::{registered, Resource};

/// Env var telling a child test which backend to use and where to write its resource list.
pub const CHILD_ENV: &str = "FAULTLINE_LEAK_CHILD";

/// In the child: the (backend, record-file) it was given, if this process is a leak child.
pub fn child_args() -> Option<(String, PathBuf)> {
    let v = std::env::var(CHILD_ENV).ok()?;
    let (backend, file) = v.split_once(':')?;
    Some((backend.to_string(), PathBuf::from(file)))
}

/// In the child: writes every registered resource, one per line.
pub fn record_resources(file: &Path) -> Result<()> {
    let lines: Vec<String> = registered()
        .into_iter()
        .map(|r| match r {
            Resource::Pid(p) => format!("pid {p}"),
            Resource::Container(c) => format!("container {c}"),
            Resource::LabelledContainers(l) => format!("labelled {l}"),
            Resource::Network(n) => format!("network {n}"),
            Resource::Dir(d) => format!("dir {}", d.display()),
        })
        .collect();
    std::fs::write(file, lines.join("\n") + "\n").with_context(|| file.display().to_string())
}

/// In the parent: runs one ignored test of this same binary as a child.
pub fn spawn_child(test_name: &str, backend: &str, file: &Path) -> Result<Child> {
    let exe = std::env::current_exe()?;
    // The child's own test summary (a deliberate FAILED for the panic case) goes to a log file, not
    // into this run's output where it would read like a real failure.
    let log = std::fs::File::create(file.with_extension("child.log"))?;
    Command::new(exe)
        .args(["--ignored", "--exact", "--nocapture", test_name])
        .env(CHILD_ENV, format!("{backend}:{}", file.display()))
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("spawn child test")
}

/// In the parent: waits until the child wrote `<file>.ready`; an error if it exits first or
/// `timeout` passes.
pub fn wait_until_ready(child: &mut Child, file: &Path, timeout: Duration) -> Result<()> {
    let ready = file.with_extension("ready");
    let deadline = Instant::now() + timeout;
    while !ready.exists() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "child not ready after {timeout:?} (log: {})",
            file.with_extension("child.log").display()
        );
        anyhow::ensure!(
            child.try_wait()?.is_none(),
            "child exited before it was ready (log: {})",
            file.with_extension("child.log").display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// In the parent: resources from the record file that still exist.
pub fn still_present(file: &Path) -> Result<(usize, Vec<String>)> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("child wrote no record at {}", file.display()))?;
    let mut alive = Vec::new();
    let mut total = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        total += 1;
        let (kind, what) = line.split_once(' ').context("record line")?;
        let present = match kind {
            "pid" => {
                let pid: i32 = what.parse()?;
                // SAFETY: signal 0 only probes for existence.
                let r = unsafe { libc::kill(pid, 0) };
                r == 0 && !faultline_infra::reaper::is_zombie(pid)
            }
            "container" => {
                let out = Command::new("docker")
                    .args(["ps", "-aq", "--no-trunc", "--filter", &format!("id={what}")])
                    .output()?;
                !String::from_utf8_lossy(&out.stdout).trim().is_empty()
            }
            "labelled" => !faultline_infra::reaper::labelled_containers(what).is_empty(),
            "network" => {
                let out = Command::new("docker")
                    .args(["network", "ls", "-q", "--filter", &format!("name=^{what}$")])
                    .output()?;
                !String::from_utf8_lossy(&out.stdout).trim().is_empty()
            }
            "dir" => Path::new(what).exists(),
            _ => false,
        };
        if present {
            alive.push(line.to_string());
        }
    }
    Ok((total, alive))
}
