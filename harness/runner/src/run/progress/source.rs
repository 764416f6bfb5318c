//! Where the runner learns how far the pipeline got: a [`ProgressSource`] says where to look, a
//! [`ProgressReader`] looks. Either way the answer is one position per input partition: the next
//! offset the pipeline will process, everything below it committed.
//!
//! Errors are sorted, never swallowed: a table the query reads that does not exist yet means
//! nothing is committed yet ([`Observed::NotCreated`]); Postgres or the brokers out of reach (a
//! fault may be doing that) is [`Observed::Unavailable`] and read again next time; a query Postgres
//! refuses, or whose rows are not `(partition, next_offset)`, is [`RunnerError::ProgressQuery`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use faultline_infra::ready::kafka_client_config;
use faultline_infra::PgConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;

use crate::error::{Result, RunnerError};

/// How long one read may take before it counts as unavailable.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a pipeline's committed positions are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressSource {
    /// The consumer group's committed offsets for each partition of the input topic, read from the
    /// brokers by a client configured with that `group.id` that never joins the group (no
    /// subscription, so no rebalance). A partition without a committed offset has committed nothing.
    KafkaGroup { group_id: String },
    /// A query returning one row `(partition int, next_offset bigint)` per partition (`smallint`,
    /// `int` or `bigint` each; a partition listed twice counts with its lower offset, a partition
    /// not listed has committed nothing). For pipelines that keep their offsets in their database.
    Sql { query: String },
    /// No positions at all: a fingerprint of the output tables (`schema.table` each), for
    /// pipelines that keep their offsets nowhere the harness can read. The catch-up wait ends when
    /// it stood still for `quiet` after the last record was sent and the last fault healed.
    Quiet {
        tables: Vec<String>,
        quiet: Duration,
    },
}

/// The run's names that `{schema}`, `{input_topic}` and `{group_id}` stand for in a source.
#[derive(Debug, Clone, Copy)]
pub struct Placeholders<'a> {
    /// `FAULTLINE_PG_SCHEMA`.
    pub schema: &'a str,
    /// `FAULTLINE_INPUT_TOPIC`.
    pub input_topic: &'a str,
    /// `FAULTLINE_GROUP_ID`.
    pub group_id: &'a str,
}

impl ProgressSource {
    /// The reference ledger pipeline's source, as its manifest (harness/pipeline/faultline.toml)
    /// declares it: its `partition_offsets` table, narrowed to the run's input topic. Runs take
    /// their source from the manifest; this is for tests of the ledger's query.
    pub fn ledger() -> Self {
        match crate::pipeline::Pipeline::ledger_manifest().progress {
            faultline_manifest::Progress::Sql(q) => ProgressSource::Sql {
                query: q.to_string(),
            },
            _ => unreachable!("the ledger's manifest reads its progress with SQL"),
        }
    }

    /// The source with `{schema}`, `{input_topic}` and `{group_id}` replaced by the run's names
    /// (verbatim: the runner's names are plain `[a-z0-9_.-]` words, no quoting needed). Other
    /// text in braces is left as it is.
    pub fn substitute(&self, p: &Placeholders<'_>) -> ProgressSource {
        let fill = |text: &str| {
            text.replace("{schema}", p.schema)
                .replace("{input_topic}", p.input_topic)
                .replace("{group_id}", p.group_id)
        };
        match self {
            ProgressSource::KafkaGroup { group_id } => ProgressSource::KafkaGroup {
                group_id: fill(group_id),
            },
            ProgressSource::Sql { query } => ProgressSource::Sql { query: fill(query) },
            ProgressSource::Quiet { tables, quiet } => ProgressSource::Quiet {
                tables: tables.iter().map(|t| fill(t)).collect(),
                quiet: *quiet,
            },
        }
    }
}

/// What one read saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// The next offset of each partition that has committed anything.
    Positions(BTreeMap<i32, i64>),
    /// `Quiet`: how many rows the output tables hold, and a fingerprint of their contents.
    Fingerprint { rows: u64, digest: String },
    /// The query reads a table (or schema) that does not exist yet: nothing is committed.
    /// `message` is Postgres' words.
    NotCreated { message: String },
    /// Postgres or the brokers could not be asked this time (a fault may be the cause).
    Unavailable { message: String },
}

/// Reads a source's positions for one input topic, again and again (it keeps its connection).
pub struct ProgressReader {
    topic: String,
    partitions: i32,
    how: How,
}

enum How {
    Kafka {
        consumer: Arc<BaseConsumer>,
        group_id: String,
    },
    Sql(Box<SqlReader>),
    /// The fingerprint query over the output tables.
    Quiet(Box<SqlReader>),
}

/// The query, where to run it, and the connection with the query prepared on it.
struct SqlReader {
    query: String,
    pg: PgConfig,
    session: Option<(tokio_postgres::Client, tokio_postgres::Statement)>,
}

impl ProgressReader {
    /// A reader of `source` (placeholders already substituted) for `partitions` partitions of
    /// `topic`, asking the brokers at `bootstrap` or Postgres at `pg`. Connects lazily.
    pub fn new(
        source: &ProgressSource,
        bootstrap: &str,
        pg: &PgConfig,
        topic: &str,
        partitions: i32,
    ) -> Result<Self> {
        let how = match source {
            ProgressSource::KafkaGroup { group_id } => How::Kafka {
                consumer: Arc::new(
                    kafka_client_config(bootstrap)
                        .set("group.id", group_id)
                        .set("enable.auto.commit", "false")
                        .create()?,
                ),
                group_id: group_id.clone(),
            },
            ProgressSource::Sql { query } => How::Sql(Box::new(SqlReader {
                query: query.clone(),
                pg: pg.clone(),
                session: None,
            })),
            ProgressSource::Quiet { tables, .. } => How::Quiet(Box::new(SqlReader {
                query: fingerprint_query(tables),
                pg: pg.clone(),
                session: None,
            })),
        };
        Ok(ProgressReader {
            topic: topic.to_string(),
            partitions,
            how,
        })
    }

    /// The positions now. An error only for a query that can never work (see the module doc).
    pub async fn read(&mut self) -> Result<Observed> {
        let observed = match &mut self.how {
            How::Kafka { consumer, group_id } => {
                read_group(consumer.clone(), group_id, &self.topic, self.partitions).await
            }
            How::Sql(sql) => sql.read(Shape::Positions).await?,
            How::Quiet(sql) => sql.read(Shape::Fingerprint).await?,
        };
        // Only the input topic's partitions count (a shared table may list others).
        Ok(match observed {
            Observed::Positions(mut p) => {
                p.retain(|k, _| (0..self.partitions).contains(k));
                Observed::Positions(p)
            }
            other => other,
        })
    }
}

async fn read_group(
    consumer: Arc<BaseConsumer>,
    group_id: &str,
    topic: &str,
    partitions: i32,
) -> Observed {
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let asked = tokio::task::spawn_blocking(move || consumer.committed_offsets(tpl, READ_TIMEOUT))
        .await
        .expect("committed-offsets task panicked");
    let unavailable = |e: &dyn std::fmt::Display| Observed::Unavailable {
        message: format!("committed offsets of consumer group `{group_id}`: {e}"),
    };
    let tpl = match asked {
        Ok(tpl) => tpl,
        Err(e) => return unavailable(&e),
    };
    let mut positions = BTreeMap::new();
    for e in tpl.elements() {
        if let Err(err) = e.error() {
            return unavailable(&err);
        }
        // `Invalid`: the group committed nothing for this partition.
        if let Offset::Offset(o) = e.offset() {
            positions.insert(e.partition(), o);
        }
    }
    Observed::Positions(positions)
}

/// What a query's rows are.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `(partition, next_offset)` rows.
    Positions,
    /// One row `(rows bigint, digest text)`: the fingerprint query's.
    Fingerprint,
}

impl SqlReader {
    async fn read(&mut self, shape: Shape) -> Result<Observed> {
        let SqlReader { query, pg, session } = self;
        match tokio::time::timeout(READ_TIMEOUT, read_sql(query, pg, session, shape)).await {
            Ok(r) => r,
            Err(_) => {
                *session = None;
                Ok(Observed::Unavailable {
                    message: format!("no answer within {} s", READ_TIMEOUT.as_secs()),
                })
            }
        }
    }
}

/// One query over every output table: the row count and an order-independent digest of the rows'
/// text (the sum of their hashes), so a change to any row shows.
fn fingerprint_query(tables: &[String]) -> String {
    let parts: Vec<String> = tables
        .iter()
        .map(|t| format!("SELECT hashtext(x::text)::numeric AS h FROM {t} x"))
        .collect();
    format!(
        "SELECT count(*)::bigint, coalesce(sum(h), 0)::text FROM ({}) f",
        parts.join(" UNION ALL ")
    )
}

async fn read_sql(
    query: &str,
    pg: &PgConfig,
    session: &mut Option<(tokio_postgres::Client, tokio_postgres::Statement)>,
    shape: Shape,
) -> Result<Observed> {
    if session.as_ref().is_some_and(|(c, _)| c.is_closed()) {
        *session = None;
    }
    if session.is_none() {
        let client = match pg.connect().await {
            Ok(c) => c,
            Err(e) => {
                return Ok(Observed::Unavailable {
                    message: format!("cannot connect to Postgres: {e}"),
                })
            }
        };
        // Prepared once per connection: the columns are checked even before any row exists.
        let statement = match client.prepare(query).await {
            Ok(s) => s,
            Err(e) => return refused(query, &e),
        };
        let columns: Vec<(&str, &Type)> = statement
            .columns()
            .iter()
            .map(|c| (c.name(), c.type_()))
            .collect();
        if matches!(shape, Shape::Positions) {
            check_columns(&columns).map_err(|message| RunnerError::ProgressQuery {
                query: query.to_string(),
                message,
            })?;
        }
        *session = Some((client, statement));
    }
    let (client, statement) = session.as_ref().expect("connected above");
    let rows = match client.query(statement, &[]).await {
        Ok(rows) => rows,
        Err(e) => {
            let r = refused(query, &e);
            if matches!(r, Ok(Observed::Unavailable { .. })) {
                *session = None;
            }
            return r;
        }
    };
    if matches!(shape, Shape::Fingerprint) {
        let row = rows.first().ok_or_else(|| RunnerError::ProgressQuery {
            query: query.to_string(),
            message: "returned no row".into(),
        })?;
        return Ok(Observed::Fingerprint {
            rows: row.get::<_, i64>(0).max(0) as u64,
            digest: row.get(1),
        });
    }
    let values = rows.iter().map(|r| (int_at(r, 0), int_at(r, 1)));
    positions_from(values)
        .map(Observed::Positions)
        .map_err(|message| RunnerError::ProgressQuery {
            query: query.to_string(),
            message,
        })
}

/// An integer column as `i64` (its type was checked by [`check_columns`]); `None` for NULL.
fn int_at(row: &tokio_postgres::Row, i: usize) -> Option<i64> {
    match *row.columns()[i].type_() {
        Type::INT2 => row.get::<_, Option<i16>>(i).map(i64::from),
        Type::INT4 => row.get::<_, Option<i32>>(i).map(i64::from),
        _ => row.get::<_, Option<i64>>(i),
    }
}

/// How a Postgres error from the progress query is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A table or schema the query reads does not exist yet: nothing committed.
    NotCreated,
    /// The server or connection is in trouble (shutting down, restarting, out of connections,
    /// connection lost, deadlock): ask again.
    Transient,
    /// Postgres refuses the query itself (syntax, unknown column, permissions, types): it will
    /// never work, so the run stops.
    Fatal,
}

/// Sorts an error by its SQLSTATE (`None`: no answer from the server at all).
pub(crate) fn classify(code: Option<&SqlState>) -> Refusal {
    let Some(code) = code else {
        return Refusal::Transient;
    };
    if *code == SqlState::UNDEFINED_TABLE || *code == SqlState::INVALID_SCHEMA_NAME {
        return Refusal::NotCreated;
    }
    // Classes 08 connection exception, 40 transaction rollback, 53 insufficient resources,
    // 57 operator intervention (shutdown, restart), 58 system error.
    match code.code().get(..2) {
        Some("08" | "40" | "53" | "57" | "58") => Refusal::Transient,
        _ => Refusal::Fatal,
    }
}

fn refused(query: &str, e: &tokio_postgres::Error) -> Result<Observed> {
    let message = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    };
    match classify(e.code()) {
        Refusal::NotCreated => Ok(Observed::NotCreated { message }),
        Refusal::Transient => Ok(Observed::Unavailable {
            message: format!("Postgres: {message}"),
        }),
        Refusal::Fatal => Err(RunnerError::ProgressQuery {
            query: query.to_string(),
            message: format!("Postgres refused it: {message}"),
        }),
    }
}

/// The query must return exactly two integer columns, partition then next offset.
pub(crate) fn check_columns(columns: &[(&str, &Type)]) -> std::result::Result<(), String> {
    const SHAPE: &str = "expected two integer columns, (partition int, next_offset bigint)";
    if columns.len() != 2 {
        let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "returns {} column(s) ({}); {SHAPE}",
            columns.len(),
            names.join(", ")
        ));
    }
    for (i, (name, ty)) in columns.iter().enumerate() {
        if ![Type::INT2, Type::INT4, Type::INT8].contains(ty) {
            return Err(format!(
                "column {} `{name}` is of type {ty}; {SHAPE} (cast it, e.g. `{name}::bigint`)",
                i + 1
            ));
        }
    }
    Ok(())
}

/// Positions from `(partition, next_offset)` rows: NULLs, negative numbers and partitions beyond
/// `int` are refused; a partition listed twice keeps its lower offset (only that much is surely
/// committed).
pub(crate) fn positions_from(
    rows: impl IntoIterator<Item = (Option<i64>, Option<i64>)>,
) -> std::result::Result<BTreeMap<i32, i64>, String> {
    let mut out: BTreeMap<i32, i64> = BTreeMap::new();
    for (partition, next) in rows {
        let partition = partition.ok_or("a row has a NULL partition")?;
        let p = i32::try_from(partition)
            .ok()
            .filter(|p| *p >= 0)
            .ok_or_else(|| format!("partition {partition} is not a partition number"))?;
        let next = next.ok_or_else(|| {
            format!("partition {p} has a NULL next_offset (use coalesce(next_offset, 0) if that means nothing committed)")
        })?;
        if next < 0 {
            return Err(format!("partition {p} has next_offset {next}, below 0"));
        }
        out.entry(p)
            .and_modify(|n| *n = (*n).min(next))
            .or_insert(next);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_positions_and_a_partition_listed_twice_keeps_the_lower_offset() {
        let got = positions_from([(Some(0), Some(12)), (Some(3), Some(0)), (Some(0), Some(9))]);
        assert_eq!(got, Ok(BTreeMap::from([(0, 9), (3, 0)])));
        assert_eq!(positions_from([]), Ok(BTreeMap::new()));
    }

    #[test]
    fn nulls_and_negative_numbers_are_refused_by_name() {
        assert_eq!(
            positions_from([(None, Some(1))]),
            Err("a row has a NULL partition".into())
        );
        assert_eq!(
            positions_from([(Some(2), None)]),
            Err("partition 2 has a NULL next_offset (use coalesce(next_offset, 0) if that means nothing committed)".into())
        );
        assert_eq!(
            positions_from([(Some(1), Some(-1))]),
            Err("partition 1 has next_offset -1, below 0".into())
        );
        assert_eq!(
            positions_from([(Some(-1), Some(5))]),
            Err("partition -1 is not a partition number".into())
        );
        assert_eq!(
            positions_from([(Some(1 << 40), Some(5))]),
            Err("partition 1099511627776 is not a partition number".into())
        );
    }

    #[test]
    fn the_query_must_return_two_integer_columns() {
        assert_eq!(
            check_columns(&[("p", &Type::INT4), ("n", &Type::INT8)]),
            Ok(())
        );
        assert_eq!(
            check_columns(&[("p", &Type::INT2), ("n", &Type::INT4)]),
            Ok(())
        );
        assert_eq!(
            check_columns(&[("sum", &Type::INT8)]),
            Err("returns 1 column(s) (sum); expected two integer columns, (partition int, next_offset bigint)".into())
        );
        assert_eq!(
            check_columns(&[("partition", &Type::INT4), ("next_offset", &Type::NUMERIC)]),
            Err("column 2 `next_offset` is of type numeric; expected two integer columns, (partition int, next_offset bigint) (cast it, e.g. `next_offset::bigint`)".into())
        );
    }

    #[test]
    fn errors_are_sorted_by_sqlstate() {
        use Refusal::*;
        let cases = [
            (Some(SqlState::UNDEFINED_TABLE), NotCreated),
            (Some(SqlState::INVALID_SCHEMA_NAME), NotCreated),
            // No server answer, a restarting or shutting-down server, a lost connection: ask again.
            (None, Transient),
            (Some(SqlState::CANNOT_CONNECT_NOW), Transient),
            (Some(SqlState::ADMIN_SHUTDOWN), Transient),
            (Some(SqlState::CONNECTION_FAILURE), Transient),
            (Some(SqlState::T_R_DEADLOCK_DETECTED), Transient),
            (Some(SqlState::TOO_MANY_CONNECTIONS), Transient),
            // The query itself is wrong: it never will work.
            (Some(SqlState::UNDEFINED_COLUMN), Fatal),
            (Some(SqlState::SYNTAX_ERROR), Fatal),
            (Some(SqlState::INSUFFICIENT_PRIVILEGE), Fatal),
            (Some(SqlState::DATATYPE_MISMATCH), Fatal),
        ];
        for (code, want) in cases {
            assert_eq!(classify(code.as_ref()), want, "{code:?}");
        }
    }

    #[test]
    fn placeholders_are_replaced_and_other_braces_kept() {
        let p = Placeholders {
            schema: "fl_s_1",
            input_topic: "fl-s-7-1",
            group_id: "fl-s-7-1.workers",
        };
        assert_eq!(
            ProgressSource::ledger().substitute(&p),
            ProgressSource::Sql {
                query: "SELECT partition, next_offset FROM fl_s_1.partition_offsets WHERE topic = 'fl-s-7-1'".into()
            }
        );
        let q = ProgressSource::Sql {
            query: "SELECT p, n FROM {schema}.o WHERE tags = '{a}' AND g = '{group_id}'".into(),
        };
        assert_eq!(
            q.substitute(&p),
            ProgressSource::Sql {
                query: "SELECT p, n FROM fl_s_1.o WHERE tags = '{a}' AND g = 'fl-s-7-1.workers'"
                    .into()
            }
        );
        assert_eq!(
            ProgressSource::KafkaGroup {
                group_id: "{group_id}".into()
            }
            .substitute(&p),
            ProgressSource::KafkaGroup {
                group_id: "fl-s-7-1.workers".into()
            }
        );
    }
}
