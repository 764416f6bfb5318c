//! Nothing is left behind after a panic inside a test body or a Ctrl-C: a child copy of this test
//! binary starts a stack, records what it started, and panics (or waits for SIGINT). SIGINT, SIGTERM
//! and SIGHUP run the interrupt hooks, clean up, and exit with 128 + the signal.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use faultline_infra::reaper::{ManagedChild, ManagedDir};
use faultline_infra::{backend::start, reaper, signals, BackendKind, StackSpec};
use faultline_tests::backend_available;
use faultline_tests::leaks::{
    child_args, record_resources, spawn_child, still_present, wait_until_ready,
};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "run as a child by the cleanup tests"]
async fn child_starts_a_stack_then_panics() {
    let Some((backend, file)) = child_args() else {
        return;
    };
    let stack = start(backend.parse().unwrap(), &StackSpec::single())
        .await
        .expect("stack starts");
    record_resources(&file).unwrap();
    let _keep = stack;
    panic!("deliberate panic with a running stack");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "run as a child by the cleanup tests"]
async fn child_starts_a_stack_then_waits_for_sigint() {
    let Some((backend, file)) = child_args() else {
        return;
    };
    signals::install_signal_handlers();
    let _stack = start(backend.parse().unwrap(), &StackSpec::single())
        .await
        .expect("stack starts");
    record_resources(&file).unwrap();
    std::fs::write(file.with_extension("ready"), b"").unwrap();
    tokio::time::sleep(Duration::from_secs(300)).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "run as a child by the cleanup tests"]
async fn child_starts_a_cluster_and_is_interrupted_while_it_starts() {
    let Some((backend, file)) = child_args() else {
        return;
    };
    signals::install_signal_handlers();
    let spec = StackSpec::cluster();
    // The parent learns the run's label first: the containers have no ids yet when it strikes.
    let label = format!("{}={}", faultline_infra::containers::RUN_LABEL, spec.run_id);
    std::fs::write(
        &file,
        format!("labelled {label}\nnetwork faultline-{}\n", spec.run_id),
    )
    .unwrap();
    let started = start(backend.parse().unwrap(), &spec).await;
    // The SIGINT's reaping can make the start fail (its containers are removed under it): the
    // interrupt, not that failure, ends this process.
    signals::defer_to_interrupt();
    let _stack = started.expect("stack starts");
    std::fs::write(file.with_extension("ready"), b"").unwrap();
    tokio::time::sleep(Duration::from_secs(300)).await;
}

#[test]
#[ignore = "run as a child by the cleanup tests"]
fn child_holds_a_process_and_a_dir_until_a_signal() {
    let Some((_, file)) = child_args() else {
        return;
    };
    signals::install_signal_handlers();
    let dir = ManagedDir::new("signal-test").unwrap();
    let mut sleep = std::process::Command::new("sleep");
    sleep.arg("300");
    let child = ManagedChild::spawn("sleeper", sleep, &dir.path().join("sleep.log")).unwrap();
    let (hook_file, pid) = (file.with_extension("hook"), child.pid());
    let _hook = signals::on_interrupt(move |i| {
        // Hooks run before the reaping: the process is still there to be asked about.
        // SAFETY: signal 0 only probes for existence.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        std::fs::write(&hook_file, format!("{} {} {alive}", i.name(), i.exit_code)).unwrap();
    });
    record_resources(&file).unwrap();
    std::fs::write(file.with_extension("ready"), b"").unwrap();
    std::thread::sleep(Duration::from_secs(300));
    drop((child, dir));
}

/// SIGINT exits 130, SIGTERM 143, SIGHUP 129; each after the hook ran (with the stack still up)
/// and everything registered is gone.
#[test]
fn a_signal_runs_the_hooks_cleans_up_and_exits_128_plus_the_signal() -> Result<()> {
    for (signal, name, code) in [
        (libc::SIGINT, "SIGINT", 130),
        (libc::SIGTERM, "SIGTERM", 143),
        (libc::SIGHUP, "SIGHUP", 129),
    ] {
        let dir = tempfile_dir()?;
        let file = dir.join("resources.txt");
        let mut child = spawn_child(
            "cleanup::child_holds_a_process_and_a_dir_until_a_signal",
            "none",
            &file,
        )?;
        wait_until_ready(&mut child, &file, Duration::from_secs(30))?;
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait()?;
        ensure!(
            status.code() == Some(code),
            "{name}: child exited with {status:?}, expected {code}"
        );
        let hook = std::fs::read_to_string(file.with_extension("hook"))
            .with_context(|| format!("{name}: the interrupt hook did not run"))?;
        ensure!(
            hook == format!("{name} {code} true"),
            "{name}: hook wrote {hook:?}"
        );
        let (total, alive) = still_present(&file)?;
        ensure!(
            total == 2,
            "{name}: child recorded {total} resources, expected 2"
        );
        ensure!(alive.is_empty(), "{name}: left behind: {alive:?}");
        std::fs::remove_dir_all(dir)?;
    }
    Ok(())
}

async fn nothing_left_after_panic(kind: BackendKind) -> Result<()> {
    if !backend_available(kind).await {
        return Ok(());
    }
    let dir = tempfile_dir()?;
    let file = dir.join("resources.txt");
    let status = tokio::task::spawn_blocking({
        let file = file.clone();
        move || {
            spawn_child(
                "cleanup::child_starts_a_stack_then_panics",
                kind.as_str(),
                &file,
            )?
            .wait()
            .context("wait")
        }
    })
    .await??;
    ensure!(
        !status.success(),
        "the child test should have failed by panicking"
    );
    let (total, alive) = still_present(&file)?;
    ensure!(total >= 2, "child recorded only {total} resources");
    ensure!(alive.is_empty(), "left behind after a panic: {alive:?}");
    std::fs::remove_dir_all(dir)?;
    Ok(())
}

async fn nothing_left_after_sigint(kind: BackendKind) -> Result<()> {
    if !backend_available(kind).await {
        return Ok(());
    }
    let dir = tempfile_dir()?;
    let file = dir.join("resources.txt");
    let mut child = spawn_child(
        "cleanup::child_starts_a_stack_then_waits_for_sigint",
        kind.as_str(),
        &file,
    )?;
    wait_until_ready(&mut child, &file, Duration::from_secs(120))?;
    // SAFETY: SIGINT to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = tokio::task::spawn_blocking(move || child.wait()).await??;
    ensure!(
        status.code() == Some(130),
        "child exited with {status:?}, expected 130 after SIGINT"
    );
    let (total, alive) = still_present(&file)?;
    ensure!(total >= 2, "child recorded only {total} resources");
    ensure!(alive.is_empty(), "left behind after SIGINT: {alive:?}");
    std::fs::remove_dir_all(dir)?;
    Ok(())
}

/// Ctrl-C while containers are being created and started, before any is tracked by id.
#[tokio::test(flavor = "multi_thread")]
async fn containers_leave_nothing_after_sigint_during_start() -> Result<()> {
    if !backend_available(BackendKind::Containers).await {
        return Ok(());
    }
    let dir = tempfile_dir()?;
    let file = dir.join("resources.txt");
    let mut child = spawn_child(
        "cleanup::child_starts_a_cluster_and_is_interrupted_while_it_starts",
        "containers",
        &file,
    )?;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let label = loop {
        if let Some(l) = std::fs::read_to_string(&file).ok().and_then(|t| {
            t.lines()
                .next()
                .and_then(|l| l.strip_prefix("labelled "))
                .map(str::to_string)
        }) {
            break l;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "child never wrote its label"
        );
        ensure!(child.try_wait()?.is_none(), "child exited early");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let created = loop {
        let ids = reaper::labelled_containers(&label);
        if !ids.is_empty() {
            break ids.len();
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "no container with {label} appeared"
        );
        ensure!(
            child.try_wait()?.is_none(),
            "child exited before creating a container"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    ensure!(
        !file.with_extension("ready").exists(),
        "the stack was already up: this test needs a slower start"
    );
    // SAFETY: SIGINT to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = tokio::task::spawn_blocking(move || child.wait()).await??;
    ensure!(
        status.code() == Some(130),
        "child exited with {status:?}, expected 130 after SIGINT"
    );
    let (total, alive) = still_present(&file)?;
    ensure!(
        total == 2,
        "expected the label and the network in the record, got {total}"
    );
    ensure!(
        alive.is_empty(),
        "left behind after SIGINT during start ({created} container(s) existed): {alive:?}"
    );
    std::fs::remove_dir_all(dir)?;
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join(format!(
        "faultline-leakcheck-{}",
        faultline_infra::spec::new_run_id()
    ));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_leave_nothing_after_a_panic() -> Result<()> {
    nothing_left_after_panic(BackendKind::Processes).await
}

#[tokio::test(flavor = "multi_thread")]
async fn containers_leave_nothing_after_a_panic() -> Result<()> {
    nothing_left_after_panic(BackendKind::Containers).await
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_leave_nothing_after_sigint() -> Result<()> {
    nothing_left_after_sigint(BackendKind::Processes).await
}

#[tokio::test(flavor = "multi_thread")]
async fn containers_leave_nothing_after_sigint() -> Result<()> {
    nothing_left_after_sigint(BackendKind::Containers).await
}
