//! `read_end_state`: the contract tables of one run's schema into an [`EndState`].
//!
//! The catalogue is read first, so a foreign pipeline missing a required table or column gets an
//! error naming it, and optional columns (timestamps, the offset tables' `topic`) may be absent.
//! Every value is cast in SQL to the type read here, so `bigint` partitions or `varchar` ids work.

use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::{Client, Row};

use crate::error::{OracleError, CONTRACT_DOC};
use crate::sql::quote_ident;
use crate::state::{EndState, Lineage, OffsetRange, QuarantineRow, RawEventRow, TransactionRow};

/// One column the oracle reads: its name, the SQL type it is cast to, and whether it must exist.
#[derive(Clone, Copy)]
struct Column {
    name: &'static str,
    cast: &'static str,
    required: bool,
}

const fn req(name: &'static str, cast: &'static str) -> Column {
    Column {
        name,
        cast,
        required: true,
    }
}

const fn opt(name: &'static str, cast: &'static str) -> Column {
    Column {
        name,
        cast,
        required: false,
    }
}

/// The lineage columns every data row carries (the timestamp's name differs per table).
const LINEAGE: [Column; 6] = [
    req("source_topic", "text"),
    req("source_partition", "int4"),
    req("source_offset", "int8"),
    req("run_id", "text"),
    req("pipeline_version", "text"),
    req("worker_id", "text"),
];

/// The contract tables, in the order they are read.
pub const CONTRACT_TABLES: [&str; 6] = [
    "transactions",
    "raw_events",
    "account_balances",
    "quarantine",
    "partition_offsets",
    "offset_log",
];

/// Reads what a pipeline left in `schema` for input `topic`. `partition_offsets` and `offset_log`
/// are narrowed to `topic` when they have a `topic` column; the data tables are read whole, so a row
/// claiming another topic shows up as a lineage fault. Rows are sorted (see [`EndState::sort_rows`]).
/// A missing table is an error ([`OracleError::MissingTable`]); [`read_found`] reads around it.
pub async fn read_end_state(
    client: &Client,
    schema: &str,
    topic: &str,
) -> Result<EndState, OracleError> {
    let found = read_found(client, schema, topic).await?;
    match found.missing.first() {
        Some(table) => Err(OracleError::MissingTable {
            schema: schema.to_string(),
            table,
        }),
        None => Ok(found.state),
    }
}

/// What [`read_found`] found: the end state, with every contract table the schema lacks read as
/// empty and named in `missing` (for [`crate::check_found`] to fail the checks that read it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The end state; a missing table's rows are empty.
    pub state: EndState,
    /// The run's schema.
    pub schema: String,
    /// The contract tables the schema does not have, in [`CONTRACT_TABLES`] order.
    pub missing: Vec<&'static str>,
}

impl Found {
    /// True when none of the contract tables exists: the pipeline wrote nothing (or not here).
    pub fn wrote_nothing(&self) -> bool {
        self.missing.len() == CONTRACT_TABLES.len()
    }

    /// Why a check that reads `tables` cannot pass, when any of them is missing.
    pub fn why_missing(&self, tables: &[&str]) -> Option<String> {
        let absent: Vec<String> = tables
            .iter()
            .filter(|t| self.missing.contains(t))
            .map(|t| format!("`{t}`"))
            .collect();
        let (what, verb, them) = match absent.len() {
            0 => return None,
            1 => ("table", "does", "it"),
            _ => ("tables", "do", "them"),
        };
        let why = if self.wrote_nothing() {
            "the pipeline wrote nothing".to_string()
        } else {
            format!("the pipeline must create {them}")
        };
        Some(format!(
            "{what} {} {verb} not exist in schema `{}`: {why} (see {CONTRACT_DOC})",
            absent.join(", "),
            self.schema
        ))
    }
}

/// Like [`read_end_state`], but a missing contract table reads as empty and is listed in
/// [`Found::missing`] instead of being an error. A missing column or a NULL key is still an error.
pub async fn read_found(client: &Client, schema: &str, topic: &str) -> Result<Found, OracleError> {
    let db = Catalogue::load(client, schema).await?;

    let cols = with_lineage(
        &[
            req("transaction_id", "text"),
            req("account_id", "text"),
            req("delta_cents", "int8"),
        ],
        "ingested_at",
    );
    let transactions = db
        .read(client, "transactions", &cols, None, |f| {
            Ok(TransactionRow {
                transaction_id: f.key_text("transaction_id")?,
                account_id: f.text("account_id"),
                delta_cents: f.key_int("delta_cents")?,
                lineage: f.lineage("ingested_at")?,
            })
        })
        .await?;

    let cols = with_lineage(&[req("transaction_id", "text")], "ingested_at");
    let raw_events = db
        .read(client, "raw_events", &cols, None, |f| {
            Ok(RawEventRow {
                transaction_id: f.key_text("transaction_id")?,
                lineage: f.lineage("ingested_at")?,
            })
        })
        .await?;

    let cols = [req("account_id", "text"), req("balance_cents", "int8")];
    let balances = db
        .read(client, "account_balances", &cols, None, |f| {
            Ok((f.key_text("account_id")?, f.key_int("balance_cents")?))
        })
        .await?;
    let mut account_balances = BTreeMap::new();
    for (account, balance) in balances {
        // Several rows for one account are added up: what a reader of the table would conclude.
        *account_balances.entry(account).or_insert(0) += balance;
    }

    let cols = with_lineage(&[req("reason", "text")], "quarantined_at");
    let quarantine = db
        .read(client, "quarantine", &cols, None, |f| {
            Ok(QuarantineRow {
                lineage: f.lineage("quarantined_at")?,
                reason: f.text("reason"),
            })
        })
        .await?;

    let cols = [req("partition", "int4"), req("next_offset", "int8")];
    let stored = db
        .read(client, "partition_offsets", &cols, Some(topic), |f| {
            Ok((f.key_int("partition")? as i32, f.key_int("next_offset")?))
        })
        .await?;
    let mut partition_offsets: BTreeMap<i32, i64> = BTreeMap::new();
    for (partition, next) in stored {
        // Several rows for one partition: the lowest is all that is safely committed.
        partition_offsets
            .entry(partition)
            .and_modify(|n| *n = (*n).min(next))
            .or_insert(next);
    }

    let cols = [
        req("partition", "int4"),
        req("from_offset", "int8"),
        req("to_offset", "int8"),
        opt("worker_id", "text"),
        opt("run_id", "text"),
        opt("committed_at", "text"),
    ];
    let offset_log = db
        .read(client, "offset_log", &cols, Some(topic), |f| {
            Ok(OffsetRange {
                partition: f.key_int("partition")? as i32,
                from_offset: f.key_int("from_offset")?,
                to_offset: f.key_int("to_offset")?,
                worker_id: f.opt_text("worker_id"),
                run_id: f.opt_text("run_id"),
                committed_at: f.opt_text("committed_at"),
            })
        })
        .await?;

    let mut state = EndState {
        topic: topic.to_string(),
        transactions,
        raw_events,
        account_balances,
        quarantine,
        partition_offsets,
        offset_log,
    };
    state.sort_rows();
    Ok(Found {
        state,
        schema: schema.to_string(),
        missing: CONTRACT_TABLES
            .into_iter()
            .filter(|t| !db.tables.contains_key(*t))
            .collect(),
    })
}

/// `columns` followed by the lineage columns and the table's optional timestamp column.
fn with_lineage(columns: &[Column], written_at: &'static str) -> Vec<Column> {
    columns
        .iter()
        .chain(&LINEAGE)
        .copied()
        .chain([opt(written_at, "text")])
        .collect()
}

/// The tables and columns of one schema.
struct Catalogue {
    schema: String,
    tables: BTreeMap<String, BTreeSet<String>>,
}

impl Catalogue {
    async fn load(client: &Client, schema: &str) -> Result<Self, OracleError> {
        let rows = client
            .query(
                "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = $1",
                &[&schema],
            )
            .await?;
        let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for row in rows {
            tables.entry(row.get(0)).or_default().insert(row.get(1));
        }
        Ok(Catalogue {
            schema: schema.to_string(),
            tables,
        })
    }

    /// Every row of `table`, each parsed by `parse`.
    async fn read<T>(
        &self,
        client: &Client,
        table: &'static str,
        columns: &[Column],
        topic: Option<&str>,
        parse: impl Fn(&Fields<'_>) -> Result<T, OracleError>,
    ) -> Result<Vec<T>, OracleError> {
        if !self.tables.contains_key(table) {
            // Listed in `Found::missing`; `read_end_state` turns that into an error.
            return Ok(Vec::new());
        }
        let rows = self.select(client, table, columns, topic).await?;
        rows.iter()
            .map(|row| {
                parse(&Fields {
                    row,
                    schema: &self.schema,
                    table,
                })
            })
            .collect()
    }

    /// `SELECT` of `columns` (absent optional ones as NULL), narrowed to `topic` when the table has
    /// a `topic` column.
    async fn select(
        &self,
        client: &Client,
        table: &'static str,
        columns: &[Column],
        topic: Option<&str>,
    ) -> Result<Vec<Row>, OracleError> {
        let (sql, filtered) = self.select_sql(table, columns, topic.is_some())?;
        Ok(match topic.filter(|_| filtered) {
            Some(topic) => client.query(&sql, &[&topic]).await?,
            None => client.query(&sql, &[]).await?,
        })
    }

    /// The query, and whether it takes the topic as `$1`.
    fn select_sql(
        &self,
        table: &'static str,
        columns: &[Column],
        by_topic: bool,
    ) -> Result<(String, bool), OracleError> {
        let present = self
            .tables
            .get(table)
            .ok_or_else(|| OracleError::MissingTable {
                schema: self.schema.clone(),
                table,
            })?;
        let mut list = Vec::with_capacity(columns.len());
        for c in columns {
            let alias = quote_ident(c.name);
            if present.contains(c.name) {
                list.push(format!("{alias}::{} AS {alias}", c.cast));
            } else if c.required {
                return Err(OracleError::MissingColumn {
                    schema: self.schema.clone(),
                    table,
                    column: c.name,
                });
            } else {
                list.push(format!("NULL::{} AS {alias}", c.cast));
            }
        }
        let mut sql = format!(
            "SELECT {} FROM {}.{}",
            list.join(", "),
            quote_ident(&self.schema),
            quote_ident(table)
        );
        let filtered = by_topic && present.contains("topic");
        if filtered {
            sql.push_str(r#" WHERE "topic"::text = $1"#);
        }
        Ok((sql, filtered))
    }
}

/// Typed access to one row, with errors that name the table and column.
struct Fields<'r> {
    row: &'r Row,
    schema: &'r str,
    table: &'static str,
}

impl Fields<'_> {
    fn null(&self, column: &'static str) -> OracleError {
        OracleError::NullKey {
            schema: self.schema.to_string(),
            table: self.table,
            column,
        }
    }

    fn opt_text(&self, column: &str) -> Option<String> {
        self.row.get::<_, Option<String>>(column)
    }

    /// Text where NULL reads as empty (the checks flag empty values).
    fn text(&self, column: &str) -> String {
        self.opt_text(column).unwrap_or_default()
    }

    fn key_text(&self, column: &'static str) -> Result<String, OracleError> {
        self.opt_text(column).ok_or_else(|| self.null(column))
    }

    /// An `int4` or `int8` column, widened; NULL is an error.
    fn key_int(&self, column: &'static str) -> Result<i64, OracleError> {
        let value = match self.row.try_get::<_, Option<i64>>(column) {
            Ok(v) => v,
            Err(_) => self.row.get::<_, Option<i32>>(column).map(i64::from),
        };
        value.ok_or_else(|| self.null(column))
    }

    fn lineage(&self, written_at: &str) -> Result<Lineage, OracleError> {
        Ok(Lineage {
            source_topic: self.text("source_topic"),
            source_partition: self.key_int("source_partition")? as i32,
            source_offset: self.key_int("source_offset")?,
            run_id: self.text("run_id"),
            pipeline_version: self.text("pipeline_version"),
            worker_id: self.text("worker_id"),
            written_at: self.opt_text(written_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue(tables: &[(&str, &[&str])]) -> Catalogue {
        Catalogue {
            schema: "run_1".into(),
            tables: tables
                .iter()
                .map(|(t, cs)| (t.to_string(), cs.iter().map(|c| c.to_string()).collect()))
                .collect(),
        }
    }

    #[test]
    fn select_casts_reads_and_fills_absent_optional_columns_with_null() {
        let c = catalogue(&[(
            "offset_log",
            &[
                "topic",
                "partition",
                "from_offset",
                "to_offset",
                "worker_id",
            ],
        )]);
        let cols = [
            req("partition", "int4"),
            req("from_offset", "int8"),
            opt("worker_id", "text"),
            opt("run_id", "text"),
        ];
        assert_eq!(
            c.select_sql("offset_log", &cols, true).unwrap(),
            (
                r#"SELECT "partition"::int4 AS "partition", "from_offset"::int8 AS "from_offset", "worker_id"::text AS "worker_id", NULL::text AS "run_id" FROM "run_1"."offset_log" WHERE "topic"::text = $1"#.to_string(),
                true
            )
        );
    }

    #[test]
    fn offset_tables_without_a_topic_column_are_read_whole() {
        let c = catalogue(&[("partition_offsets", &["partition", "next_offset"])]);
        let (sql, filtered) = c
            .select_sql("partition_offsets", &[req("partition", "int4")], true)
            .unwrap();
        assert!(!filtered && !sql.contains("WHERE"), "{sql}");
    }

    #[test]
    fn missing_required_column_names_table_column_and_contract() {
        let c = catalogue(&[("transactions", &["transaction_id", "account_id"])]);
        let cols = with_lineage(
            &[req("transaction_id", "text"), req("delta_cents", "int8")],
            "ingested_at",
        );
        let err = c.select_sql("transactions", &cols, false).unwrap_err();
        assert!(matches!(
            err,
            OracleError::MissingColumn {
                table: "transactions",
                column: "delta_cents",
                ..
            }
        ));
        let text = err.to_string();
        assert!(
            text.contains("`run_1.transactions`")
                && text.contains("`delta_cents`")
                && text.contains("PIPELINE-CONTRACT.md"),
            "{text}"
        );
    }

    #[test]
    fn missing_table_names_schema_table_and_contract() {
        let err = catalogue(&[])
            .select_sql("quarantine", &[req("reason", "text")], false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "schema `run_1` has no table `quarantine`; the pipeline must create it (see docs/PIPELINE-CONTRACT.md)"
        );
    }

    fn found(missing: &[&'static str]) -> Found {
        Found {
            state: EndState::default(),
            schema: "run_1".into(),
            missing: missing.to_vec(),
        }
    }

    #[test]
    fn a_missing_table_says_whether_the_pipeline_wrote_anything() {
        let nothing = found(&CONTRACT_TABLES);
        assert!(nothing.wrote_nothing());
        assert_eq!(
            nothing.why_missing(&["transactions"]).unwrap(),
            "table `transactions` does not exist in schema `run_1`: the pipeline wrote nothing (see docs/PIPELINE-CONTRACT.md)"
        );
        assert_eq!(
            nothing.why_missing(&["offset_log", "partition_offsets"]).unwrap(),
            "tables `offset_log`, `partition_offsets` do not exist in schema `run_1`: the pipeline wrote nothing (see docs/PIPELINE-CONTRACT.md)"
        );
        let partial = found(&["quarantine"]);
        assert!(!partial.wrote_nothing());
        assert_eq!(partial.why_missing(&["transactions"]), None);
        assert_eq!(
            partial.why_missing(&["transactions", "quarantine"]).unwrap(),
            "table `quarantine` does not exist in schema `run_1`: the pipeline must create it (see docs/PIPELINE-CONTRACT.md)"
        );
    }

    #[test]
    fn hostile_schema_names_stay_quoted() {
        let c = Catalogue {
            schema: r#"x"; DROP TABLE y; --"#.into(),
            tables: BTreeMap::from([(
                "raw_events".into(),
                BTreeSet::from(["transaction_id".into()]),
            )]),
        };
        let (sql, _) = c
            .select_sql("raw_events", &[req("transaction_id", "text")], false)
            .unwrap();
        assert!(
            sql.ends_with(r#"FROM "x""; DROP TABLE y; --"."raw_events""#),
            "{sql}"
        );
    }
}
