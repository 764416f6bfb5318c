//! `ci/docker-engine.sh` starts dockerd detached: a stand-in daemon (`sleep`) started by its
//! `start_detached` while the caller holds a flock must not keep that lock, nor any other fd of the
//! caller's; it runs in its own session with stdin from /dev/null and its output in the log.

use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Context, Result};

#[test]
fn start_detached_leaves_no_inherited_fd_in_the_daemon() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (lock, log) = (dir.path().join("lock"), dir.path().join("daemon.log"));
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ci/docker-engine.sh");
    // The caller holds the lock on fd 9 and a pipe on fd 8 (its own stdout, captured here).
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#"source "$1"; exec 9>"$2"; flock 9; exec 8>&1; start_detached "$3" sleep 30"#)
        .args([
            "bash".as_ref(),
            script.as_os_str(),
            lock.as_os_str(),
            log.as_os_str(),
        ])
        .output()?;
    ensure!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid: i32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .context("start_detached printed no pid")?;
    let result = check_detached(pid, &lock, &log);
    // SAFETY: SIGKILL to the stand-in daemon this test started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    result
}

fn check_detached(pid: i32, lock: &Path, log: &Path) -> Result<()> {
    // The pid runs `setsid` for a moment before it execs the daemon.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))?;
        if comm.trim() == "sleep" {
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "pid {pid} is {comm:?}, not the daemon"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut fds: Vec<(u32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))?
        .map(|e| {
            let e = e?;
            let target = std::fs::read_link(e.path())?;
            Ok((
                e.file_name().to_string_lossy().parse()?,
                target.display().to_string(),
            ))
        })
        .collect::<Result<_>>()?;
    fds.sort();
    let log = log.display().to_string();
    ensure!(
        fds == [(0, "/dev/null".into()), (1, log.clone()), (2, log)],
        "the daemon's fds: {fds:?}"
    );
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let session: i32 = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(3))
        .context("no session in stat")?
        .parse()?;
    ensure!(
        session == pid,
        "the daemon is in session {session}, not its own"
    );
    // The caller is gone: with nothing else holding the lock, it can be taken at once.
    let free = Command::new("flock")
        .args(["-n".as_ref(), lock.as_os_str(), "true".as_ref()])
        .status()?;
    ensure!(
        free.success(),
        "the caller's flock is still held while the daemon runs"
    );
    Ok(())
}
