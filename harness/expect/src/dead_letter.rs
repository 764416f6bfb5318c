//! `[expect.dead_letter]`: where the pipeline puts the records it refuses, and the check that every
//! record it must refuse arrives there exactly once, with the reason mapped for its kind, and that
//! no other record does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::anomaly::{Anomaly, AnomalyClass};
use crate::error::ExpectError;

/// The `[expect.dead_letter]` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterSpec {
    /// The Postgres table (in the run's schema) the pipeline writes refused records to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Or the topic it produces them to: `"{dlq_topic}"`, the run's dead-letter topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The column (table) or header (topic) holding the refused record's source partition.
    pub partition: String,
    /// The column or header holding its source offset.
    pub offset: String,
    /// The column or header holding the pipeline's reason; needed by `reasons`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Kind of malformed record the harness made (`missing_field`, `invalid_json`, ...) → the
    /// reason the pipeline must give it: one pattern or a list; a pattern ending in `*` matches
    /// any reason starting with what precedes it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reasons: BTreeMap<String, Patterns>,
}

/// One reason pattern or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Patterns {
    /// A single pattern.
    One(String),
    /// Any of these.
    Any(Vec<String>),
}

impl Patterns {
    fn list(&self) -> Vec<&str> {
        match self {
            Patterns::One(p) => vec![p.as_str()],
            Patterns::Any(ps) => ps.iter().map(String::as_str).collect(),
        }
    }

    /// Whether `reason` matches one of the patterns.
    pub fn matches(&self, reason: &str) -> bool {
        self.list().into_iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => reason.starts_with(prefix),
            None => reason == p,
        })
    }

    fn text(&self) -> String {
        self.list().join(" | ")
    }
}

/// Where the dead letters are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterTarget<'s> {
    /// A table of the run's schema.
    Table(&'s str),
    /// A topic (as written, placeholders unresolved).
    Topic(&'s str),
}

impl DeadLetterSpec {
    /// Exactly one of `table` and `topic`, non-empty names, a `reason` when `reasons` are mapped,
    /// and every mapped kind among `kinds`.
    pub fn validate(&self, kinds: &[&str]) -> Result<(), ExpectError> {
        let invalid = |field: &str, problem: String| ExpectError::Invalid {
            location: format!("expect.dead_letter.{field}"),
            problem,
        };
        self.target().map_err(|p| invalid("table", p))?;
        for (field, name) in [("partition", &self.partition), ("offset", &self.offset)] {
            if name.trim().is_empty() {
                return Err(invalid(
                    field,
                    "is empty; name the column (table) or header (topic) holding the refused \
                     record's source position"
                        .into(),
                ));
            }
        }
        if !self.reasons.is_empty() && self.reason.is_none() {
            return Err(invalid(
                "reason",
                "is missing: `reasons` are mapped, so name the column or header holding the \
                 pipeline's reason"
                    .into(),
            ));
        }
        for (kind, patterns) in &self.reasons {
            if !kinds.contains(&kind.as_str()) {
                return Err(invalid(
                    &format!("reasons.{kind}"),
                    format!(
                        "`{kind}` is not a kind of malformed record the harness makes; use one \
                         of {}",
                        kinds.join(", ")
                    ),
                ));
            }
            if patterns.list().iter().any(|p| p.is_empty()) || patterns.list().is_empty() {
                return Err(invalid(
                    &format!("reasons.{kind}"),
                    "has an empty pattern; give the reason the pipeline writes (a trailing `*` \
                     matches any suffix)"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// The table or the topic; an error text when both or neither are given.
    pub fn target(&self) -> Result<DeadLetterTarget<'_>, String> {
        match (&self.table, &self.topic) {
            (Some(t), None) if !t.trim().is_empty() => Ok(DeadLetterTarget::Table(t)),
            (None, Some(t)) if !t.trim().is_empty() => Ok(DeadLetterTarget::Topic(t)),
            (Some(_), Some(_)) => Err("give `table` or `topic`, not both".into()),
            _ => Err(
                "give `table = \"<table>\"` or `topic = \"{dlq_topic}\"`: where the \
                      pipeline puts the records it refuses"
                    .into(),
            ),
        }
    }

    /// The name the anomalies carry as their table.
    fn label(&self) -> String {
        match self.target() {
            Ok(DeadLetterTarget::Table(t)) => t.to_string(),
            Ok(DeadLetterTarget::Topic(t)) => format!("topic {t}"),
            Err(_) => "dead_letter".into(),
        }
    }
}

/// What the pipeline must do with one record the harness sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Refuse it; `kind` is the kind of malformed record the harness made, if it made it.
    Required {
        /// e.g. `missing_field`; `None` for the user's own records the `valid` predicate rejects.
        kind: Option<String>,
    },
    /// Accept it: a dead letter for it is unexpected.
    Forbidden,
    /// Either is right (a record whose fate the harness cannot tell, e.g. an oversized copy).
    Unjudged,
}

/// One record sent, by its position in the input topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// `(partition, offset)` in the input topic.
    pub position: (i32, i64),
    /// What the pipeline must do with it.
    pub refusal: Refusal,
}

/// One dead letter as read from the table or topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// Where it is, for the report: `row 12` or `p0@37`.
    pub at: String,
    /// The source position it names; `None` when the column or header is missing or not a number.
    pub source: Option<(i32, i64)>,
    /// The pipeline's reason, when `reason` is declared.
    pub reason: Option<String>,
}

/// Dead letters judged against what was sent. `copies_allowed` (a pipeline that does not promise
/// exactly once) lets a record be refused more than once. Anomalies are in position order.
pub fn check_dead_letters(
    spec: &DeadLetterSpec,
    sent: &[Sent],
    letters: &[Letter],
    copies_allowed: bool,
) -> Vec<Anomaly> {
    let label = spec.label();
    let mut by_source: BTreeMap<(i32, i64), Vec<&Letter>> = BTreeMap::new();
    let mut anomalies = Vec::new();
    for letter in letters {
        match letter.source {
            Some(pos) => by_source.entry(pos).or_default().push(letter),
            None => anomalies.push(anomaly(
                AnomalyClass::UnexpectedDeadLetter,
                &label,
                None,
                letter,
                format!(
                    "dead letter at {} has no source position in `{}`/`{}`",
                    letter.at, spec.partition, spec.offset
                ),
            )),
        }
    }
    let mut judged: BTreeMap<(i32, i64), &Refusal> = BTreeMap::new();
    for s in sent {
        judged.insert(s.position, &s.refusal);
    }
    for (&pos, refusal) in &judged {
        let found = by_source.get(&pos).map(Vec::as_slice).unwrap_or(&[]);
        match refusal {
            Refusal::Required { kind } => {
                let Some(first) = found.first() else {
                    let mut a = anomaly(
                        AnomalyClass::MissingDeadLetter,
                        &label,
                        Some(pos),
                        &Letter {
                            at: String::new(),
                            source: Some(pos),
                            reason: None,
                        },
                        format!(
                            "record p{}@{} ({}) must be refused but is not there",
                            pos.0,
                            pos.1,
                            kind.as_deref().unwrap_or("rejected by `valid`")
                        ),
                    );
                    a.actual = None;
                    anomalies.push(a);
                    continue;
                };
                if found.len() > 1 && !copies_allowed {
                    anomalies.push(anomaly(
                        AnomalyClass::DuplicateDeadLetter,
                        &label,
                        Some(pos),
                        first,
                        format!("refused {} times", found.len()),
                    ));
                }
                let patterns = kind.as_ref().and_then(|k| spec.reasons.get(k));
                if let (Some(kind), Some(patterns)) = (kind, patterns) {
                    for letter in found {
                        let reason = letter.reason.as_deref().unwrap_or("");
                        if !patterns.matches(reason) {
                            let mut a = anomaly(
                                AnomalyClass::WrongReason,
                                &label,
                                Some(pos),
                                letter,
                                format!(
                                    "a {kind} record must be refused with {}, got `{reason}`",
                                    patterns.text()
                                ),
                            );
                            a.expected = Some(row(pos, Some(&patterns.text())));
                            anomalies.push(a);
                        }
                    }
                }
            }
            Refusal::Forbidden => {
                for letter in found {
                    anomalies.push(anomaly(
                        AnomalyClass::UnexpectedDeadLetter,
                        &label,
                        Some(pos),
                        letter,
                        "a valid record was refused".into(),
                    ));
                }
            }
            Refusal::Unjudged => {}
        }
    }
    for (pos, found) in &by_source {
        if !judged.contains_key(pos) {
            for letter in found {
                anomalies.push(anomaly(
                    AnomalyClass::UnexpectedDeadLetter,
                    &label,
                    Some(*pos),
                    letter,
                    "names a position this run sent nothing to".into(),
                ));
            }
        }
    }
    anomalies
}

fn row(pos: (i32, i64), reason: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("partition".into(), pos.0.into());
    m.insert("offset".into(), pos.1.into());
    if let Some(r) = reason {
        m.insert("reason".into(), r.into());
    }
    m
}

fn anomaly(
    class: AnomalyClass,
    table: &str,
    pos: Option<(i32, i64)>,
    letter: &Letter,
    note: String,
) -> Anomaly {
    let mut actual = letter
        .source
        .map(|p| row(p, letter.reason.as_deref()))
        .unwrap_or_default();
    if !letter.at.is_empty() {
        actual.insert("at".into(), letter.at.clone().into());
    }
    Anomaly {
        class,
        table: table.to_string(),
        key: pos.map_or_else(|| "[]".into(), |(p, o)| format!("[{p},{o}]")),
        expected: None,
        actual: Some(actual),
        sources: pos.into_iter().collect(),
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> DeadLetterSpec {
        toml::from_str(
            r#"
            table = "rejected"
            partition = "source_partition"
            offset = "source_offset"
            reason = "reason"
            [reasons]
            missing_field = "missing:*"
            invalid_value = ["range:*", "enum:*"]
            invalid_json = "not-json"
            "#,
        )
        .expect("parses")
    }

    fn letter(p: i32, o: i64, reason: &str) -> Letter {
        Letter {
            at: format!("row {o}"),
            source: Some((p, o)),
            reason: Some(reason.into()),
        }
    }

    fn required(p: i32, o: i64, kind: &str) -> Sent {
        Sent {
            position: (p, o),
            refusal: Refusal::Required {
                kind: Some(kind.into()),
            },
        }
    }

    #[test]
    fn validation_names_the_field_and_the_fix() {
        let kinds = ["missing_field", "invalid_value", "invalid_json"];
        spec().validate(&kinds).expect("valid");
        let err = spec().validate(&["missing_field"]).unwrap_err().to_string();
        assert!(
            err.starts_with("expect.dead_letter.reasons.invalid_json"),
            "{err}"
        );
        let mut both = spec();
        both.topic = Some("{dlq_topic}".into());
        let err = both.validate(&kinds).unwrap_err().to_string();
        assert!(err.contains("not both"), "{err}");
        let mut no_reason = spec();
        no_reason.reason = None;
        let err = no_reason.validate(&kinds).unwrap_err().to_string();
        assert!(err.starts_with("expect.dead_letter.reason:"), "{err}");
    }

    #[test]
    fn every_refusal_once_with_its_reason_and_nothing_else() {
        let sent = vec![
            required(0, 1, "missing_field"),
            required(0, 2, "invalid_value"),
            required(0, 3, "invalid_json"),
            required(1, 0, "missing_field"),
            Sent {
                position: (1, 1),
                refusal: Refusal::Forbidden,
            },
            Sent {
                position: (1, 2),
                refusal: Refusal::Unjudged,
            },
            Sent {
                position: (1, 3),
                refusal: Refusal::Required { kind: None },
            },
        ];
        let letters = vec![
            letter(0, 1, "missing:account"),
            letter(0, 2, "enum:category"),
            letter(0, 3, "type:amount"), // wrong reason
            // (1, 0) missing
            letter(1, 1, "range:amount"), // a valid record refused
            letter(1, 2, "whatever"),     // unjudged
            letter(1, 3, "custom"),
            letter(1, 3, "custom"), // twice
            letter(2, 9, "missing:x"),
            Letter {
                at: "row 99".into(),
                source: None,
                reason: None,
            },
        ];
        let found: Vec<(AnomalyClass, String)> =
            check_dead_letters(&spec(), &sent, &letters, false)
                .into_iter()
                .map(|a| (a.class, a.key))
                .collect();
        assert_eq!(
            found,
            vec![
                (AnomalyClass::UnexpectedDeadLetter, "[]".into()),
                (AnomalyClass::WrongReason, "[0,3]".into()),
                (AnomalyClass::MissingDeadLetter, "[1,0]".into()),
                (AnomalyClass::UnexpectedDeadLetter, "[1,1]".into()),
                (AnomalyClass::DuplicateDeadLetter, "[1,3]".into()),
                (AnomalyClass::UnexpectedDeadLetter, "[2,9]".into()),
            ]
        );
        let at_least_once = check_dead_letters(&spec(), &sent, &letters, true);
        assert!(at_least_once
            .iter()
            .all(|a| a.class != AnomalyClass::DuplicateDeadLetter));
    }
}
