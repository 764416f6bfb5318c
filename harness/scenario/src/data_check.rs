//! Declarative data checks, embedded in scenario files: a name, a severity and one check kind,
//! written flat:
//!
//! ```toml
//! [[checks.data]]
//! name = "every transaction names its account"
//! check = "not_null"
//! table = "transactions"
//! column = "account_id"
//! ```
//!
//! These are the types and their TOML/JSON form; the oracle (`faultline-oracle`) turns each check
//! into a query and runs it.

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Whether a failing data check fails the run or only shows up in the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Failing rows fail the run.
    #[default]
    Error,
    /// Failing rows are reported; the run still passes.
    Warn,
}

/// One declarative check of the run's tables. Written flat in a scenario file: `name`, optional
/// `severity`, and the fields of one [`DataCheckKind`] selected by `check`. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCheck {
    /// What the check asserts, in words; names it in reports and errors.
    pub name: String,
    /// `error` (default) fails the run when rows fail; `warn` only reports them.
    pub severity: Severity,
    /// What to check.
    pub kind: DataCheckKind,
}

/// The kinds of data check, selected by the `check` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataCheckKind {
    /// No row has NULL in `column`.
    NotNull {
        /// Table in the run's schema.
        table: String,
        /// Column that must never be NULL.
        column: String,
    },
    /// No two rows share the values of `columns` (NULLs count as equal). Failing rows are the
    /// repeated combinations with a `copies` count.
    Unique {
        /// Table in the run's schema.
        table: String,
        /// Columns whose combination must be unique; at least one.
        columns: Vec<String>,
    },
    /// Every non-NULL value of `column`, as text, is one of `values` (check NULLs with `not_null`).
    AcceptedValues {
        /// Table in the run's schema.
        table: String,
        /// Column whose values are restricted.
        column: String,
        /// The allowed values, compared as text; at least one.
        values: Vec<String>,
    },
    /// The table's row count lies within `[min, max]`; give at least one bound.
    RowCount {
        /// Table in the run's schema.
        table: String,
        /// Fewest rows allowed; no lower bound when absent.
        #[serde(default)]
        min: Option<i64>,
        /// Most rows allowed; no upper bound when absent.
        #[serde(default)]
        max: Option<i64>,
    },
    /// The newest value of timestamp `column` is at most `max_age_s` seconds old; an empty table fails.
    Freshness {
        /// Table in the run's schema.
        table: String,
        /// A `timestamptz` (or `timestamp`) column.
        column: String,
        /// Largest allowed age of the newest row, in seconds.
        max_age_s: u64,
    },
    /// A query whose result rows are the failures; `{schema}` is replaced by the run's quoted schema.
    CustomSql {
        /// One `SELECT`, e.g. `SELECT * FROM {schema}.transactions WHERE amount_cents > 10^9`.
        sql: String,
    },
}

impl DataCheckKind {
    /// The `check` tag of this kind, as written in scenario files.
    pub fn tag(&self) -> &'static str {
        match self {
            DataCheckKind::NotNull { .. } => "not_null",
            DataCheckKind::Unique { .. } => "unique",
            DataCheckKind::AcceptedValues { .. } => "accepted_values",
            DataCheckKind::RowCount { .. } => "row_count",
            DataCheckKind::Freshness { .. } => "freshness",
            DataCheckKind::CustomSql { .. } => "custom_sql",
        }
    }
}

// Flat form: serde's `flatten` cannot be combined with `deny_unknown_fields`, so `name` and
// `severity` are taken out by hand and the rest must be exactly one kind's fields.
impl<'de> Deserialize<'de> for DataCheck {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let name = match fields.remove("name") {
            Some(Value::String(name)) => name,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "field `name` must be a string, found {other}"
                )))
            }
            None => return Err(D::Error::missing_field("name")),
        };
        let severity = match fields.remove("severity") {
            None => Severity::default(),
            Some(v) => Severity::deserialize(v).map_err(|e| {
                D::Error::custom(format!("data check `{name}`: field `severity`: {e}"))
            })?,
        };
        let kind = DataCheckKind::deserialize(Value::Object(fields))
            .map_err(|e| D::Error::custom(format!("data check `{name}`: {e}")))?;
        Ok(DataCheck {
            name,
            severity,
            kind,
        })
    }
}

impl Serialize for DataCheck {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.kind).map_err(S::Error::custom)?;
        if let Value::Object(fields) = &mut value {
            fields.insert("name".into(), Value::String(self.name.clone()));
            fields.insert(
                "severity".into(),
                serde_json::to_value(self.severity).map_err(S::Error::custom)?,
            );
        }
        value.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Scenario {
        data_checks: Vec<DataCheck>,
    }

    fn parse(toml_text: &str) -> Result<Vec<DataCheck>, String> {
        toml::from_str::<Scenario>(toml_text)
            .map(|s| s.data_checks)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn flat_toml_parses_with_error_severity_by_default() {
        let checks = parse(
            r#"
            [[data_checks]]
            name = "ids present"
            check = "not_null"
            table = "transactions"
            column = "transaction_id"

            [[data_checks]]
            name = "enough rows"
            severity = "warn"
            check = "row_count"
            table = "raw_events"
            min = 1
            "#,
        )
        .unwrap();
        assert_eq!(checks[0].severity, Severity::Error);
        assert_eq!(
            checks[0].kind,
            DataCheckKind::NotNull {
                table: "transactions".into(),
                column: "transaction_id".into()
            }
        );
        assert_eq!(checks[1].severity, Severity::Warn);
        assert_eq!(
            checks[1].kind,
            DataCheckKind::RowCount {
                table: "raw_events".into(),
                min: Some(1),
                max: None
            }
        );
    }

    #[test]
    fn a_misspelt_field_is_named_with_the_check_and_the_line() {
        let err = parse(
            r#"
            [[data_checks]]
            name = "ids present"
            check = "not_null"
            table = "transactions"
            colum = "transaction_id"
            "#,
        )
        .unwrap_err();
        assert!(
            err.contains("data check `ids present`") && err.contains("unknown field `colum`"),
            "{err}"
        );
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn an_unknown_check_kind_lists_the_known_ones() {
        let err = parse(
            "[[data_checks]]\nname = \"x\"\ncheck = \"not_nul\"\ntable = \"t\"\ncolumn = \"c\"\n",
        )
        .unwrap_err();
        assert!(
            err.contains("unknown variant `not_nul`") && err.contains("accepted_values"),
            "{err}"
        );
    }

    #[test]
    fn bad_severity_and_missing_name_are_refused() {
        let err = parse("[[data_checks]]\nname = \"x\"\nseverity = \"fatal\"\ncheck = \"custom_sql\"\nsql = \"SELECT 1\"\n").unwrap_err();
        assert!(
            err.contains("field `severity`") && err.contains("fatal"),
            "{err}"
        );
        let err =
            parse("[[data_checks]]\ncheck = \"custom_sql\"\nsql = \"SELECT 1\"\n").unwrap_err();
        assert!(err.contains("missing field `name`"), "{err}");
    }

    #[test]
    fn serializes_back_to_the_flat_form() {
        let check = DataCheck {
            name: "reasons known".into(),
            severity: Severity::Warn,
            kind: DataCheckKind::AcceptedValues {
                table: "quarantine".into(),
                column: "reason".into(),
                values: vec!["oversized".into()],
            },
        };
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json["check"], "accepted_values");
        assert_eq!(json["severity"], "warn");
        assert_eq!(serde_json::from_value::<DataCheck>(json).unwrap(), check);
    }
}
