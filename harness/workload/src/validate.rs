//! The oracle's reference validator: record bytes in, a valid event or the one reason code out.
//!
//! The pipeline under test has its own implementation; this one exists so the generator can prove that
//! every record it labels gets exactly the label it claims. Checks run in the contract's precedence
//! order, so the first failing check is the answer.
//!
//! Choices where the contract is silent, documented here so the pipeline's authors can compare:
//! - `created_at` is accepted with any RFC 3339 offset; the generator only ever writes `Z`.
//! - `null` counts as `wrong_type`, not as a missing field. The generator never emits `null`.
//! - An integer literal too large for u64 is read by serde_json as a float and so is `wrong_type`;
//!   integers between `MAX_AMOUNT_CENTS` and u64::MAX are `invalid_value`.
//! - A duplicated key inside one object keeps the last value (serde_json's behaviour). The
//!   generator never emits duplicated keys.
//! - `transaction_id` must be a non-empty string; its UUID shape is not checked.

use serde_json::{Map, Number, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::event::{Channel, Kind};
use crate::reason::{ReasonCode, MAX_AMOUNT_CENTS, MAX_RECORD_BYTES};

/// Fields every version requires, in contract order.
pub const REQUIRED_FIELDS: [&str; 6] = [
    "transaction_id",
    "account_id",
    "kind",
    "amount_cents",
    "created_at",
    "schema_version",
];

/// The field schema version 2 adds.
pub const CHANNEL_FIELD: &str = "channel";

/// A record that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidEvent {
    /// Idempotency key of the transaction.
    pub transaction_id: String,
    /// The account whose balance changes.
    pub account_id: String,
    /// Credit or debit.
    pub kind: Kind,
    /// Non-negative amount in cents.
    pub amount_cents: i64,
    /// Event time as parsed from `created_at`.
    pub created_at: OffsetDateTime,
    /// 1 or 2.
    pub schema_version: u8,
    /// Present exactly when `schema_version` is 2.
    pub channel: Option<Channel>,
}

impl ValidEvent {
    /// The balance change: `+amount_cents` for credit, `-amount_cents` for debit.
    pub fn delta_cents(&self) -> i64 {
        match self.kind {
            Kind::Credit => self.amount_cents,
            Kind::Debit => -self.amount_cents,
        }
    }
}

/// Validates one record value against the event contract.
pub fn validate(value: &[u8]) -> Result<ValidEvent, ReasonCode> {
    if value.len() > MAX_RECORD_BYTES {
        return Err(ReasonCode::Oversized);
    }
    if value.is_empty() {
        return Err(ReasonCode::EmptyRecord);
    }
    let text = std::str::from_utf8(value).map_err(|_| ReasonCode::NotUtf8)?;
    // serde_json stops at 128 levels of nesting with an error, so poison pills cannot overflow
    // the stack here.
    let parsed: Value = serde_json::from_str(text).map_err(|_| ReasonCode::InvalidJson)?;
    let Value::Object(object) = parsed else {
        return Err(ReasonCode::NotAnObject);
    };

    let version = schema_version(&object)?;
    check_field_names(&object, version)?;

    let transaction_id = string_field(&object, "transaction_id")?;
    let account_id = string_field(&object, "account_id")?;
    let kind = string_field(&object, "kind")?;
    let amount = integer_field(&object, "amount_cents")?;
    let created_at = string_field(&object, "created_at")?;
    // A non-integer schema_version was left for this stage by `schema_version`.
    integer_field(&object, "schema_version")?;
    let channel = match object.get(CHANNEL_FIELD) {
        Some(_) => Some(string_field(&object, CHANNEL_FIELD)?),
        None => None,
    };

    if transaction_id.is_empty() || account_id.is_empty() {
        return Err(ReasonCode::InvalidValue);
    }
    let kind = Kind::from_wire(kind).ok_or(ReasonCode::InvalidValue)?;
    let created_at =
        OffsetDateTime::parse(created_at, &Rfc3339).map_err(|_| ReasonCode::InvalidValue)?;
    let channel = match channel {
        Some(c) => Some(Channel::from_wire(c).ok_or(ReasonCode::InvalidValue)?),
        None => None,
    };
    let amount_cents = match amount.as_i64() {
        Some(a) if a > MAX_AMOUNT_CENTS => return Err(ReasonCode::InvalidValue),
        Some(a) if a < 0 => return Err(ReasonCode::NegativeAmount),
        Some(a) => a,
        // Only u64 values above i64::MAX reach here: they do not fit i64.
        None => return Err(ReasonCode::InvalidValue),
    };

    Ok(ValidEvent {
        transaction_id: transaction_id.to_owned(),
        account_id: account_id.to_owned(),
        kind,
        amount_cents,
        created_at,
        schema_version: version.map_or(1, |v| v as u8),
        channel,
    })
}

/// The declared version when it is a known integer, `None` when absent or not an integer (those are
/// reported later as `missing_field` or `wrong_type`), and `unknown_schema_version` otherwise.
fn schema_version(object: &Map<String, Value>) -> Result<Option<SchemaVersion>, ReasonCode> {
    match object.get("schema_version") {
        Some(Value::Number(n)) if is_integer(n) => match n.as_u64() {
            Some(1) => Ok(Some(SchemaVersion::V1)),
            Some(2) => Ok(Some(SchemaVersion::V2)),
            _ => Err(ReasonCode::UnknownSchemaVersion),
        },
        _ => Ok(None),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SchemaVersion {
    V1 = 1,
    V2 = 2,
}

/// Missing fields first, then unknown ones. When the version is undetermined `channel` is neither
/// required nor unknown, so the record's real problem (the version's type) is what gets reported.
fn check_field_names(
    object: &Map<String, Value>,
    version: Option<SchemaVersion>,
) -> Result<(), ReasonCode> {
    let channel_required = version == Some(SchemaVersion::V2);
    let channel_allowed = version != Some(SchemaVersion::V1);
    let missing_base = REQUIRED_FIELDS.iter().any(|f| !object.contains_key(*f));
    if missing_base || (channel_required && !object.contains_key(CHANNEL_FIELD)) {
        return Err(ReasonCode::MissingField);
    }
    let unknown = object.keys().any(|k| {
        !(REQUIRED_FIELDS.contains(&k.as_str()) || (channel_allowed && k == CHANNEL_FIELD))
    });
    if unknown {
        return Err(ReasonCode::UnknownField);
    }
    Ok(())
}

fn string_field<'a>(object: &'a Map<String, Value>, name: &str) -> Result<&'a str, ReasonCode> {
    match object.get(name) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(ReasonCode::WrongType),
    }
}

fn integer_field<'a>(object: &'a Map<String, Value>, name: &str) -> Result<&'a Number, ReasonCode> {
    match object.get(name) {
        Some(Value::Number(n)) if is_integer(n) => Ok(n),
        _ => Err(ReasonCode::WrongType),
    }
}

fn is_integer(n: &Number) -> bool {
    n.is_i64() || n.is_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#""transaction_id":"t-1","account_id":"acct-000001","kind":"credit","amount_cents":500,"created_at":"2026-11-23T10:00:00.123Z""#;

    fn record(rest: &str) -> Vec<u8> {
        format!("{{{BASE}{rest}}}").into_bytes()
    }

    fn reason(bytes: &[u8]) -> ReasonCode {
        validate(bytes).expect_err("record should be rejected")
    }

    #[test]
    fn valid_v1_and_v2_events_parse() {
        let v1 = validate(&record(r#","schema_version":1"#)).unwrap();
        assert_eq!(
            (v1.schema_version, v1.channel, v1.delta_cents()),
            (1, None, 500)
        );
        let v2 = validate(&record(r#","schema_version":2,"channel":"pos""#)).unwrap();
        assert_eq!((v2.schema_version, v2.channel), (2, Some(Channel::Pos)));
    }

    #[test]
    fn size_and_emptiness_come_before_parsing() {
        assert_eq!(
            reason(&vec![0xff; MAX_RECORD_BYTES + 1]),
            ReasonCode::Oversized
        );
        assert_eq!(reason(b""), ReasonCode::EmptyRecord);
        assert_eq!(reason(b"{\"a\":\"\xff\"}"), ReasonCode::NotUtf8);
    }

    #[test]
    fn exactly_max_bytes_is_not_oversized() {
        let mut bytes = record(r#","schema_version":1"#);
        bytes.resize(MAX_RECORD_BYTES, b' ');
        assert!(validate(&bytes).is_ok());
    }

    #[test]
    fn syntax_and_shape_errors() {
        assert_eq!(reason(b"{\"a\":"), ReasonCode::InvalidJson);
        assert_eq!(
            reason("[".repeat(10_000).as_bytes()),
            ReasonCode::InvalidJson
        );
        assert_eq!(reason(b"[1,2]"), ReasonCode::NotAnObject);
        assert_eq!(reason(b"null"), ReasonCode::NotAnObject);
    }

    #[test]
    fn unknown_version_beats_missing_fields_only_when_integer() {
        assert_eq!(
            reason(br#"{"schema_version":3}"#),
            ReasonCode::UnknownSchemaVersion
        );
        assert_eq!(
            reason(br#"{"schema_version":-1}"#),
            ReasonCode::UnknownSchemaVersion
        );
        assert_eq!(
            reason(br#"{"schema_version":"3"}"#),
            ReasonCode::MissingField
        );
    }

    #[test]
    fn field_name_errors() {
        assert_eq!(reason(&record("")), ReasonCode::MissingField);
        assert_eq!(
            reason(&record(r#","schema_version":2"#)),
            ReasonCode::MissingField
        );
        assert_eq!(
            reason(&record(r#","schema_version":1,"channel":"web""#)),
            ReasonCode::UnknownField
        );
        assert_eq!(
            reason(&record(r#","schema_version":1,"note":"x""#)),
            ReasonCode::UnknownField
        );
    }

    #[test]
    fn type_errors() {
        assert_eq!(
            reason(&record(r#","schema_version":"1""#)),
            ReasonCode::WrongType
        );
        assert_eq!(
            reason(&record(r#","schema_version":1.0,"channel":"web""#)),
            ReasonCode::WrongType
        );
        let amount_float = br#"{"transaction_id":"t","account_id":"a","kind":"credit","amount_cents":12.5,"created_at":"2026-11-23T10:00:00Z","schema_version":1}"#;
        assert_eq!(reason(amount_float), ReasonCode::WrongType);
        let id_null = br#"{"transaction_id":null,"account_id":"a","kind":"credit","amount_cents":1,"created_at":"2026-11-23T10:00:00Z","schema_version":1}"#;
        assert_eq!(reason(id_null), ReasonCode::WrongType);
    }

    #[test]
    fn value_errors_and_negative_amounts() {
        let with = |kind: &str, amount: &str, at: &str| {
            format!(r#"{{"transaction_id":"t","account_id":"a","kind":"{kind}","amount_cents":{amount},"created_at":"{at}","schema_version":1}}"#)
                .into_bytes()
        };
        let ok_at = "2026-11-23T10:00:00Z";
        assert_eq!(
            reason(&with("refund", "1", ok_at)),
            ReasonCode::InvalidValue
        );
        assert_eq!(
            reason(&with("credit", "1", "2026-02-30T10:00:00Z")),
            ReasonCode::InvalidValue
        );
        assert_eq!(
            reason(&with("credit", "100000000001", ok_at)),
            ReasonCode::InvalidValue
        );
        assert_eq!(
            reason(&with("credit", "18446744073709551615", ok_at)),
            ReasonCode::InvalidValue
        );
        assert_eq!(
            reason(&with("credit", "-1", ok_at)),
            ReasonCode::NegativeAmount
        );
        // invalid_value outranks negative_amount.
        assert_eq!(
            reason(&with("refund", "-1", ok_at)),
            ReasonCode::InvalidValue
        );
        assert!(validate(&with("debit", "100000000000", ok_at)).is_ok());
        assert!(validate(&with("debit", "0", "2026-11-23T10:00:00+02:00")).is_ok());
    }
}
