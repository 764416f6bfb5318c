//! Everything the harness starts is registered here and cleaned up whatever happens.
//!
//! - Normal end and panics: the owners' `Drop` kill children and remove containers and dirs.
//! - Ctrl-C / SIGTERM / SIGHUP / a closed output: [`crate::signals`] runs [`reap_all`], then exits.
//! - The harness itself SIGKILLed: children are started with `PR_SET_PDEATHSIG=SIGKILL` from one
//!   long-lived spawner thread (the signal fires when the *thread* that forked dies), so they die too;
//!   its temp dirs carry an owner record and the next start removes them ([`crate::stale`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::error::{InfraError, IoContext, Result};

/// Something to clean up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Pid(i32),
    Container(String),
    /// Every container carrying this `key=value` label: registered before containers are created,
    /// so an interrupt while they are still being created or started (ids not known yet) finds them.
    LabelledContainers(String),
    /// A Docker network; removed after the containers.
    Network(String),
    Dir(PathBuf),
}

fn registry() -> &'static Mutex<BTreeMap<u64, Resource>> {
    static REG: OnceLock<Mutex<BTreeMap<u64, Resource>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// A registration; dropping it removes the entry (the owner cleaned up itself).
#[derive(Debug)]
pub struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut reg) = registry().lock() {
            reg.remove(&self.0);
        }
    }
}

/// Registers a resource to be reaped on Ctrl-C/SIGTERM.
pub fn register(res: Resource) -> Registration {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let key = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    registry()
        .lock()
        .expect("reaper registry poisoned")
        .insert(key, res);
    if CLOSED.load(std::sync::atomic::Ordering::SeqCst) {
        // The process is ending: what a task still starting up creates now goes at once.
        reap_all();
    }
    Registration(key)
}

/// Set by [`close`]: the process is ending.
static CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The directories removed since [`close`]: a task still starting up may write into one after it
/// was removed (`initdb`, `kafka-storage format`, a `create_dir_all` all recreate missing parents),
/// so [`sweep_until_settled`] removes them again.
fn swept() -> &'static Mutex<Vec<PathBuf>> {
    static SWEPT: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    SWEPT.get_or_init(|| Mutex::new(Vec::new()))
}

/// From now on every resource registered is reaped as soon as it is registered: the process is
/// ending (a signal), and a task still starting the stack must not leave a directory or a process
/// behind it once the reaping has begun.
pub fn close() {
    CLOSED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// For a process about to exit after [`close`]: reaps, then keeps reaping and removing the
/// directories already removed once, every `pause`, until a round finds nothing left (or after
/// `rounds` rounds). A task caught between creating a resource and registering it, or writing into
/// a directory that was just removed, is outrun this way rather than by one fixed wait.
pub fn sweep_until_settled(pause: Duration, rounds: usize) {
    reap_all();
    for _ in 0..rounds {
        std::thread::sleep(pause);
        let registered_now = !registered().is_empty();
        reap_all();
        let returned: Vec<PathBuf> = swept()
            .lock()
            .map(|s| s.iter().filter(|d| d.exists()).cloned().collect())
            .unwrap_or_default();
        for dir in &returned {
            let _ = std::fs::remove_dir_all(dir);
        }
        if !registered_now && returned.is_empty() {
            return;
        }
    }
}

/// What is registered now (for tests and leak reports).
pub fn registered() -> Vec<Resource> {
    registry()
        .lock()
        .map(|r| r.values().cloned().collect())
        .unwrap_or_default()
}

/// Kills every registered process, removes every registered container and directory.
pub fn reap_all() {
    let all: Vec<Resource> = registry()
        .lock()
        .map(|mut r| std::mem::take(&mut *r).into_values().collect())
        .unwrap_or_default();
    for res in &all {
        if let Resource::Pid(pid) = res {
            // SAFETY: kill(2) on the process group of a child we started (each has its own group);
            // a stale id is harmless (ESRCH).
            unsafe { libc::kill(-*pid, libc::SIGKILL) };
        }
    }
    // The caller usually exits right after: make sure the killed processes are really gone first.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    for res in &all {
        if let Resource::Pid(pid) = res {
            while !is_gone(*pid) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    for res in &all {
        match res {
            Resource::Container(id) => docker(&["rm", "-f", "-v", id]),
            Resource::LabelledContainers(label) => {
                // A create already sent to the daemon may land just after the first sweep.
                for _ in 0..2 {
                    for id in labelled_containers(label) {
                        docker(&["rm", "-f", "-v", &id]);
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
            }
            _ => {}
        }
    }
    for res in all {
        match res {
            Resource::Network(name) => docker(&["network", "rm", &name]),
            Resource::Dir(dir) => {
                let _ = std::fs::remove_dir_all(&dir);
                if CLOSED.load(std::sync::atomic::Ordering::SeqCst) {
                    if let Ok(mut s) = swept().lock() {
                        s.push(dir);
                    }
                }
            }
            _ => {}
        }
    }
}

/// True once `pid` has exited: reaped here if it is our child, else no longer running.
fn is_gone(pid: i32) -> bool {
    let mut status = 0;
    // SAFETY: waitpid(2) with WNOHANG on one pid; it never blocks.
    match unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } {
        0 => false,
        r if r == pid => true,
        // Not our child (or reaped elsewhere meanwhile): gone unless it still runs.
        // SAFETY: signal 0 only probes for existence.
        _ => (unsafe { libc::kill(pid, 0) }) != 0 || is_zombie(pid),
    }
}

/// True when `pid` has exited but not been reaped yet (or /proc no longer knows it).
pub fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

/// Ids of the containers (running or not) with a `key=value` label.
pub fn labelled_containers(label: &str) -> Vec<String> {
    Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--no-trunc",
            "--filter",
            &format!("label={label}"),
        ])
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn docker(args: &[&str]) {
    let _ = Command::new("docker")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Spawns `cmd` from the long-lived spawner thread with `PR_SET_PDEATHSIG=SIGKILL`, in its own
/// process group (so a terminal's Ctrl-C reaches the harness, which then reaps it).
fn spawn_guarded(mut cmd: Command) -> std::io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("faultline-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("spawn the spawner thread");
        Mutex::new(tx)
    });
    cmd.process_group(0);
    // SAFETY: prctl is async-signal-safe; runs in the child between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (reply_tx, reply_rx) = mpsc::channel();
    tx.lock()
        .expect("spawner poisoned")
        .send((cmd, reply_tx))
        .map_err(|_| std::io::Error::other("spawner thread gone"))?;
    reply_rx
        .recv()
        .map_err(|_| std::io::Error::other("spawner thread gone"))?
}

/// A child process the harness owns: output goes to a log file; dropping it SIGKILLs it.
#[derive(Debug)]
pub struct ManagedChild {
    name: String,
    child: Child,
    log: PathBuf,
    _reg: Registration,
}

impl ManagedChild {
    /// Starts `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(name: impl Into<String>, mut cmd: Command, log: &Path) -> Result<Self> {
        let name = name.into();
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .at(log)?;
        let err = out.try_clone().at(log)?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let program = cmd.get_program().to_string_lossy().into_owned();
        let child = spawn_guarded(cmd).map_err(|e| InfraError::Process {
            service: name.clone(),
            message: format!("could not start `{program}`: {e}"),
            log_tail: String::new(),
        })?;
        let reg = register(Resource::Pid(child.id() as i32));
        Ok(Self {
            name,
            child,
            log: log.to_path_buf(),
            _reg: reg,
        })
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// `Some(status)` if it has exited.
    pub fn try_exit(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends a signal (SIGSTOP, SIGCONT, SIGTERM...) to the child alone.
    pub fn signal(&self, sig: i32) -> Result<()> {
        self.send(self.pid(), sig)
    }

    /// kill(2) of `target` (the child's pid, or its group as the negated pid) with `sig`.
    fn send(&self, target: i32, sig: i32) -> Result<()> {
        // SAFETY: kill(2) on our own child or the process group it leads.
        if unsafe { libc::kill(target, sig) } != 0 {
            return Err(InfraError::Process {
                service: self.name.clone(),
                message: format!("kill({target}, {sig}): {}", std::io::Error::last_os_error()),
                log_tail: String::new(),
            });
        }
        Ok(())
    }

    /// Sends a signal to its whole process group: the child and everything it started that did
    /// not leave the group (a wrapper script's pipeline, a postmaster's backends).
    pub fn signal_group(&self, sig: i32) -> Result<()> {
        self.send(-self.pid(), sig)
    }

    /// SIGKILL its whole process group and reap. The group is killed even when the child itself
    /// has exited already: a wrapper (`sh -c`, a launcher script) may die first and leave the
    /// process it started running. Linux never hands out a group's id as a new pid while the
    /// group has members, so the id cannot name another process's group.
    pub fn kill(&mut self) {
        // SAFETY: kill(2) on the process group this child leads; ESRCH when it is empty.
        unsafe { libc::kill(-self.pid(), libc::SIGKILL) };
        let _ = self.child.wait();
    }

    /// SIGTERM to the whole group, wait up to `grace` for the child, then SIGKILL the group
    /// (which also ends whatever the child left behind).
    pub fn terminate(&mut self, grace: Duration) {
        let _ = self.signal_group(libc::SIGCONT);
        let _ = self.signal_group(libc::SIGTERM);
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if self.try_exit().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
    }

    /// The last `n` lines of its log.
    pub fn log_tail(&self, n: usize) -> String {
        tail_file(&self.log, n)
    }
}

impl Drop for ManagedChild {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last `n` lines of a file (empty if unreadable).
pub fn tail_file(path: &Path, n: usize) -> String {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A temp directory removed on drop and on Ctrl-C; if its process is SIGKILLed, by the next start
/// ([`crate::stale`]).
#[derive(Debug)]
pub struct ManagedDir {
    dir: Option<tempfile::TempDir>,
    _reg: Registration,
}

impl ManagedDir {
    /// Creates `$TMPDIR/faultline-<label>-XXXX`, mode 0755 so a service user can reach its subdirs,
    /// holding this process's owner record.
    pub fn new(label: &str) -> Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}{label}-", crate::stale::DIR_PREFIX))
            .tempdir()
            .at(std::env::temp_dir())?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .at(dir.path())?;
        crate::stale::write_owner_record(dir.path())?;
        let reg = register(Resource::Dir(dir.path().to_path_buf()));
        Ok(Self {
            dir: Some(dir),
            _reg: reg,
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("dir present until drop").path()
    }

    /// Keeps the directory on disk (a failure bundle), without its owner record so no later start
    /// reaps it; returns where it is.
    pub fn keep(mut self) -> Result<PathBuf> {
        let dir = self.dir.take().expect("dir present until drop").keep();
        crate::stale::remove_owner_record(&dir)?;
        Ok(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_child_is_killed_and_unregistered() {
        let dir = ManagedDir::new("reaper-test").unwrap();
        let log = dir.path().join("sleep.log");
        let child =
            ManagedChild::spawn("sleeper", Command::new("sleep").arg("30").tap(), &log).unwrap();
        let pid = child.pid();
        assert!(registered().contains(&Resource::Pid(pid)));
        drop(child);
        // SAFETY: probing a pid with signal 0.
        assert_ne!(
            unsafe { libc::kill(pid, 0) },
            0,
            "child {pid} still alive after drop"
        );
        assert!(!registered().contains(&Resource::Pid(pid)));
        let path = dir.path().to_path_buf();
        drop(dir);
        assert!(!path.exists());
    }

    trait Tap {
        fn tap(&mut self) -> Command;
    }
    impl Tap for Command {
        fn tap(&mut self) -> Command {
            std::mem::replace(self, Command::new("true"))
        }
    }
}
