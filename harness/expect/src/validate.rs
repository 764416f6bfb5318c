//! Turns an [`ExpectSpec`] into a [`Plan`], rejecting inconsistent
//! declarations with messages that name the table, the field and the fix.

use std::collections::BTreeMap;

use crate::aggregate::{AggregateError, AggregateFn};
use crate::error::{ExpectError, ParseError};
use crate::expr::{Expr, FieldPath};
use crate::mode::Mode;
use crate::plan::{
    AggregateRules, OrderBy, Plan, TablePlan, TableRules, UpsertRules, OFFSET_ORDER,
};
use crate::spec::{ExpectSpec, TableSpec};

impl Plan {
    /// Validates and parses every declaration; the first problem wins.
    pub(crate) fn compile(spec: &ExpectSpec) -> Result<Plan, ExpectError> {
        if spec.tables.is_empty() && spec.dead_letter.is_none() {
            return Err(ExpectError::NoTables);
        }
        let identity = spec
            .identity
            .iter()
            .enumerate()
            .map(|(i, text)| {
                FieldPath::parse(text).map_err(|e| expression(format!("expect.identity[{i}]"), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let valid = spec
            .valid
            .as_deref()
            .map(|text| Expr::parse(text).map_err(|e| expression("expect.valid".into(), e)))
            .transpose()?;
        let mut first_index: BTreeMap<&str, usize> = BTreeMap::new();
        let mut tables = Vec::with_capacity(spec.tables.len());
        for (index, table) in spec.tables.iter().enumerate() {
            let site = Site { index, table };
            if let Some(first) = first_index.insert(&table.table, index) {
                return Err(site.invalid(
                    "table",
                    format!("table \"{}\" is also declared by expect.table[{first}]; merge the two sections", table.table),
                ));
            }
            tables.push(site.compile()?);
        }
        Ok(Plan {
            identity,
            valid,
            tables,
        })
    }
}

fn expression(context: String, source: ParseError) -> ExpectError {
    ExpectError::Expression { context, source }
}

/// One table being validated, for locating errors.
struct Site<'s> {
    index: usize,
    table: &'s TableSpec,
}

impl Site<'_> {
    fn invalid(&self, field: &str, problem: String) -> ExpectError {
        ExpectError::Invalid {
            location: format!(
                "expect.table[{}] ({}).{field}",
                self.index, self.table.table
            ),
            problem,
        }
    }

    fn expr(&self, field: &str, text: &str) -> Result<Expr, ExpectError> {
        Expr::parse(text).map_err(|e| expression(format!("{}.{field}", self.table.table), e))
    }

    fn exprs(
        &self,
        field: &str,
        map: &BTreeMap<String, String>,
    ) -> Result<Vec<(String, Expr)>, ExpectError> {
        map.iter()
            .map(|(name, text)| Ok((name.clone(), self.expr(&format!("{field}.{name}"), text)?)))
            .collect()
    }

    fn compile(&self) -> Result<TablePlan, ExpectError> {
        let t = self.table;
        if t.table.trim().is_empty() {
            return Err(self.invalid(
                "table",
                "the table name is empty; set it to the Postgres table to check".into(),
            ));
        }
        let mode = &t.mode;
        if let Mode::Unknown(name) = mode {
            return Err(self.invalid(
                "mode",
                format!("unknown mode \"{name}\"; use insert, upsert, aggregate or command"),
            ));
        }
        self.reject_foreign_fields(mode)?;
        self.check_key()?;
        let tolerance = t.tolerance.unwrap_or(0.0);
        if !(tolerance >= 0.0 && tolerance.is_finite()) {
            return Err(self.invalid(
                "tolerance",
                format!("must be a number >= 0 (got {tolerance}); use 0 for exact comparison"),
            ));
        }
        let filter = t
            .filter
            .as_deref()
            .map(|text| self.expr("where", text))
            .transpose()?;
        let (columns, rules) = match mode {
            Mode::Aggregate => (Vec::new(), TableRules::Aggregate(self.aggregate_rules()?)),
            Mode::Command => (Vec::new(), {
                self.command()?;
                TableRules::Command
            }),
            _ => {
                let columns = self.exprs("columns", &t.columns)?;
                let rules = match mode {
                    Mode::Upsert => TableRules::Upsert(self.upsert_rules()?),
                    _ => TableRules::Insert,
                };
                (columns, rules)
            }
        };
        Ok(TablePlan {
            name: t.table.clone(),
            key: t.key.clone(),
            columns,
            filter,
            tolerance,
            rules,
        })
    }

    /// A `command` table's program: non-empty, with a non-empty program name.
    fn command(&self) -> Result<(), ExpectError> {
        match &self.table.command {
            Some(argv) if argv.first().is_some_and(|p| !p.trim().is_empty()) => Ok(()),
            _ => Err(self.invalid(
                "command",
                "mode = \"command\" needs the program to run, e.g. command = [\"python3\", \"expected.py\"]"
                    .into(),
            )),
        }
    }

    /// Fields that belong to another mode.
    fn reject_foreign_fields(&self, mode: &Mode) -> Result<(), ExpectError> {
        let t = self.table;
        let foreign = [
            ("order_by", t.order_by.is_some(), Mode::Upsert),
            ("delete_when", t.delete_when.is_some(), Mode::Upsert),
            ("kafka_key", t.kafka_key.is_some(), Mode::Upsert),
            ("group_by", t.group_by.is_some(), Mode::Aggregate),
            ("aggregates", t.aggregates.is_some(), Mode::Aggregate),
            ("command", t.command.is_some(), Mode::Command),
        ];
        for (field, present, owner) in foreign {
            if present && *mode != owner {
                return Err(self.invalid(
                    field,
                    format!("only allowed with mode = \"{owner}\" (this table is \"{mode}\"); remove it or change mode"),
                ));
            }
        }
        if *mode == Mode::Command && (!t.columns.is_empty() || t.filter.is_some()) {
            return Err(self.invalid(
                if t.filter.is_some() { "where" } else { "columns" },
                "not used with mode = \"command\": the program prints whole rows from all the records"
                    .into(),
            ));
        }
        if *mode == Mode::Aggregate && !t.columns.is_empty() {
            return Err(self.invalid(
                "columns",
                "not used with mode = \"aggregate\"; put grouping columns in group_by and computed ones in aggregates"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The key is non-empty, has no repeats, and names declared columns.
    fn check_key(&self) -> Result<(), ExpectError> {
        let t = self.table;
        if t.key.is_empty() {
            return Err(self.invalid(
                "key",
                "no key columns; list the columns that identify a row".into(),
            ));
        }
        let (pool, pool_name, fix): (Vec<&String>, &str, &str) = match &t.mode {
            Mode::Command => (t.key.iter().collect(), "key", ""),
            Mode::Aggregate => (
                t.group_by.iter().flat_map(BTreeMap::keys).collect(),
                "group_by columns",
                "add it to group_by",
            ),
            _ => (
                t.columns.keys().collect(),
                "columns",
                "add it to [expect.table.columns]",
            ),
        };
        for (i, column) in t.key.iter().enumerate() {
            if t.key[..i].contains(column) {
                return Err(self.invalid(
                    "key",
                    format!("column \"{column}\" is listed twice; list it once"),
                ));
            }
            if !pool.contains(&column) {
                let known = pool
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(self.invalid(
                    "key",
                    format!("column \"{column}\" is not among its {pool_name} ({known}); {fix} or fix key"),
                ));
            }
        }
        Ok(())
    }

    fn upsert_rules(&self) -> Result<UpsertRules, ExpectError> {
        let t = self.table;
        let order_by = match t.order_by.as_deref() {
            None | Some(OFFSET_ORDER) => OrderBy::Offset,
            Some(text) => OrderBy::Field(
                FieldPath::parse(text)
                    .map_err(|e| expression(format!("{}.order_by", t.table), e))?,
            ),
        };
        let delete_when = t
            .delete_when
            .as_deref()
            .map(|text| self.expr("delete_when", text))
            .transpose()?;
        let kafka_key = match t.kafka_key.as_deref() {
            None => None,
            Some([column]) if t.key.contains(column) => Some(column.clone()),
            Some([column]) => {
                return Err(self.invalid(
                    "kafka_key",
                    format!(
                        "column \"{column}\" is not among key ({}); name the key column the Kafka record key holds",
                        t.key.join(", ")
                    ),
                ))
            }
            Some(columns) => {
                return Err(self.invalid(
                    "kafka_key",
                    format!("lists {} columns; only a single column is supported", columns.len()),
                ))
            }
        };
        Ok(UpsertRules {
            order_by,
            delete_when,
            kafka_key,
        })
    }

    fn aggregate_rules(&self) -> Result<AggregateRules, ExpectError> {
        let t = self.table;
        let no_groups = BTreeMap::new();
        let group_by = t.group_by.as_ref().unwrap_or(&no_groups);
        let mut aggregates = Vec::new();
        for (name, text) in t.aggregates.iter().flatten() {
            let field = format!("aggregates.{name}");
            if group_by.contains_key(name) {
                return Err(self.invalid(
                    &field,
                    "the column is also in group_by; give it another name".into(),
                ));
            }
            let func = AggregateFn::parse(text).map_err(|err| match err {
                AggregateError::Unknown => self.invalid(
                    &field,
                    format!(
                        "unknown aggregate \"{text}\"; use count, sum(e), min(e), max(e) or avg(e)"
                    ),
                ),
                AggregateError::Syntax(source) => {
                    expression(format!("{}.{field}", t.table), source)
                }
            })?;
            aggregates.push((name.clone(), func));
        }
        Ok(AggregateRules {
            group_by: self.exprs("group_by", group_by)?,
            aggregates,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::ExpectSpec;
    use crate::test_support::example_spec;

    fn error_after(change: impl FnOnce(&mut ExpectSpec)) -> String {
        let mut spec = example_spec();
        change(&mut spec);
        spec.validate().expect_err("should be invalid").to_string()
    }

    #[test]
    fn key_outside_columns_names_table_field_and_fix() {
        assert_eq!(
            error_after(|s| {
                s.tables[0].key = vec!["id".into()];
                s.tables[0].columns.retain(|c, _| c == "order_id" || c == "status");
            }),
            "expect.table[0] (orders).key: column \"id\" is not among its columns (order_id, status); \
             add it to [expect.table.columns] or fix key"
        );
        assert_eq!(
            error_after(|s| s.tables[2].key = vec!["region".into()]),
            "expect.table[2] (order_status_counts).key: column \"region\" is not among its group_by columns \
             (status); add it to group_by or fix key"
        );
        assert_eq!(
            error_after(|s| s.tables[1].key.clear()),
            "expect.table[1] (order_events).key: no key columns; list the columns that identify a row"
        );
    }

    #[test]
    fn structural_mistakes_are_reported() {
        assert_eq!(
            error_after(|s| s.tables.clear()),
            "expect.table: no tables are declared; add at least one [[expect.table]] section (or an \
             [expect.dead_letter])"
        );
        assert_eq!(
            error_after(|s| s.tables[1].mode = "append".to_string().into()),
            "expect.table[1] (order_events).mode: unknown mode \"append\"; use insert, upsert, aggregate or command"
        );
        assert_eq!(
            error_after(|s| s.tables[1].order_by = Some("version".into())),
            "expect.table[1] (order_events).order_by: only allowed with mode = \"upsert\" (this table is \
             \"insert\"); remove it or change mode"
        );
        assert_eq!(
            error_after(|s| s.tables[0].group_by = Some(Default::default())),
            "expect.table[0] (orders).group_by: only allowed with mode = \"aggregate\" (this table is \
             \"upsert\"); remove it or change mode"
        );
        assert_eq!(
            error_after(|s| s.tables[2].tolerance = Some(-0.5)),
            "expect.table[2] (order_status_counts).tolerance: must be a number >= 0 (got -0.5); use 0 for exact \
             comparison"
        );
        assert_eq!(
            error_after(|s| s.tables[0].kafka_key = Some(vec!["status".into()])),
            "expect.table[0] (orders).kafka_key: column \"status\" is not among key (order_id); name the key \
             column the Kafka record key holds"
        );
        assert_eq!(
            error_after(|s| s.tables.push(s.tables[1].clone())),
            "expect.table[3] (order_events).table: table \"order_events\" is also declared by expect.table[1]; \
             merge the two sections"
        );
    }

    #[test]
    fn expressions_and_aggregates_are_checked() {
        assert_eq!(
            error_after(|s| {
                s.tables[0]
                    .columns
                    .insert("total_eur".into(), "amount_cents / ".into());
            }),
            "orders.columns.total_eur: \"amount_cents / \" at 15: expected a value"
        );
        assert_eq!(
            error_after(|s| s.tables[2].filter = Some("status != 'draft".into())),
            "order_status_counts.where: \"status != 'draft\" at 16: expected a closing quote (')"
        );
        assert_eq!(
            error_after(|s| s.tables[0].order_by = Some("version + 1".into())),
            "orders.order_by: \"version + 1\" at 8: expected the end of the field path"
        );
        assert_eq!(
            error_after(|s| {
                s.tables[2].aggregates.get_or_insert_with(Default::default).insert("p50".into(), "median(x)".into());
            }),
            "expect.table[2] (order_status_counts).aggregates.p50: unknown aggregate \"median(x)\"; use count, \
             sum(e), min(e), max(e) or avg(e)"
        );
        assert_eq!(
            error_after(|s| s.identity = vec!["order_id".into(), "ver sion".into()]),
            "expect.identity[1]: \"ver sion\" at 4: expected the end of the field path"
        );
    }
}
