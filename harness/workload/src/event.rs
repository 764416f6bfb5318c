//! A transaction event and its exact wire bytes.
//!
//! Records are rendered from an ordered field list by hand, not through `serde_json::Map`, so the byte
//! layout never depends on serde_json's `preserve_order` feature that another crate might switch on.

use serde::{Deserialize, Serialize};

/// Credit adds `amount_cents` to the account's balance; debit subtracts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Adds to the balance.
    Credit,
    /// Subtracts from the balance.
    Debit,
}

impl Kind {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Credit => "credit",
            Kind::Debit => "debit",
        }
    }

    /// Parses the wire string.
    pub fn from_wire(s: &str) -> Option<Kind> {
        match s {
            "credit" => Some(Kind::Credit),
            "debit" => Some(Kind::Debit),
            _ => None,
        }
    }
}

/// Where a schema version 2 transaction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Online.
    Web,
    /// Point of sale.
    Pos,
    /// Cash machine.
    Atm,
}

impl Channel {
    /// Every channel, in wire order.
    pub const ALL: [Channel; 3] = [Channel::Web, Channel::Pos, Channel::Atm];

    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Pos => "pos",
            Channel::Atm => "atm",
        }
    }

    /// Parses the wire string.
    pub fn from_wire(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The account id for account number `index`: `acct-` and six digits.
pub fn account_id(index: u64) -> String {
    format!("acct-{index:06}")
}

/// A generated, valid event before it is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) transaction_id: String,
    pub(crate) account_id: String,
    pub(crate) kind: Kind,
    pub(crate) amount_cents: i64,
    /// Event time in Unix milliseconds (UTC).
    pub(crate) created_at_ms: i64,
    /// `Some` for schema version 2.
    pub(crate) channel: Option<Channel>,
}

impl Event {
    /// The balance change this event causes.
    pub(crate) fn delta_cents(&self) -> i64 {
        match self.kind {
            Kind::Credit => self.amount_cents,
            Kind::Debit => -self.amount_cents,
        }
    }

    /// The schema version this event is rendered with.
    pub(crate) fn schema_version(&self) -> u8 {
        if self.channel.is_some() {
            2
        } else {
            1
        }
    }

    /// The event's fields in contract order, each value as raw JSON text.
    pub(crate) fn fields(&self) -> Fields {
        let mut fields = Fields::default();
        fields.push("transaction_id", json_string(&self.transaction_id));
        fields.push("account_id", json_string(&self.account_id));
        fields.push("kind", json_string(self.kind.as_str()));
        fields.push("amount_cents", self.amount_cents.to_string());
        fields.push(
            "created_at",
            json_string(&format_timestamp(self.created_at_ms)),
        );
        fields.push("schema_version", self.schema_version().to_string());
        if let Some(channel) = self.channel {
            fields.push("channel", json_string(channel.as_str()));
        }
        fields
    }

    /// The exact record value.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        self.fields().render()
    }
}

/// An ordered list of `(name, raw JSON value)` pairs, rendered as one compact JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// Appends a field.
    pub(crate) fn push(&mut self, name: &str, raw: String) {
        self.0.push((name.to_owned(), raw));
    }

    /// Replaces the raw value of an existing field; panics if the field is absent (a generator bug).
    pub(crate) fn set(&mut self, name: &str, raw: String) {
        let slot = self
            .0
            .iter_mut()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("field `{name}` is not in the event"));
        slot.1 = raw;
    }

    /// Removes a field; panics if the field is absent (a generator bug).
    pub(crate) fn remove(&mut self, name: &str) {
        let at = self
            .0
            .iter()
            .position(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("field `{name}` is not in the event"));
        self.0.remove(at);
    }

    /// Names of the fields, in order.
    pub(crate) fn names(&self) -> Vec<String> {
        self.0.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Inserts a field at `index` (clamped to the end).
    pub(crate) fn insert(&mut self, index: usize, name: &str, raw: String) {
        let index = index.min(self.0.len());
        self.0.insert(index, (name.to_owned(), raw));
    }

    /// Number of fields.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Compact JSON: `{"a":1,"b":"x"}`.
    pub(crate) fn render(&self) -> Vec<u8> {
        self.render_with(",")
    }

    /// JSON with `separator` between members; lets callers pad with whitespace.
    pub(crate) fn render_with(&self, separator: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.push(b'{');
        for (i, (name, raw)) in self.0.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(separator.as_bytes());
            }
            out.extend_from_slice(json_string(name).as_bytes());
            out.push(b':');
            out.extend_from_slice(raw.as_bytes());
        }
        out.push(b'}');
        out
    }
}

/// `s` as a JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    // Nearly every string here needs no escaping; skip the serializer for those (it dominates
    // generation time in debug builds).
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return out;
    }
    serde_json::to_string(s).expect("serializing a str cannot fail")
}

/// Unix milliseconds as RFC 3339 UTC with exactly three fractional digits: `2026-11-23T10:00:00.123Z`.
pub(crate) fn format_timestamp(unix_ms: i64) -> String {
    let nanos = i128::from(unix_ms) * 1_000_000;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .expect("generated timestamps stay within years 1..9999");
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A version 4 UUID string from 16 random bytes (version and variant bits set per RFC 9562).
pub(crate) fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = crate::workload::to_hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(channel: Option<Channel>) -> Event {
        Event {
            transaction_id: "7d444840-9dc0-41b6-8d2e-5b3a1f0e9c11".into(),
            account_id: account_id(123),
            kind: Kind::Debit,
            amount_cents: 1250,
            created_at_ms: 1_795_428_000_123,
            channel,
        }
    }

    #[test]
    fn renders_fields_in_contract_order() {
        let bytes = sample(None).to_bytes();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"transaction_id":"7d444840-9dc0-41b6-8d2e-5b3a1f0e9c11","account_id":"acct-000123","kind":"debit","amount_cents":1250,"created_at":"2026-11-23T10:00:00.123Z","schema_version":1}"#
        );
    }

    #[test]
    fn version_2_appends_channel() {
        let text = String::from_utf8(sample(Some(Channel::Atm)).to_bytes()).unwrap();
        assert!(
            text.ends_with(r#""schema_version":2,"channel":"atm"}"#),
            "{text}"
        );
    }

    #[test]
    fn json_string_escapes_only_when_needed() {
        for s in [
            "plain",
            "",
            "quote\"",
            "back\\slash",
            "tab\t",
            "\u{1}",
            "é✓",
        ] {
            assert_eq!(json_string(s), serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn debit_delta_is_negative() {
        assert_eq!(sample(None).delta_cents(), -1250);
    }

    #[test]
    fn timestamp_keeps_three_fraction_digits() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_timestamp(1_704_067_200_005),
            "2024-01-01T00:00:00.005Z"
        );
    }

    #[test]
    fn uuid_has_version_4_and_rfc_variant() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }
}
