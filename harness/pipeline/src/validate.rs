//! Validation of raw record bytes against the transaction event schema. Every rejection carries a
//! reason code from a closed set; rejected records go to the dead-letter topic and the quarantine
//! table, never nowhere.
//!
//! Schema (v1): `transaction_id` (non-empty string), `account_id` (non-empty string), `kind`
//! (`credit`|`debit`), `amount_cents` (integer >= 0), `created_at` (RFC 3339), `schema_version` (1).
//! v2 adds a required `channel` (`web`|`pos`|`atm`). Nothing else is allowed.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Largest record value accepted, in bytes.
pub const MAX_RECORD_BYTES: usize = 65_536;
/// Largest amount accepted (one billion units of currency, in cents).
pub const MAX_AMOUNT_CENTS: i64 = 100_000_000_000;

/// Why a record was rejected. The strings are part of the process contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    Oversized,
    EmptyRecord,
    NotUtf8,
    InvalidJson,
    NotAnObject,
    UnknownSchemaVersion,
    MissingField,
    UnknownField,
    WrongType,
    InvalidValue,
    NegativeAmount,
}

impl Reason {
    pub const ALL: [Reason; 11] = [
        Reason::Oversized,
        Reason::EmptyRecord,
        Reason::NotUtf8,
        Reason::InvalidJson,
        Reason::NotAnObject,
        Reason::UnknownSchemaVersion,
        Reason::MissingField,
        Reason::UnknownField,
        Reason::WrongType,
        Reason::InvalidValue,
        Reason::NegativeAmount,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Oversized => "oversized",
            Reason::EmptyRecord => "empty_record",
            Reason::NotUtf8 => "not_utf8",
            Reason::InvalidJson => "invalid_json",
            Reason::NotAnObject => "not_an_object",
            Reason::UnknownSchemaVersion => "unknown_schema_version",
            Reason::MissingField => "missing_field",
            Reason::UnknownField => "unknown_field",
            Reason::WrongType => "wrong_type",
            Reason::InvalidValue => "invalid_value",
            Reason::NegativeAmount => "negative_amount",
        }
    }
}

/// A rejection: the reason code and a human detail naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: Reason,
    pub detail: String,
}

fn reject(reason: Reason, detail: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        detail: detail.into(),
    }
}

/// Credit or debit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Credit,
    Debit,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Credit => "credit",
            Kind::Debit => "debit",
        }
    }
}

/// A valid transaction event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub transaction_id: String,
    pub account_id: String,
    pub kind: Kind,
    pub amount_cents: i64,
    pub created_at: DateTime<Utc>,
    pub schema_version: i32,
    pub channel: Option<String>,
}

impl Event {
    /// The balance change: credits add, debits subtract.
    pub fn delta_cents(&self) -> i64 {
        match self.kind {
            Kind::Credit => self.amount_cents,
            Kind::Debit => -self.amount_cents,
        }
    }
}

const V1_FIELDS: [&str; 6] = [
    "transaction_id",
    "account_id",
    "kind",
    "amount_cents",
    "created_at",
    "schema_version",
];

/// Validates one record value.
pub fn validate(bytes: &[u8]) -> Result<Event, Rejection> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(reject(
            Reason::Oversized,
            format!("{} bytes > {MAX_RECORD_BYTES}", bytes.len()),
        ));
    }
    if bytes.is_empty() {
        return Err(reject(Reason::EmptyRecord, "zero-length value"));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        reject(
            Reason::NotUtf8,
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| reject(Reason::InvalidJson, e.to_string()))?;
    let Value::Object(obj) = value else {
        return Err(reject(
            Reason::NotAnObject,
            format!("top-level JSON {}", json_type(&value)),
        ));
    };
    let version = match obj.get("schema_version") {
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
            let v = n.as_i64().unwrap_or(i64::MAX);
            if v != 1 && v != 2 {
                return Err(reject(
                    Reason::UnknownSchemaVersion,
                    format!("schema_version {v}; expected 1 or 2"),
                ));
            }
            v as i32
        }
        Some(_) | None => 0, // reported below as missing or mistyped
    };
    let mut required: Vec<&str> = V1_FIELDS.to_vec();
    if version == 2 {
        required.push("channel");
    }
    if let Some(f) = required.iter().find(|f| !obj.contains_key(**f)) {
        return Err(reject(
            Reason::MissingField,
            format!("field `{f}` is missing"),
        ));
    }
    // A mistyped schema_version (reported as wrong_type below) leaves the version unknown: do not
    // also call a v2 `channel` unknown.
    let version_unreadable = version == 0 && obj.contains_key("schema_version");
    let allowed = |k: &str| {
        V1_FIELDS.contains(&k) || ((version == 2 || version_unreadable) && k == "channel")
    };
    if let Some(k) = obj.keys().find(|k| !allowed(k)) {
        return Err(reject(
            Reason::UnknownField,
            format!("field `{k}` is not in schema v{version}"),
        ));
    }
    typed(&obj, i64::from(version))
}

fn typed(obj: &Map<String, Value>, version: i64) -> Result<Event, Rejection> {
    let string = |f: &str| match &obj[f] {
        Value::String(s) => Ok(s.as_str()),
        other => Err(reject(
            Reason::WrongType,
            format!("`{f}` is {}, expected string", json_type(other)),
        )),
    };
    let transaction_id = string("transaction_id")?;
    let account_id = string("account_id")?;
    let kind = string("kind")?;
    let amount = match &obj["amount_cents"] {
        Value::Number(n) if n.is_i64() => n.as_i64().expect("checked i64"),
        Value::Number(n) if n.is_u64() => {
            return Err(reject(
                Reason::InvalidValue,
                format!("`amount_cents` {n} exceeds i64"),
            ))
        }
        other => {
            return Err(reject(
                Reason::WrongType,
                format!("`amount_cents` is {}, expected integer", json_type(other)),
            ))
        }
    };
    let created_at = string("created_at")?;
    if !matches!(&obj["schema_version"], Value::Number(n) if n.is_i64()) {
        return Err(reject(
            Reason::WrongType,
            format!(
                "`schema_version` is {}, expected integer",
                json_type(&obj["schema_version"])
            ),
        ));
    }
    let channel = if version == 2 {
        Some(string("channel")?)
    } else {
        None
    };

    if transaction_id.is_empty() || account_id.is_empty() {
        return Err(reject(
            Reason::InvalidValue,
            "`transaction_id` and `account_id` must be non-empty",
        ));
    }
    let kind = match kind {
        "credit" => Kind::Credit,
        "debit" => Kind::Debit,
        other => {
            return Err(reject(
                Reason::InvalidValue,
                format!("`kind` {other:?}; expected credit or debit"),
            ))
        }
    };
    let created_at = DateTime::parse_from_rfc3339(created_at)
        .map_err(|e| {
            reject(
                Reason::InvalidValue,
                format!("`created_at` {created_at:?} is not RFC 3339: {e}"),
            )
        })?
        .with_timezone(&Utc);
    if let Some(c) = channel {
        if !matches!(c, "web" | "pos" | "atm") {
            return Err(reject(
                Reason::InvalidValue,
                format!("`channel` {c:?}; expected web, pos or atm"),
            ));
        }
    }
    if amount > MAX_AMOUNT_CENTS {
        return Err(reject(
            Reason::InvalidValue,
            format!("`amount_cents` {amount} > {MAX_AMOUNT_CENTS}"),
        ));
    }
    if amount < 0 {
        return Err(reject(
            Reason::NegativeAmount,
            format!("`amount_cents` {amount} < 0"),
        ));
    }
    Ok(Event {
        transaction_id: transaction_id.to_string(),
        account_id: account_id.to_string(),
        kind,
        amount_cents: amount,
        created_at,
        schema_version: version as i32,
        channel: channel.map(str::to_string),
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"transaction_id":"t1","account_id":"a1","kind":"debit","amount_cents":250,"created_at":"2026-01-02T03:04:05.123Z","schema_version":1}"#;

    fn reason(s: &[u8]) -> Reason {
        validate(s).unwrap_err().reason
    }

    #[test]
    fn valid_v1_and_v2_events_parse() {
        let e = validate(OK.as_bytes()).unwrap();
        assert_eq!((e.delta_cents(), e.schema_version), (-250, 1));
        let v2 = OK.replace(
            r#""schema_version":1"#,
            r#""schema_version":2,"channel":"pos""#,
        );
        assert_eq!(
            validate(v2.as_bytes()).unwrap().channel.as_deref(),
            Some("pos")
        );
    }

    #[test]
    fn each_malformation_gets_its_reason() {
        assert_eq!(reason(&vec![b' '; MAX_RECORD_BYTES + 1]), Reason::Oversized);
        assert_eq!(reason(b""), Reason::EmptyRecord);
        assert_eq!(reason(b"{\"a\":\"\xff\"}"), Reason::NotUtf8);
        assert_eq!(reason(&OK.as_bytes()[..40]), Reason::InvalidJson);
        assert_eq!(
            reason(&"[".repeat(10_000).into_bytes()),
            Reason::InvalidJson
        );
        assert_eq!(reason(b"[1,2]"), Reason::NotAnObject);
        assert_eq!(
            reason(
                OK.replace(r#""schema_version":1"#, r#""schema_version":7"#)
                    .as_bytes()
            ),
            Reason::UnknownSchemaVersion
        );
        assert_eq!(
            reason(OK.replace(r#""kind":"debit","#, "").as_bytes()),
            Reason::MissingField
        );
        assert_eq!(
            reason(OK.replace(r#""kind""#, r#""extra":1,"kind""#).as_bytes()),
            Reason::UnknownField
        );
        assert_eq!(
            reason(OK.replace("250", "\"250\"").as_bytes()),
            Reason::WrongType
        );
        assert_eq!(
            reason(OK.replace("250", "2.5").as_bytes()),
            Reason::WrongType
        );
        assert_eq!(
            reason(OK.replace("debit", "refund").as_bytes()),
            Reason::InvalidValue
        );
        assert_eq!(
            reason(
                OK.replace("2026-01-02T03:04:05.123Z", "yesterday")
                    .as_bytes()
            ),
            Reason::InvalidValue
        );
        assert_eq!(
            reason(OK.replace("250", "-5").as_bytes()),
            Reason::NegativeAmount
        );
        let v2_version_as_string = OK.replace(
            r#""schema_version":1"#,
            r#""schema_version":"2","channel":"web""#,
        );
        assert_eq!(reason(v2_version_as_string.as_bytes()), Reason::WrongType);
        let v2_missing_channel = OK.replace(r#""schema_version":1"#, r#""schema_version":2"#);
        assert_eq!(reason(v2_missing_channel.as_bytes()), Reason::MissingField);
    }

    #[test]
    fn details_name_the_field() {
        let r = validate(OK.replace("250", "\"250\"").as_bytes()).unwrap_err();
        assert!(r.detail.contains("amount_cents"), "{}", r.detail);
    }
}
