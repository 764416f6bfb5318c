//! Malformed records, each with exactly one problem so its expected reason is unambiguous.
//!
//! Every malformed record starts from a fresh valid event (its own transaction id, never one of the
//! valid events') and changes one thing. Where a parser could be lenient in more than one way the
//! variant is left out: no `NaN`, no `null`, no `1.0` for an integer, no space instead of `T`.

use crate::event::{json_string, Channel, Event};
use crate::reason::{ReasonCode, MAX_AMOUNT_CENTS, MAX_RECORD_BYTES};
use crate::rng::SeededRng;
use crate::valid::draw_event_core;
use crate::validate::CHANNEL_FIELD;

/// Nesting depth of poison pills.
pub const POISON_PILL_DEPTH: usize = 10_000;

/// What the templates of malformed records look like.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TemplateParams {
    /// Accounts to draw from.
    pub(crate) accounts: u64,
    /// Earliest event time.
    pub(crate) base_ms: i64,
    /// Event times fall in `base_ms..base_ms + span_ms`.
    pub(crate) span_ms: u64,
    /// Chance that a template is a version 2 event.
    pub(crate) v2_ratio: f64,
}

/// A malformed record's key and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bad {
    pub(crate) key: Vec<u8>,
    pub(crate) value: Vec<u8>,
}

/// A valid event for a malformed record to start from.
fn template(rng: &mut SeededRng, params: &TemplateParams) -> Event {
    let (transaction_id, account_id, kind, amount_cents) = draw_event_core(rng, params.accounts);
    let created_at_ms = params.base_ms + rng.below(params.span_ms.max(1)) as i64;
    let v2 = rng.chance(params.v2_ratio);
    let channel = *rng.pick(&Channel::ALL);
    Event {
        transaction_id,
        account_id,
        kind,
        amount_cents,
        created_at_ms,
        channel: v2.then_some(channel),
    }
}

/// A record whose only problem is `reason`.
pub(crate) fn malformed(rng: &mut SeededRng, params: &TemplateParams, reason: ReasonCode) -> Bad {
    let event = template(rng, params);
    let key = event.account_id.clone().into_bytes();
    let value = match reason {
        ReasonCode::Oversized => padded_past_limit(&event, rng, 4_096),
        ReasonCode::EmptyRecord => Vec::new(),
        ReasonCode::NotUtf8 => not_utf8(&event, rng),
        ReasonCode::InvalidJson => invalid_json(&event, rng),
        ReasonCode::NotAnObject => not_an_object(&event, rng),
        ReasonCode::UnknownSchemaVersion => unknown_version(&event, rng),
        ReasonCode::MissingField => missing_field(&event, rng),
        ReasonCode::UnknownField => unknown_field(&event, rng),
        ReasonCode::WrongType => wrong_type(&event, rng),
        ReasonCode::InvalidValue => invalid_value(&event, rng),
        ReasonCode::NegativeAmount => {
            let mut fields = event.fields();
            let amount = rng.range_inclusive(1, 1_000_000);
            fields.set("amount_cents", format!("-{amount}"));
            fields.render()
        }
    };
    Bad { key, value }
}

/// An `oversized` record from the `oversized` count: a valid event padded to 64 KiB + 1 .. 256 KiB.
pub(crate) fn oversized(rng: &mut SeededRng, params: &TemplateParams) -> Bad {
    let event = template(rng, params);
    let value = padded_past_limit(&event, rng, 3 * MAX_RECORD_BYTES as u64);
    Bad {
        key: event.account_id.into_bytes(),
        value,
    }
}

/// A poison pill: unterminated JSON nested [`POISON_PILL_DEPTH`] deep. It is invalid JSON for any
/// parser, with or without a depth limit, yet a naive recursive parser descends all the way first.
pub(crate) fn poison_pill(rng: &mut SeededRng, accounts: u64) -> Bad {
    let key = crate::event::account_id(rng.below(accounts)).into_bytes();
    Bad {
        key,
        value: poison_pill_value(rng),
    }
}

/// The value of a poison pill, in one of four shapes.
pub(crate) fn poison_pill_value(rng: &mut SeededRng) -> Vec<u8> {
    let d = POISON_PILL_DEPTH;
    let value = match rng.below(4) {
        0 => "[".repeat(d),
        1 => "{\"a\":".repeat(d),
        2 => format!("{}{}", "[".repeat(d), "]".repeat(d - 1)),
        _ => "{\"a\":[".repeat(d / 2),
    };
    value.into_bytes()
}

/// The compact event with whitespace after `{` so the total is `MAX_RECORD_BYTES + 1 ..= + extra`.
/// Apart from its size it is a perfectly valid event.
fn padded_past_limit(event: &Event, rng: &mut SeededRng, extra: u64) -> Vec<u8> {
    let body = event.to_bytes();
    let target = MAX_RECORD_BYTES + rng.range_inclusive(1, extra) as usize;
    let pad = target.saturating_sub(body.len());
    // `vec![byte; n]` is a memset even in debug builds; pushing byte by byte is not.
    let mut out = vec![b' '; body.len() + pad];
    out[0] = b'{';
    out[1 + pad..].copy_from_slice(&body[1..]);
    out
}

/// Byte sequences that are never valid UTF-8 when they stand between two whole characters.
pub(crate) const NOT_UTF8_SEQUENCES: [&[u8]; 7] = [
    &[0xff],
    &[0xc3, 0x28],
    &[0xc0, 0xaf],
    &[0xed, 0xa0, 0x80],
    &[0xe2, 0x82],
    &[0xe9],
    &[0xf8, 0x88, 0x80, 0x80, 0x80],
];

/// Invalid UTF-8 inside the `account_id` string. Decoded lossily it would still be a valid event.
fn not_utf8(event: &Event, rng: &mut SeededRng) -> Vec<u8> {
    let mut bytes = event.to_bytes();
    let marker = format!("\"account_id\":{}", json_string(&event.account_id));
    let at =
        find(&bytes, marker.as_bytes()).expect("rendered event has account_id") + marker.len() - 1;
    let bad = *rng.pick(&NOT_UTF8_SEQUENCES);
    bytes.splice(at..at, bad.iter().copied());
    bytes
}

fn invalid_json(event: &Event, rng: &mut SeededRng) -> Vec<u8> {
    let fields = event.fields();
    let compact = fields.render();
    match rng.below(5) {
        // A proper, non-empty prefix of an object never parses: its closing brace is missing.
        0 => compact[..rng.range_inclusive(1, compact.len() as u64 - 1) as usize].to_vec(),
        1 => {
            let mut v = compact;
            v.insert(v.len() - 1, b',');
            v
        }
        2 => {
            let text = String::from_utf8(compact).expect("rendered events are UTF-8");
            text.replacen("\"kind\":", "kind:", 1).into_bytes()
        }
        3 => {
            let text = String::from_utf8(compact).expect("rendered events are UTF-8");
            text.replacen(",\"amount_cents\"", " \"amount_cents\"", 1)
                .into_bytes()
        }
        _ => {
            let mut v = compact;
            v.push(b'}');
            v
        }
    }
}

fn not_an_object(event: &Event, rng: &mut SeededRng) -> Vec<u8> {
    let compact = String::from_utf8(event.to_bytes()).expect("rendered events are UTF-8");
    match rng.below(6) {
        0 => format!("[{compact}]"),
        1 => json_string(&compact),
        2 => event.amount_cents.to_string(),
        3 => "null".to_owned(),
        4 => "true".to_owned(),
        _ => "[]".to_owned(),
    }
    .into_bytes()
}

fn unknown_version(event: &Event, rng: &mut SeededRng) -> Vec<u8> {
    let mut fields = event.fields();
    let version = *rng.pick(&["0", "3", "99", "-1", "10000000000"]);
    fields.set("schema_version", version.to_owned());
    fields.render()
}

fn missing_field(event: &Event, rng: &mut SeededRng) -> Vec<u8> {
    let mut fields = event.fields();
    let names = fields.names();
    let name = rng.pick(&names).clone();
    fields.remove(&name);
    fields.render()
}

fn unknown_field(event: &Event, rng: &mut SeededRng) -> Vec<u8> {
    let mut fields = event.fields();
    let mut names: Vec<&str> = vec![
        "note",
        "currency",
        "merchant",
        "amount",
        "Account_id",
        "transactionId",
        "schemaVersion",
        "",
    ];
    if event.channel.is_none() {
        // `channel` is not part of version 1.
        names.push(CHANNEL_FIELD);
    }
    let name = *rng.pick(&names);
    let raw = if name == CHANNEL_FIELD {
        json_string(rng.pick(&Channel::ALL).as_str())
    } else {
        json_string("x")
    };
    let at = rng.below(fields.len() as u64 + 1) as usize;
    fields.insert(at, name, raw);
    fields.render()
}

fn wrong_type(event: &Event, rng: &mut SeededRng) -> Vec<u8> {
    let mut fields = event.fields();
    let names = fields.names();
    let name = rng.pick(&names).clone();
    let amount = event.amount_cents;
    let raw: String = match name.as_str() {
        "transaction_id" => rng.pick(&["12345", "true", "[\"id\"]"]).to_string(),
        "account_id" => rng.pick(&["123", "{\"id\":\"acct-000001\"}"]).to_string(),
        "kind" => rng.pick(&["1", "[\"credit\"]", "true"]).to_string(),
        "amount_cents" => match rng.below(3) {
            0 => json_string(&amount.to_string()),
            1 => format!("{amount}.5"),
            _ => "true".to_owned(),
        },
        "created_at" => event.created_at_ms.to_string(),
        "schema_version" => match rng.below(2) {
            0 => json_string(&event.schema_version().to_string()),
            _ => "true".to_owned(),
        },
        _ => rng.pick(&["1", "[\"web\"]"]).to_string(),
    };
    fields.set(&name, raw);
    fields.render()
}

fn invalid_value(event: &Event, rng: &mut SeededRng) -> Vec<u8> {
    let mut fields = event.fields();
    let mut targets = vec![
        "kind",
        "created_at",
        "transaction_id",
        "account_id",
        "amount_cents",
    ];
    if event.channel.is_some() {
        targets.push(CHANNEL_FIELD);
    }
    let target = *rng.pick(&targets);
    let raw = match target {
        "kind" => json_string(rng.pick::<&str>(&["refund", "Credit", "DEBIT", "", "transfer"])),
        "created_at" => {
            let good = crate::event::format_timestamp(event.created_at_ms);
            match rng.below(5) {
                0 => json_string(good.trim_end_matches('Z')),
                1 => json_string(&format!("{}13{}", &good[..5], &good[7..])),
                2 => json_string(&format!("{}32{}", &good[..8], &good[10..])),
                3 => json_string(&event.created_at_ms.to_string()),
                _ => json_string("yesterday"),
            }
        }
        "transaction_id" | "account_id" => json_string(""),
        "amount_cents" => match rng.below(2) {
            0 => rng
                .range_inclusive(MAX_AMOUNT_CENTS as u64 + 1, i64::MAX as u64)
                .to_string(),
            _ => rng
                .range_inclusive(i64::MAX as u64 + 1, u64::MAX)
                .to_string(),
        },
        _ => json_string(rng.pick::<&str>(&["mobile", "WEB", ""])),
    };
    fields.set(target, raw);
    fields.render()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{seeded, Concern};
    use crate::validate::validate;
    use proptest::prelude::*;

    fn params(v2_ratio: f64) -> TemplateParams {
        TemplateParams {
            accounts: 50,
            base_ms: 1_795_428_000_000,
            span_ms: 3_600_000,
            v2_ratio,
        }
    }

    #[test]
    fn every_kind_gets_exactly_its_reason_many_times() {
        for v2 in [0.0, 0.5, 1.0] {
            let mut rng = seeded(11, Concern::Malformed);
            for reason in ReasonCode::ALL {
                for _ in 0..300 {
                    let bad = malformed(&mut rng, &params(v2), reason);
                    let got = validate(&bad.value);
                    assert_eq!(
                        got.as_ref().err(),
                        Some(&reason),
                        "{:?}",
                        String::from_utf8_lossy(&bad.value)
                    );
                }
            }
        }
    }

    #[test]
    fn not_utf8_records_are_otherwise_valid() {
        let mut rng = seeded(5, Concern::Malformed);
        for _ in 0..100 {
            let bad = malformed(&mut rng, &params(0.5), ReasonCode::NotUtf8);
            let lossy = String::from_utf8_lossy(&bad.value).into_owned();
            assert!(validate(lossy.as_bytes()).is_ok(), "{lossy}");
        }
    }

    #[test]
    fn oversized_records_are_otherwise_valid_events() {
        let mut rng = seeded(5, Concern::Oversized);
        for _ in 0..20 {
            let bad = oversized(&mut rng, &params(0.5));
            assert!(bad.value.len() > MAX_RECORD_BYTES && bad.value.len() <= 4 * MAX_RECORD_BYTES);
            let text = std::str::from_utf8(&bad.value).unwrap();
            let compact: serde_json::Value = serde_json::from_str(text).unwrap();
            let again = serde_json::to_vec(&compact).unwrap();
            assert!(validate(&again).is_ok());
            assert_eq!(validate(&bad.value), Err(ReasonCode::Oversized));
        }
    }

    #[test]
    fn poison_pills_are_deep_small_and_invalid() {
        let mut rng = seeded(5, Concern::PoisonPills);
        for _ in 0..40 {
            let pill = poison_pill(&mut rng, 10);
            assert!(pill.value.len() < MAX_RECORD_BYTES);
            let depth = pill
                .value
                .iter()
                .filter(|b| matches!(b, b'[' | b'{'))
                .count();
            assert_eq!(depth, POISON_PILL_DEPTH);
            assert_eq!(validate(&pill.value), Err(ReasonCode::InvalidJson));
        }
    }

    #[test]
    fn malformed_keys_are_account_ids() {
        let mut rng = seeded(2, Concern::Malformed);
        let bad = malformed(&mut rng, &params(0.0), ReasonCode::EmptyRecord);
        assert!(bad.value.is_empty());
        assert!(bad.key.starts_with(b"acct-"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_seed_any_kind_validates_to_its_reason(seed: u64, idx in 0usize..11, v2: bool) {
            let reason = ReasonCode::ALL[idx];
            let mut rng = seeded(seed, Concern::Malformed);
            let p = params(if v2 { 1.0 } else { 0.0 });
            for _ in 0..8 {
                let bad = malformed(&mut rng, &p, reason);
                prop_assert_eq!(validate(&bad.value).err(), Some(reason));
            }
        }
    }
}
