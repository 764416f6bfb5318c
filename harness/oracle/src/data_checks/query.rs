//! The SQL of a data check: identifiers validated, then one query returning the failing rows as
//! JSON text (`row_to_json`) with the total count alongside, capped and in a stable order.

use super::{DataCheck, DataCheckKind};
use crate::error::OracleError;
use crate::sql::{is_plain_ident, quote_ident};
use faultline_report::MAX_FAILING_ROWS;

/// A data check as SQL: columns `total` (int8, every failing row) and `row` (text, one JSON
/// object), at most [`MAX_FAILING_ROWS`] rows. `values`, when present, is bound as `$1` (`text[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingRowsQuery {
    /// The query text.
    pub sql: String,
    /// The accepted values of an `accepted_values` check, bound as `$1`.
    pub values: Option<Vec<String>>,
}

/// Builds the query for `check` against `schema`. Table, column and schema names must be plain
/// identifiers; the error names the offending field.
pub fn failing_rows_query(
    schema: &str,
    check: &DataCheck,
) -> Result<FailingRowsQuery, OracleError> {
    let v = Validator { check: &check.name };
    let schema = v.ident("schema", schema)?;
    let table_in = |table: &str| -> Result<String, OracleError> {
        Ok(format!("{schema}.{}", v.ident("table", table)?))
    };
    let mut values = None;
    let failing = match &check.kind {
        DataCheckKind::NotNull { table, column } => {
            format!(
                "SELECT * FROM {} WHERE {} IS NULL",
                table_in(table)?,
                v.ident("column", column)?
            )
        }
        DataCheckKind::Unique { table, columns } => {
            if columns.is_empty() {
                return Err(v.invalid("`columns` is empty; name at least one column"));
            }
            let cols = columns
                .iter()
                .enumerate()
                .map(|(i, c)| v.ident(&format!("columns[{i}]"), c))
                .collect::<Result<Vec<_>, _>>()?
                .join(", ");
            format!(
                "SELECT {cols}, count(*) AS copies FROM {} GROUP BY {cols} HAVING count(*) > 1",
                table_in(table)?
            )
        }
        DataCheckKind::AcceptedValues {
            table,
            column,
            values: accepted,
        } => {
            if accepted.is_empty() {
                return Err(v.invalid("`values` is empty; list at least one accepted value"));
            }
            values = Some(accepted.clone());
            let column = v.ident("column", column)?;
            format!(
                "SELECT * FROM {} WHERE {column} IS NOT NULL AND {column}::text <> ALL($1::text[])",
                table_in(table)?
            )
        }
        DataCheckKind::RowCount { table, min, max } => {
            let bounds = match (min, max) {
                (None, None) => return Err(v.invalid("give `min`, `max` or both")),
                (Some(lo), Some(hi)) if lo > hi => {
                    return Err(v.invalid(&format!("`min` = {lo} is above `max` = {hi}")))
                }
                (Some(lo), Some(hi)) => format!("count(*) < {lo} OR count(*) > {hi}"),
                (Some(lo), None) => format!("count(*) < {lo}"),
                (None, Some(hi)) => format!("count(*) > {hi}"),
            };
            format!(
                "SELECT count(*)::int8 AS row_count FROM {} HAVING {bounds}",
                table_in(table)?
            )
        }
        DataCheckKind::Freshness {
            table,
            column,
            max_age_s,
        } => {
            let column = v.ident("column", column)?;
            format!(
                "SELECT max({column}) AS newest, now() - max({column}) AS age FROM {} \
                 HAVING max({column}) IS NULL OR max({column}) < now() - {max_age_s} * interval '1 second'",
                table_in(table)?
            )
        }
        DataCheckKind::CustomSql { sql } => {
            let body = sql.trim().trim_end_matches(';').trim_end();
            if body.is_empty() {
                return Err(v.invalid("`sql` is empty; write a SELECT whose rows are the failures"));
            }
            body.replace("{schema}", &schema)
        }
    };
    Ok(FailingRowsQuery {
        sql: format!(
            "SELECT count(*) OVER ()::int8 AS total, row_to_json(failing)::text AS row \
             FROM ({failing}\n) AS failing ORDER BY 2 LIMIT {MAX_FAILING_ROWS}"
        ),
        values,
    })
}

/// Checks identifiers and words errors for one data check.
struct Validator<'a> {
    check: &'a str,
}

impl Validator<'_> {
    /// `value` quoted, if it is a plain identifier.
    fn ident(&self, field: &str, value: &str) -> Result<String, OracleError> {
        if is_plain_ident(value) {
            Ok(quote_ident(value))
        } else {
            Err(OracleError::BadIdentifier {
                check: self.check.to_string(),
                field: field.to_string(),
                value: value.to_string(),
            })
        }
    }

    fn invalid(&self, problem: &str) -> OracleError {
        OracleError::InvalidCheck {
            check: self.check.to_string(),
            problem: problem.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_checks::Severity;

    fn query(kind: DataCheckKind) -> Result<FailingRowsQuery, OracleError> {
        failing_rows_query(
            "run_7",
            &DataCheck {
                name: "c".into(),
                severity: Severity::Error,
                kind,
            },
        )
    }

    /// The inner query, without the common wrapper.
    fn failing(kind: DataCheckKind) -> String {
        let sql = query(kind).unwrap().sql;
        let inner = sql.split_once("FROM (").unwrap().1;
        inner.rsplit_once("\n) AS failing").unwrap().0.to_string()
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn every_query_returns_total_and_json_rows_capped_in_a_stable_order() {
        let q = query(DataCheckKind::NotNull {
            table: s("transactions"),
            column: s("account_id"),
        })
        .unwrap();
        assert!(q.sql.starts_with(
            "SELECT count(*) OVER ()::int8 AS total, row_to_json(failing)::text AS row FROM ("
        ));
        assert!(
            q.sql.ends_with(") AS failing ORDER BY 2 LIMIT 50"),
            "{}",
            q.sql
        );
        assert_eq!(q.values, None);
    }

    #[test]
    fn not_null_selects_rows_with_null() {
        assert_eq!(
            failing(DataCheckKind::NotNull {
                table: s("transactions"),
                column: s("account_id")
            }),
            r#"SELECT * FROM "run_7"."transactions" WHERE "account_id" IS NULL"#
        );
    }

    #[test]
    fn unique_selects_repeated_combinations_with_their_count() {
        assert_eq!(
            failing(DataCheckKind::Unique {
                table: s("quarantine"),
                columns: vec![s("source_partition"), s("source_offset")]
            }),
            r#"SELECT "source_partition", "source_offset", count(*) AS copies FROM "run_7"."quarantine" GROUP BY "source_partition", "source_offset" HAVING count(*) > 1"#
        );
    }

    #[test]
    fn accepted_values_binds_the_values_instead_of_quoting_them() {
        let q = query(DataCheckKind::AcceptedValues {
            table: s("quarantine"),
            column: s("reason"),
            values: vec![s("it's"), s("x")],
        })
        .unwrap();
        assert!(
            q.sql
                .contains(r#"WHERE "reason" IS NOT NULL AND "reason"::text <> ALL($1::text[])"#),
            "{}",
            q.sql
        );
        assert!(!q.sql.contains("it's"));
        assert_eq!(q.values, Some(vec![s("it's"), s("x")]));
    }

    #[test]
    fn row_count_fails_outside_the_bounds_given() {
        let count = |min, max| {
            failing(DataCheckKind::RowCount {
                table: s("raw_events"),
                min,
                max,
            })
        };
        assert_eq!(
            count(Some(1), None),
            r#"SELECT count(*)::int8 AS row_count FROM "run_7"."raw_events" HAVING count(*) < 1"#
        );
        assert!(count(None, Some(9)).ends_with("HAVING count(*) > 9"));
        assert!(count(Some(1), Some(9)).ends_with("HAVING count(*) < 1 OR count(*) > 9"));
    }

    #[test]
    fn row_count_without_bounds_or_with_crossed_bounds_is_refused() {
        let err = query(DataCheckKind::RowCount {
            table: s("t"),
            min: None,
            max: None,
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "data check `c`: give `min`, `max` or both");
        let err = query(DataCheckKind::RowCount {
            table: s("t"),
            min: Some(5),
            max: Some(2),
        })
        .unwrap_err();
        assert!(err.to_string().contains("`min` = 5 is above `max` = 2"));
    }

    #[test]
    fn freshness_fails_an_old_or_empty_table() {
        let sql = failing(DataCheckKind::Freshness {
            table: s("transactions"),
            column: s("ingested_at"),
            max_age_s: 300,
        });
        assert!(sql.contains(r#"FROM "run_7"."transactions""#), "{sql}");
        assert!(sql.ends_with(r#"HAVING max("ingested_at") IS NULL OR max("ingested_at") < now() - 300 * interval '1 second'"#), "{sql}");
    }

    #[test]
    fn custom_sql_gets_the_quoted_schema_and_loses_its_semicolon() {
        let sql = failing(DataCheckKind::CustomSql {
            sql: s(" SELECT * FROM {schema}.transactions WHERE delta_cents = 0 ;\n"),
        });
        assert_eq!(
            sql,
            r#"SELECT * FROM "run_7".transactions WHERE delta_cents = 0"#
        );
        let err = query(DataCheckKind::CustomSql { sql: s(" ; ") }).unwrap_err();
        assert!(matches!(err, OracleError::InvalidCheck { .. }));
    }

    #[test]
    fn identifiers_are_validated_and_the_error_names_the_field() {
        let err = query(DataCheckKind::NotNull {
            table: s("transactions; DROP TABLE x"),
            column: s("c"),
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"data check `c`: field `table` = "transactions; DROP TABLE x" is not a plain identifier; use 1 to 63 ASCII letters, digits and underscores"#
        );
        let err = query(DataCheckKind::Unique {
            table: s("t"),
            columns: vec![s("a"), s("b.c")],
        })
        .unwrap_err();
        assert!(
            matches!(err, OracleError::BadIdentifier { ref field, .. } if field == "columns[1]"),
            "{err}"
        );
        let err = failing_rows_query(
            "run-7",
            &DataCheck {
                name: s("c"),
                severity: Severity::Warn,
                kind: DataCheckKind::CustomSql { sql: s("SELECT 1") },
            },
        )
        .unwrap_err();
        assert!(
            matches!(err, OracleError::BadIdentifier { ref field, .. } if field == "schema"),
            "{err}"
        );
    }

    #[test]
    fn empty_lists_are_refused() {
        assert!(query(DataCheckKind::Unique {
            table: s("t"),
            columns: vec![]
        })
        .is_err());
        assert!(query(DataCheckKind::AcceptedValues {
            table: s("t"),
            column: s("c"),
            values: vec![]
        })
        .is_err());
    }
}
