//! Temp dirs of a harness that died without cleaning up (SIGKILL) are removed by the next sweep,
//! and nothing else is: not a live owner's dir, not a dir without an owner record, not a dir
//! named otherwise, not a symlink. A recycled pid (same pid, another start time) is not the owner.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Result};
use faultline_infra::reaper::ManagedDir;
use faultline_infra::stale::{reap_stale_dirs_in, write_owner_record, Owner, Reaped, OWNER_FILE};

/// A process that existed and has exited: its recorded identity.
fn dead_owner() -> Result<Owner> {
    let mut child = Command::new("sleep").arg("30").spawn()?;
    let owner = Owner::of(child.id() as i32)?;
    child.kill()?;
    child.wait()?;
    Ok(owner)
}

fn dir_with_record(root: &Path, name: &str, owner: Option<&Owner>) -> Result<PathBuf> {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("postgres/data"))?;
    std::fs::write(dir.join("postgres/data/base"), vec![7u8; 5000])?;
    std::fs::write(dir.join("kafka.log"), vec![1u8; 1234])?;
    if let Some(o) = owner {
        std::fs::write(
            dir.join(OWNER_FILE),
            format!(
                "boot_id {}\npid {}\nstart_time {}\n",
                o.boot_id, o.pid, o.start_time
            ),
        )?;
    }
    Ok(dir)
}

#[test]
fn a_sweep_removes_only_dirs_whose_owner_is_gone() -> Result<()> {
    let root = tempfile::tempdir()?;
    let root = root.path();
    let dead = dead_owner()?;
    let me = Owner::current()?;
    let recycled = Owner {
        start_time: me.start_time + 1,
        ..me.clone()
    };
    let stale = dir_with_record(root, "faultline-run1-abc", Some(&dead))?;
    let reused = dir_with_record(root, "faultline-run2-def", Some(&recycled))?;
    let live = dir_with_record(root, "faultline-run3-ghi", None)?;
    write_owner_record(&live)?;
    let unrecorded = dir_with_record(root, "faultline-run4-jkl", None)?;
    let foreign = dir_with_record(root, "other-run5", Some(&dead))?;
    let link = root.join("faultline-run6-link");
    symlink(&foreign, &link)?;
    let file = root.join("faultline-run7-file");
    std::fs::write(&file, b"not a dir")?;

    let record_len = |o: &Owner| {
        format!(
            "boot_id {}\npid {}\nstart_time {}\n",
            o.boot_id, o.pid, o.start_time
        )
        .len() as u64
    };
    let sweep = reap_stale_dirs_in(root);
    ensure!(sweep.failed.is_empty(), "failures: {:?}", sweep.failed);
    ensure!(
        sweep.removed
            == [
                Reaped {
                    path: stale.clone(),
                    owner_pid: dead.pid,
                    bytes: 6234 + record_len(&dead),
                },
                Reaped {
                    path: reused.clone(),
                    owner_pid: me.pid,
                    bytes: 6234 + record_len(&recycled),
                },
            ],
        "removed: {:?}",
        sweep.removed
    );
    let message = sweep.removed[0].to_string();
    ensure!(
        message.contains(&stale.display().to_string())
            && message.contains(&format!("{} bytes", 6234 + record_len(&dead))),
        "{message}"
    );
    ensure!(!stale.exists() && !reused.exists());
    for kept in [&live, &unrecorded, &foreign, &link, &file] {
        ensure!(
            kept.symlink_metadata().is_ok(),
            "{} was removed",
            kept.display()
        );
    }
    ensure!(foreign.join("kafka.log").exists());
    // Nothing is left half way either (the claimed `.reaping-*` names are gone too).
    let mut left: Vec<String> = std::fs::read_dir(root)?
        .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_>>()?;
    left.sort();
    ensure!(
        left == [
            "faultline-run3-ghi",
            "faultline-run4-jkl",
            "faultline-run6-link",
            "faultline-run7-file",
            "other-run5"
        ],
        "{left:?}"
    );
    // A second sweep finds nothing more.
    let again = reap_stale_dirs_in(root);
    ensure!(
        again.removed.is_empty() && again.failed.is_empty(),
        "{again:?}"
    );
    Ok(())
}

#[test]
fn a_managed_dir_records_its_owner_and_a_kept_one_drops_the_record() -> Result<()> {
    let dir = ManagedDir::new("stale-test")?;
    ensure!(Owner::recorded_in(dir.path()) == Some(Owner::current()?));
    let kept = dir.keep()?;
    let record_gone = !kept.join(OWNER_FILE).exists();
    std::fs::remove_dir_all(&kept)?;
    ensure!(record_gone, "a kept dir still has its owner record");
    Ok(())
}
