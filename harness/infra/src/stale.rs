//! Temp directories whose harness died without cleaning up (SIGKILL, OOM killer) are removed by the
//! next `faultline` start.
//!
//! Every [`ManagedDir`](crate::reaper::ManagedDir) holds an owner record, [`OWNER_FILE`]: the boot
//! id, the owning process's pid and that process's start time (field 22 of `/proc/<pid>/stat`). The
//! owner is alive only if all three still match a running process: a pid recycled by the kernel has
//! another start time, and after a reboot the boot id differs. Directories without a record (another
//! tool's, or one still being created) are never touched.

use std::fmt;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{IoContext, Result};

/// The owner record's file name inside a managed temp directory.
pub const OWNER_FILE: &str = ".faultline-owner";
/// Every managed temp directory's name starts with this.
pub const DIR_PREFIX: &str = "faultline-";

/// The process that owns a temp directory, as recorded in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub boot_id: String,
    pub pid: i32,
    /// Clock ticks after boot at which the process started.
    pub start_time: u64,
}

impl Owner {
    /// This process.
    pub fn current() -> io::Result<Self> {
        Self::of(std::process::id() as i32)
    }

    /// The process running as `pid` now (an error if there is none).
    pub fn of(pid: i32) -> io::Result<Self> {
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")?
            .trim()
            .to_string();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
        // What follows is field 3 (state) onwards, so the start time, field 22, is the 20th.
        let start_time = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(19))
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::other(format!("/proc/{pid}/stat has no start time")))?;
        Ok(Self {
            boot_id,
            pid,
            start_time,
        })
    }

    /// True while the recorded process still runs (a zombie has finished).
    pub fn is_alive(&self) -> bool {
        Self::of(self.pid).is_ok_and(|now| now == *self) && !crate::reaper::is_zombie(self.pid)
    }

    fn render(&self) -> String {
        format!(
            "boot_id {}\npid {}\nstart_time {}\n",
            self.boot_id, self.pid, self.start_time
        )
    }

    fn parse(text: &str) -> Option<Self> {
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
                .map(str::trim)
        };
        Some(Self {
            boot_id: field("boot_id")?.to_string(),
            pid: field("pid")?.parse().ok()?,
            start_time: field("start_time")?.parse().ok()?,
        })
    }

    /// The record in `dir`, if it has a readable one.
    pub fn recorded_in(dir: &Path) -> Option<Self> {
        Self::parse(&std::fs::read_to_string(dir.join(OWNER_FILE)).ok()?)
    }
}

/// Records this process as `dir`'s owner. Written under a temporary name and renamed, so a record
/// is never seen half written.
pub fn write_owner_record(dir: &Path) -> Result<()> {
    let owner = Owner::current().at("/proc/self/stat")?;
    let tmp = dir.join(format!("{OWNER_FILE}.tmp"));
    std::fs::write(&tmp, owner.render()).at(&tmp)?;
    std::fs::rename(&tmp, dir.join(OWNER_FILE)).at(dir.join(OWNER_FILE))
}

/// Marks `dir` as no longer owned by a run (kept on purpose): it will not be reaped.
pub fn remove_owner_record(dir: &Path) -> Result<()> {
    let record = dir.join(OWNER_FILE);
    match std::fs::remove_file(&record) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err::<(), _>(e).at(record),
        _ => Ok(()),
    }
}

/// One stale directory removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaped {
    pub path: PathBuf,
    pub owner_pid: i32,
    /// Sum of the sizes of the files it held.
    pub bytes: u64,
}

impl fmt::Display for Reaped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "removed {}, left by faultline pid {} which is gone: {} bytes ({:.1} MB)",
            self.path.display(),
            self.owner_pid,
            self.bytes,
            self.bytes as f64 / 1e6
        )
    }
}

/// What a sweep did.
#[derive(Debug, Default)]
pub struct Sweep {
    pub removed: Vec<Reaped>,
    /// Stale directories (or the temp dir itself) that could not be handled, with why.
    pub failed: Vec<(PathBuf, String)>,
}

/// Removes the stale directories in the system temp directory (`$TMPDIR`, else `/tmp`).
pub fn reap_stale_dirs() -> Sweep {
    reap_stale_dirs_in(&std::env::temp_dir())
}

/// Removes every `faultline-*` directory in `root` that belongs to this user, holds an owner record
/// and whose owner is gone. Nothing else is touched.
pub fn reap_stale_dirs_in(root: &Path) -> Sweep {
    let mut sweep = Sweep::default();
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) => {
            sweep.failed.push((root.to_path_buf(), e.to_string()));
            return sweep;
        }
    };
    // SAFETY: geteuid(2) cannot fail.
    let me = unsafe { libc::geteuid() };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = entry.file_name().to_string_lossy().starts_with(DIR_PREFIX)
            && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir() && m.uid() == me);
        if !ours {
            continue;
        }
        let Some(owner) = Owner::recorded_in(&path) else {
            continue;
        };
        if owner.is_alive() {
            continue;
        }
        match claim_and_remove(&path) {
            Ok(Some(bytes)) => sweep.removed.push(Reaped {
                path,
                owner_pid: owner.pid,
                bytes,
            }),
            // Another faultline start claimed it first.
            Ok(None) => {}
            Err(e) => sweep.failed.push((path, e.to_string())),
        }
    }
    sweep.removed.sort_by(|a, b| a.path.cmp(&b.path));
    sweep
}

/// Renames `dir` out of the way (only one of several concurrent sweeps wins the rename; the new
/// name keeps the prefix and the record, so a sweep that dies half way is finished by the next),
/// then removes it. `None` if it was gone already.
fn claim_and_remove(dir: &Path) -> io::Result<Option<u64>> {
    let mut claimed = dir.as_os_str().to_owned();
    claimed.push(format!(".reaping-{}", std::process::id()));
    let claimed = PathBuf::from(claimed);
    match std::fs::rename(dir, &claimed) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        r => r?,
    }
    let bytes = size_of_tree(&claimed);
    // The dead run's processes (SIGKILLed with it) may still be writing for a moment.
    let mut attempt = 0;
    loop {
        match std::fs::remove_dir_all(&claimed) {
            Ok(()) => return Ok(Some(bytes)),
            Err(e) if attempt < 5 => {
                tracing::debug!("removing {}: {e}; retrying", claimed.display());
                attempt += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("{}: {e}", claimed.display()),
                ))
            }
        }
    }
}

/// Total size of the files under `dir` (symlinks not followed); unreadable entries count 0.
fn size_of_tree(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.path().symlink_metadata() {
            Ok(m) if m.is_dir() => size_of_tree(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_names_a_live_owner() {
        let me = Owner::current().unwrap();
        assert_eq!(me.pid, std::process::id() as i32);
        assert_eq!(Owner::parse(&me.render()), Some(me.clone()));
        assert!(me.is_alive());
        let recycled = Owner {
            start_time: me.start_time + 1,
            ..me.clone()
        };
        assert!(!recycled.is_alive());
        let rebooted = Owner {
            boot_id: "another-boot".into(),
            ..me
        };
        assert!(!rebooted.is_alive());
        assert_eq!(Owner::parse("pid 12\n"), None);
    }
}
