//! Data checks run as a per-run role that reads only the run's schema: server files, directory
//! listings, signalling the harness's backend, another run's schema and `pg_authid` are refused
//! with an error naming the check and Postgres' permission error, while a check on the run's own
//! tables still finds its rows. On both backends (containers when Docker answers).

use anyhow::{ensure, Result};
use faultline_infra::{backend::start, BackendKind, PgConfig, StackSpec};
use faultline_report::CheckStatus;
use faultline_runner::check_role::{run_data_checks, CheckRole};
use faultline_scenario::{DataCheck, DataCheckKind, Severity};
use faultline_tests::backend_available;

fn custom(name: &str, sql: &str) -> DataCheck {
    DataCheck {
        name: name.into(),
        severity: Severity::Error,
        kind: DataCheckKind::CustomSql { sql: sql.into() },
    }
}

async fn role_exists(pg: &PgConfig, name: &str) -> Result<bool> {
    let c = pg.connect().await?;
    Ok(
        c.query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
            .await?
            .is_some(),
    )
}

async fn data_checks_read_only_the_runs_schema(kind: BackendKind) -> Result<()> {
    if !backend_available(kind).await {
        return Ok(());
    }
    let spec = StackSpec::single();
    let stack = start(kind, &spec).await?;
    let admin = stack.postgres().clone();
    let id = spec.run_id.to_lowercase().replace('-', "_");
    let (run_schema, other_schema) = (format!("cr_run_{id}"), format!("cr_other_{id}"));
    let c = admin.connect().await?;
    c.batch_execute(&format!(
        "CREATE SCHEMA {run_schema}; CREATE SCHEMA {other_schema};
         CREATE TABLE {run_schema}.amounts (id int PRIMARY KEY, cents bigint NOT NULL);
         INSERT INTO {run_schema}.amounts VALUES (1, 100), (2, -5), (3, 7);
         CREATE TABLE {other_schema}.secrets (v text); INSERT INTO {other_schema}.secrets VALUES ('x');"
    ))
    .await?;
    let run_id = format!("cr{id}");
    let role = CheckRole::name_for(&run_id);

    // A check on the run's own tables still works, and finds its row.
    let ok = run_data_checks(
        &admin,
        &run_schema,
        &run_id,
        &[custom(
            "no negative amounts",
            "SELECT id, cents FROM {schema}.amounts WHERE cents < 0",
        )],
    )
    .await?;
    ensure!(ok.len() == 1 && ok[0].status == CheckStatus::Fail, "{ok:?}");
    ensure!(ok[0].failing_rows.len() == 1, "{:?}", ok[0].failing_rows);
    ensure!(
        ok[0].failing_rows[0]["id"] == 2 && ok[0].failing_rows[0]["cents"] == -5,
        "{:?}",
        ok[0].failing_rows
    );
    ensure!(
        !role_exists(&admin, &role).await?,
        "role {role} left behind"
    );

    let admin_pid: i32 = c.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
    let refused = [
        (
            "read a server file",
            "SELECT pg_read_file('/etc/hostname') AS f".to_string(),
        ),
        (
            "list the data directory",
            "SELECT pg_ls_dir('.') AS f".to_string(),
        ),
        (
            "read another run",
            format!("SELECT * FROM {other_schema}.secrets"),
        ),
        (
            "read password hashes",
            "SELECT rolname FROM pg_catalog.pg_authid".to_string(),
        ),
        (
            "end the harness's session",
            format!("SELECT pg_terminate_backend({admin_pid}) AS t"),
        ),
    ];
    for (name, sql) in &refused {
        let err = run_data_checks(&admin, &run_schema, &run_id, &[custom(name, sql)])
            .await
            .err()
            .map(|e| e.to_string());
        let msg = err.unwrap_or_else(|| format!("check `{name}` ran: {sql}"));
        // 42501 is insufficient_privilege; Postgres words it "permission denied for …", or "must
        // be a superuser to terminate superuser process".
        ensure!(
            msg.contains(&format!("data check `{name}`"))
                && msg.contains("SQLSTATE 42501")
                && (msg.contains("permission denied") || msg.contains("must be a superuser")),
            "{name}: {msg}"
        );
        ensure!(
            !role_exists(&admin, &role).await?,
            "role {role} left behind after `{name}`"
        );
    }
    // The harness's own session survived the attempt on it.
    let alive: i32 = c.query_one("SELECT 1", &[]).await?.get(0);
    ensure!(alive == 1);

    // A role left behind by a killed harness (same run id) is replaced, not an error.
    let leftover = CheckRole::create(&admin, &run_schema, &run_id).await?;
    ensure!(role_exists(&admin, &role).await?);
    drop(leftover);
    let again = run_data_checks(
        &admin,
        &run_schema,
        &run_id,
        &[custom(
            "amounts exist",
            "SELECT 1 AS one WHERE NOT EXISTS (SELECT 1 FROM {schema}.amounts)",
        )],
    )
    .await?;
    ensure!(again[0].status == CheckStatus::Pass, "{again:?}");
    ensure!(
        !role_exists(&admin, &role).await?,
        "role {role} left behind"
    );
    stack.teardown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn data_checks_read_only_the_runs_schema_processes() -> Result<()> {
    data_checks_read_only_the_runs_schema(BackendKind::Processes).await
}

#[tokio::test(flavor = "multi_thread")]
async fn data_checks_read_only_the_runs_schema_containers() -> Result<()> {
    data_checks_read_only_the_runs_schema(BackendKind::Containers).await
}
