//! Before the first worker starts: the run's schema, then the manifest's setup SQL files (each in
//! one transaction), then its setup command. A failure stops the run naming the file or command,
//! Postgres' message or the command's output.

use std::process::Stdio;

use faultline_infra::PgConfig;
use faultline_manifest::Template;

use super::env::RunValues;
use super::Pipeline;
use crate::error::{Result, RunnerError};

/// Creates `schema` and runs the manifest's `[setup]`.
pub async fn run(p: &Pipeline, pg: &PgConfig, schema: &str, values: &RunValues) -> Result<()> {
    let client = pg.connect().await?;
    client
        .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .await?;
    let m = &p.manifest;
    for (i, (file, sql)) in m.setup.sql.iter().enumerate() {
        let text = values.render(sql, None, &format!("setup.sql[{i}]"))?;
        let wrapped = format!("BEGIN;\n{text}\n;COMMIT;");
        if let Err(e) = client.batch_execute(&wrapped).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(RunnerError::Usage(format!(
                "manifest {}: field `setup.sql[{i}]`: {} failed: {}; fix the SQL (run it by hand \
                 with {{schema}} replaced to see where)",
                m.file.display(),
                file.display(),
                pg_message(&e)
            )));
        }
    }
    if !m.setup.command.is_empty() {
        run_command(p, &m.setup.command, "setup.command", values).await?;
    }
    Ok(())
}

/// Runs a manifest command (`setup.command`, `replay.command`) in the manifest's `cwd` with the
/// workers' environment, to its end. Not found, or a non-zero exit, stops the run naming `field`
/// and, for an exit, the command's last 20 lines of output.
pub async fn run_command(
    p: &Pipeline,
    command: &[Template],
    field: &str,
    values: &RunValues,
) -> Result<()> {
    let m = &p.manifest;
    let argv: Vec<String> = command
        .iter()
        .map(|t| values.render(t, None, field))
        .collect::<Result<_>>()?;
    let env = values.environment(&m.env, None)?;
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .envs(&env)
        .current_dir(&m.cwd)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = cmd.output().await.map_err(|e| {
        RunnerError::Usage(format!(
            "manifest {}: field `{field}`: cannot start `{}`: {e}",
            m.file.display(),
            argv[0]
        ))
    })?;
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        return Err(RunnerError::Usage(format!(
            "manifest {}: field `{field}`: `{}` exited with {}; its last lines:\n{}",
            m.file.display(),
            argv.join(" "),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )));
    }
    Ok(())
}

/// Postgres' own message (and position) rather than tokio-postgres' generic "db error".
pub fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = format!("{}: {}", db.severity(), db.message());
            if let Some(d) = db.detail() {
                m.push_str(&format!(" ({d})"));
            }
            m
        }
        None => e.to_string(),
    }
}
