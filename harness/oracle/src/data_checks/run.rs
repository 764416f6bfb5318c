//! Running a data check: its query inside a read-only transaction, failing rows kept as JSON.

use faultline_report::{CheckResult, CheckStatus};
use serde_json::{Map, Value};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

use super::query::failing_rows_query;
use super::{DataCheck, Severity};
use crate::error::OracleError;

/// Runs `check` against `schema`. The query runs in a read-only transaction that is always rolled
/// back, so a `custom_sql` check cannot change the data it checks. A failing check is `fail` or,
/// with severity `warn`, `warn`; so is one whose query names a table that does not exist (its
/// detail quotes Postgres). `client` must not be inside a
/// transaction or running other queries meanwhile: they would share that transaction.
pub async fn run_data_check(
    client: &Client,
    schema: &str,
    check: &DataCheck,
) -> Result<CheckResult, OracleError> {
    let query = failing_rows_query(schema, check)?;
    client.batch_execute("BEGIN READ ONLY").await?;
    let params: Vec<&(dyn ToSql + Sync)> = match &query.values {
        Some(values) => vec![values],
        None => vec![],
    };
    let rows = client.query(&query.sql, &params).await;
    client.batch_execute("ROLLBACK").await?;
    let rows = match rows {
        // A table the pipeline never created: the check fails (it cannot hold), naming it.
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
            let message = e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_string());
            let detail = format!(
                "{}: cannot hold: {message} (schema `{schema}`)",
                check.kind.tag()
            );
            return Ok(CheckResult::new(
                &check.name,
                failed(check.severity),
                detail,
                Vec::new(),
                0,
            ));
        }
        rows => rows.map_err(|e| OracleError::CheckQuery {
            check: check.name.clone(),
            message: match e.as_db_error() {
                Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
                None => e.to_string(),
            },
        })?,
    };

    let total_failing = rows.first().map_or(0, |r| r.get::<_, i64>("total")) as u64;
    let failing_rows = rows
        .iter()
        .map(|r| match serde_json::from_str::<Value>(r.get("row")) {
            Ok(Value::Object(fields)) => Ok(fields),
            Ok(other) => Ok(Map::from_iter([("value".to_string(), other)])),
            Err(source) => Err(OracleError::FailingRow {
                check: check.name.clone(),
                source,
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let detail = match total_failing {
        0 => format!("{}: no failing rows.", check.kind.tag()),
        n => format!(
            "{}: {n} failing rows, the first {} kept.",
            check.kind.tag(),
            failing_rows.len()
        ),
    };
    let status = match total_failing {
        0 => CheckStatus::Pass,
        _ => failed(check.severity),
    };
    Ok(CheckResult::new(
        &check.name,
        status,
        detail,
        failing_rows,
        total_failing,
    ))
}

/// The status of a check that found something: `warn` or `fail` by its severity.
fn failed(severity: Severity) -> CheckStatus {
    match severity {
        Severity::Warn => CheckStatus::Warn,
        Severity::Error => CheckStatus::Fail,
    }
}
