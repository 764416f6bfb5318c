//! One live run per output directory: `<out>/.faultline.lock`, held with `flock` for the suite's
//! lifetime. The kernel drops the lock when the process dies, however it dies, so a stale file
//! never blocks a later run; a live one makes the second run refuse instead of truncating the
//! first one's suite report.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::{Result, RunnerError};

/// The lock file's name inside `--out`.
pub(crate) const LOCK_FILE: &str = ".faultline.lock";

/// Held while a suite writes into its `--out`; released on drop (or by the kernel on exit).
pub(crate) struct OutLock {
    _file: File,
}

impl OutLock {
    /// Takes the lock on `out` (created if missing), or says which live run holds it.
    pub(crate) fn acquire(out: &Path) -> Result<Self> {
        let io = |path: PathBuf| move |source| RunnerError::Io { path, source };
        std::fs::create_dir_all(out).map_err(io(out.to_path_buf()))?;
        let path = out.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io(path.clone()))?;
        // SAFETY: flock on a descriptor this function owns; no memory is passed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another faultline run".to_string()
            } else {
                format!("another faultline run (pid {holder})")
            };
            return Err(RunnerError::Usage(format!(
                "--out {} is in use by {who}; wait for it to finish or pass another --out",
                out.display()
            )));
        }
        file.set_len(0).map_err(io(path.clone()))?;
        file.rewind().map_err(io(path.clone()))?;
        write!(file, "{}", std::process::id()).map_err(io(path))?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_suite_on_the_same_out_is_refused_until_the_first_ends() {
        let out = tempfile::tempdir().unwrap();
        let first = OutLock::acquire(out.path()).unwrap();
        // flock locks belong to the open file description: a second open conflicts even in-process.
        let err = OutLock::acquire(out.path())
            .err()
            .expect("second lock refused");
        let msg = err.to_string();
        assert!(
            msg.contains("is in use by another faultline run (pid "),
            "{msg}"
        );
        assert!(msg.contains(&std::process::id().to_string()), "{msg}");
        drop(first);
        OutLock::acquire(out.path()).expect("free again once the first run ended");
    }
}
