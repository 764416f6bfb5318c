//! `OracleError`: what can stop the oracle from reaching a verdict (as opposed to the anomalies it
//! reports, which are findings, not errors).

/// Where the process contract is written down; every contract error points there.
pub const CONTRACT_DOC: &str = "docs/PIPELINE-CONTRACT.md";

/// Why the end state could not be read or a data check could not run.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    /// The run's schema lacks a table the contract requires.
    #[error("schema `{schema}` has no table `{table}`; the pipeline must create it (see {CONTRACT_DOC})")]
    MissingTable {
        /// The run's schema.
        schema: String,
        /// The missing table.
        table: &'static str,
    },
    /// A contract table lacks a column the oracle needs.
    #[error("table `{schema}.{table}` has no column `{column}`; the contract requires it (see {CONTRACT_DOC})")]
    MissingColumn {
        /// The run's schema.
        schema: String,
        /// The table.
        table: &'static str,
        /// The missing column.
        column: &'static str,
    },
    /// A key column holds NULL, so the row cannot be placed at all.
    #[error("table `{schema}.{table}` has a NULL in key column `{column}`; the contract requires a value (see {CONTRACT_DOC})")]
    NullKey {
        /// The run's schema.
        schema: String,
        /// The table.
        table: &'static str,
        /// The column holding NULL.
        column: &'static str,
    },
    /// A data check names a table, column or schema that is not a plain identifier.
    #[error("data check `{check}`: field `{field}` = {value:?} is not a plain identifier; use 1 to 63 ASCII letters, digits and underscores")]
    BadIdentifier {
        /// The data check's name.
        check: String,
        /// The offending field, e.g. `table` or `columns[1]`.
        field: String,
        /// The value found.
        value: String,
    },
    /// A data check whose fields cannot make a query, e.g. a `row_count` with neither bound.
    #[error("data check `{check}`: {problem}")]
    InvalidCheck {
        /// The data check's name.
        check: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A row returned by a data check was not a JSON object.
    #[error("data check `{check}`: a failing row is not valid JSON: {source}")]
    FailingRow {
        /// The data check's name.
        check: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// Postgres refused a data check's query (e.g. permission denied for the checks' role).
    #[error("data check `{check}`: the query failed: {message}")]
    CheckQuery {
        /// The data check's name.
        check: String,
        /// Postgres' message and SQLSTATE, or the client error.
        message: String,
    },
    /// Postgres refused a query or the connection failed.
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
}
