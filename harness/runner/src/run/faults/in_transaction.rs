//! Finding a worker for a worker fault, and freezing it inside one of its own Postgres
//! transactions for `in_transaction = true`.

use std::time::Duration;

use faultline_scenario::WorkerSel;

use super::fault::FaultEnv;
use crate::error::{Result, RunnerError};

pub(super) fn no_worker(id: &str, sel: &WorkerSel) -> RunnerError {
    RunnerError::Fault {
        id: id.into(),
        message: format!("no live worker matches {sel:?}"),
    }
}

/// The worker a selector means now.
pub(super) fn resolve(env: &FaultEnv<'_>, sel: &WorkerSel, pick: u64, id: &str) -> Result<u32> {
    env.workers
        .lock()
        .expect("worker pool lock")
        .resolve(sel, pick)
        .ok_or_else(|| no_worker(id, sel))
}

/// How long an `in_transaction` fault waits for the worker to open a transaction.
const TRANSACTION_WAIT: Duration = Duration::from_secs(10);

/// What the target of an `in_transaction` fault says when no transaction was seen in time (the
/// run's report turns it into the `in_transaction` warning).
pub(crate) const NO_TRANSACTION_SEEN: &str = "no transaction seen in 10 s";

/// Leaves the worker `sel` means frozen (SIGSTOP) inside an open Postgres transaction of its own,
/// found in `pg_stat_activity` by its application name. A session counts as inside a transaction
/// when it is idle in one, or runs a statement of a transaction that began before it (a lone
/// autocommit statement does not count). After the stop the session must settle idle in that same
/// transaction; one that commits or ends instead is let go (SIGCONT) and the watch goes on. A
/// named worker is watched alone (one that is gone is an error); `any` watches every live,
/// unpaused worker and takes one seen inside a transaction (the seed's pick among those seen at
/// once), so a worker that holds no partitions is never the one waited for. Returns the worker and a note for the
/// fault's target. If none is seen within [`TRANSACTION_WAIT`], the worker is frozen wherever it
/// is and the note says so; the caller then kills it or leaves it paused.
pub(super) async fn freeze_in_transaction(
    env: &FaultEnv<'_>,
    sel: &WorkerSel,
    pick: u64,
    id: &str,
) -> Result<(u32, String)> {
    const OPEN: &str = "SELECT pid, xact_start::text, left(query, 40), application_name FROM pg_stat_activity \
                        WHERE application_name = ANY($1) \
                        AND (state = 'idle in transaction' OR (state = 'active' AND xact_start < query_start)) \
                        ORDER BY application_name, pid";
    const STATE: &str =
        "SELECT state FROM pg_stat_activity WHERE pid = $1 AND xact_start::text = $2";
    let pg = env.stack.postgres().connect().await?;
    let began = tokio::time::Instant::now();
    let deadline = began + TRANSACTION_WAIT;
    let mut n = resolve(env, sel, pick, id)?;
    let mut let_go = 0u32;
    while tokio::time::Instant::now() < deadline {
        let watched: Vec<(u32, String)> = {
            let pool = env.workers.lock().expect("worker pool lock");
            match sel {
                WorkerSel::Any => pool
                    .unpaused()
                    .into_iter()
                    .map(|w| (w, pool.pg_app_name(w)))
                    .collect(),
                WorkerSel::Id(_) if !pool.is_live(n) => {
                    drop(pool);
                    n = resolve(env, sel, pick, id)?;
                    continue;
                }
                WorkerSel::Id(_) => vec![(n, pool.pg_app_name(n))],
            }
        };
        let apps: Vec<&str> = watched.iter().map(|(_, a)| a.as_str()).collect();
        let rows = pg.query(OPEN, &[&apps]).await?;
        if rows.is_empty() {
            tokio::time::sleep(Duration::from_millis(2)).await;
            continue;
        }
        let row = &rows[(pick % rows.len() as u64) as usize];
        let (backend, started, query, app): (i32, String, Option<String>, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let Some(&(found, _)) = watched.iter().find(|(_, a)| *a == app) else {
            continue;
        };
        n = found;
        {
            let mut pool = env.workers.lock().expect("worker pool lock");
            if !pool.is_live(n) {
                continue;
            }
            pool.pause(n)?;
        }
        // A statement already sent still runs: wait until the session settles (a statement
        // waiting on another worker's lock may take a while; 1 s of that counts as open).
        let mut open = true;
        for _ in 0..200 {
            match pg.query_opt(STATE, &[&backend, &started]).await? {
                None => {
                    open = false;
                    break;
                }
                Some(r)
                    if r.get::<_, Option<String>>(0).as_deref() == Some("idle in transaction") =>
                {
                    break
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
        if open && env.workers.lock().expect("worker pool lock").is_live(n) {
            tracing::info!(
                worker = n,
                backend,
                let_go,
                "worker frozen inside its open transaction"
            );
            let query = query
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let waited = began.elapsed().as_millis();
            return Ok((n, format!(" (in a transaction, {waited} ms after the trigger; backend {backend}, after `{query}`)")));
        }
        let_go += 1;
        env.workers.lock().expect("worker pool lock").resume(n)?;
    }
    let mut pool = env.workers.lock().expect("worker pool lock");
    if !pool.is_live(n) {
        n = pool.resolve(sel, pick).ok_or_else(|| no_worker(id, sel))?;
    }
    tracing::warn!(
        worker = n,
        "no open transaction of worker w{n} within {TRANSACTION_WAIT:?}; striking anyway"
    );
    pool.pause(n)?;
    Ok((
        n,
        format!(" ({NO_TRANSACTION_SEEN}: does the pipeline keep application_name?)"),
    ))
}
