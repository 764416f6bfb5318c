//! Byte-level problems given to copies of recorded values, whose schema the harness does not know.
//!
//! Each copy gets one problem, and that problem is the first the reference validator finds
//! ([`validate`] checks size, emptiness, UTF-8, JSON syntax and objecthood in that order, before
//! any schema check). The usual construction starts from the recorded bytes; where the bytes defeat
//! it (a JSON number, whose prefixes may parse; a value already near the size limit), a fixed
//! construction that always has exactly that problem is used instead.

use crate::event::json_string;
use crate::malformed::NOT_UTF8_SEQUENCES;
use crate::reason::{ReasonCode, MAX_RECORD_BYTES};
use crate::rng::SeededRng;
use crate::validate::validate;

/// A copy of `value` whose first problem is `reason`, which must be byte-level.
pub(crate) fn damaged(rng: &mut SeededRng, value: &[u8], reason: ReasonCode) -> Vec<u8> {
    let out = match reason {
        ReasonCode::Oversized => padded(rng, value, 4_096),
        ReasonCode::EmptyRecord => Vec::new(),
        ReasonCode::NotUtf8 => not_utf8(rng, value),
        ReasonCode::InvalidJson => truncated(rng, value),
        ReasonCode::NotAnObject => not_an_object(rng, value),
        _ => unreachable!("only byte-level reasons are drawn for recorded values, not {reason}"),
    };
    if validate(&out).err() == Some(reason) {
        return out;
    }
    let out = fallback(value, reason);
    debug_assert_eq!(validate(&out).err(), Some(reason));
    out
}

/// `value` with ASCII spaces appended up to `MAX_RECORD_BYTES + 1 ..= + extra` bytes (or `1..=extra`
/// past its own length if it is already over the limit). JSON stays the same JSON.
pub(crate) fn padded(rng: &mut SeededRng, value: &[u8], extra: u64) -> Vec<u8> {
    let target = value.len().max(MAX_RECORD_BYTES) + rng.range_inclusive(1, extra) as usize;
    let mut out = Vec::with_capacity(target);
    out.extend_from_slice(value);
    out.resize(target, b' ');
    out
}

/// A sequence that is never UTF-8 inserted between two characters (anywhere, if the value is not
/// UTF-8 to begin with); the tail is cut if the insertion would pass the size limit.
fn not_utf8(rng: &mut SeededRng, value: &[u8]) -> Vec<u8> {
    let bad = *rng.pick(&NOT_UTF8_SEQUENCES);
    let base = &value[..value.len().min(MAX_RECORD_BYTES - bad.len())];
    let at = match std::str::from_utf8(base) {
        Ok(text) => {
            let bounds: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .collect();
            *rng.pick(&bounds)
        }
        Err(_) => rng.below(base.len() as u64 + 1) as usize,
    };
    let mut out = base.to_vec();
    out.splice(at..at, bad.iter().copied());
    out
}

/// A proper, non-empty prefix of the value (as UTF-8 text, trailing whitespace dropped): the end of
/// an object, array, string or literal is missing, so it no longer parses.
fn truncated(rng: &mut SeededRng, value: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(value);
    let text = text[..floor_char_boundary(&text, MAX_RECORD_BYTES)].trim_end();
    let cuts: Vec<usize> = (1..text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    if cuts.is_empty() {
        // Nothing to cut: the fallback applies.
        return Vec::new();
    }
    text.as_bytes()[..*rng.pick(&cuts)].to_vec()
}

/// JSON that is not an object: the value inside an array when it is JSON (its bytes untouched), or
/// the value's text as a JSON string.
fn not_an_object(rng: &mut SeededRng, value: &[u8]) -> Vec<u8> {
    let is_json = std::str::from_utf8(value)
        .is_ok_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok());
    if is_json && rng.chance(0.5) {
        let mut out = Vec::with_capacity(value.len() + 2);
        out.push(b'[');
        out.extend_from_slice(value);
        out.push(b']');
        out
    } else {
        json_string(&String::from_utf8_lossy(value)).into_bytes()
    }
}

/// A construction that has exactly `reason` whatever `value` holds.
fn fallback(value: &[u8], reason: ReasonCode) -> Vec<u8> {
    match reason {
        // 0xff is never part of UTF-8.
        ReasonCode::NotUtf8 => {
            let mut out = value[..value.len().min(MAX_RECORD_BYTES - 1)].to_vec();
            out.push(0xff);
            out
        }
        // No JSON text starts with `}`.
        ReasonCode::InvalidJson => {
            let text = String::from_utf8_lossy(value);
            let keep = floor_char_boundary(&text, MAX_RECORD_BYTES - 1);
            format!("}}{}", &text[..keep]).into_bytes()
        }
        ReasonCode::NotAnObject => b"[]".to_vec(),
        // The other byte-level constructions cannot miss.
        _ => unreachable!("no fallback needed for {reason}"),
    }
}

/// The largest character boundary of `text` at or below `max`.
fn floor_char_boundary(text: &str, max: usize) -> usize {
    let mut at = max.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{seeded, Concern};
    use proptest::prelude::*;

    const BYTE_LEVEL: [ReasonCode; 5] = [
        ReasonCode::Oversized,
        ReasonCode::EmptyRecord,
        ReasonCode::NotUtf8,
        ReasonCode::InvalidJson,
        ReasonCode::NotAnObject,
    ];

    /// Values that defeat the usual constructions one way or another.
    fn awkward() -> Vec<Vec<u8>> {
        vec![
            br#"{"order_id":"o-1","status":"paid"}"#.to_vec(),
            b"12345".to_vec(),
            b"7".to_vec(),
            b"  {\"a\": \"\xc3\xa9\"}  ".to_vec(),
            Vec::new(),
            b"   ".to_vec(),
            vec![0xff, 0xfe, 0x00, b'g'],
            vec![0x82, 0xac, b'x'],
            b"plain text".to_vec(),
            "[".repeat(200).into_bytes(),
            vec![b'a'; MAX_RECORD_BYTES],
            vec![b'"'; MAX_RECORD_BYTES - 1],
            vec![b'x'; MAX_RECORD_BYTES + 10],
        ]
    }

    #[test]
    fn every_reason_is_the_first_problem_of_every_awkward_value() {
        let mut rng = seeded(1, Concern::RecordedMalformed);
        for value in awkward() {
            for reason in BYTE_LEVEL {
                for _ in 0..20 {
                    let out = damaged(&mut rng, &value, reason);
                    assert_eq!(
                        validate(&out).err(),
                        Some(reason),
                        "{reason} from {:?}",
                        String::from_utf8_lossy(&value[..value.len().min(40)])
                    );
                }
            }
        }
    }

    #[test]
    fn objects_are_damaged_in_place_not_replaced() {
        let value = br#"{"order_id":"o-1","status":"paid","version":2}"#;
        let mut rng = seeded(2, Concern::RecordedMalformed);
        for _ in 0..50 {
            let cut = damaged(&mut rng, value, ReasonCode::InvalidJson);
            assert!(value.starts_with(&cut) && cut.len() < value.len());
            let wrapped = damaged(&mut rng, value, ReasonCode::NotAnObject);
            let text = String::from_utf8(wrapped).unwrap();
            let inner = serde_json::from_str::<serde_json::Value>(&text).unwrap();
            let as_text = match &inner {
                serde_json::Value::Array(items) => items[0].to_string(),
                serde_json::Value::String(s) => s.clone(),
                other => panic!("{other}"),
            };
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&as_text).unwrap(),
                serde_json::from_slice::<serde_json::Value>(value).unwrap()
            );
            let broken = damaged(&mut rng, value, ReasonCode::NotUtf8);
            let inserted = broken.len() - value.len();
            let at = (0..=value.len())
                .find(|&at| broken[..at] == value[..at] && broken[at + inserted..] == value[at..])
                .expect("the original bytes around one inserted sequence");
            assert!(NOT_UTF8_SEQUENCES.contains(&&broken[at..at + inserted]));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_bytes_any_reason(seed: u64, value in proptest::collection::vec(any::<u8>(), 0..64), idx in 0usize..5) {
            let reason = BYTE_LEVEL[idx];
            let mut rng = seeded(seed, Concern::RecordedMalformed);
            let out = damaged(&mut rng, &value, reason);
            prop_assert_eq!(validate(&out).err(), Some(reason));
        }

        #[test]
        fn any_text_any_reason(seed: u64, value in "\\PC{0,40}", idx in 0usize..5) {
            let reason = BYTE_LEVEL[idx];
            let mut rng = seeded(seed, Concern::RecordedMalformed);
            let out = damaged(&mut rng, value.as_bytes(), reason);
            prop_assert_eq!(validate(&out).err(), Some(reason));
        }
    }
}
