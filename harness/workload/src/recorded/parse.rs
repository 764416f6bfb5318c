//! Reading the user's recorded-events file: one JSON object per line, checked line by line.

use std::fmt;
use std::io::BufRead;
use std::path::Path;

use base64::Engine as _;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::file::FileError;
use crate::spec::MAX_EVENTS;

/// The line format, repeated at the end of every message about a line's shape.
const FORMAT_HINT: &str =
    "each line is one JSON object: {\"key\": string or null, \"value\": any JSON \
     (sent as written) or \"value_b64\": base64 bytes, \"partition\": integer (optional), \
     \"headers\": {name: string} (optional)}";

/// One record of the user's file, as it is to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    /// 1-based line number.
    pub(crate) line: u64,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) value: Vec<u8>,
    pub(crate) partition: Option<i32>,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    #[serde(default)]
    key: Option<String>,
    #[serde(default, borrow, deserialize_with = "present")]
    value: Option<&'a RawValue>,
    #[serde(default)]
    value_b64: Option<String>,
    #[serde(default)]
    partition: Option<i64>,
    #[serde(default)]
    headers: Headers,
}

/// `Some` whenever the field is written, `null` included (serde reads a plain `Option` as `None`
/// for `null`, which would hide a null value behind "no value").
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(d).map(Some)
}

/// Headers in the order written; a name written twice is kept twice, as Kafka allows.
#[derive(Default)]
struct Headers(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Headers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of header names to string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, String>()? {
                    out.push(entry);
                }
                Ok(Headers(out))
            }
        }
        d.deserialize_map(InOrder)
    }
}

/// Every record of `input` in file order; blank lines are skipped. `partitions` is the topic's
/// partition count, which an explicit `partition` must stay below.
pub(crate) fn read_sources(
    mut input: impl BufRead,
    path: &Path,
    partitions: i32,
) -> Result<Vec<Source>, FileError> {
    let corrupt = |line: u64, message: String| FileError::Corrupt {
        path: path.to_owned(),
        line: line as usize,
        message,
    };
    let mut sources = Vec::new();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|source| FileError::Io {
                path: path.to_owned(),
                source,
            })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if sources.len() as u64 == MAX_EVENTS {
            return Err(corrupt(
                line_no,
                format!("more than {MAX_EVENTS} records; split the file"),
            ));
        }
        let text = std::str::from_utf8(&buf).map_err(|_| {
            corrupt(
                line_no,
                "the line is not UTF-8; write bytes that are not UTF-8 as \"value_b64\"".into(),
            )
        })?;
        let source = parse_line(text, line_no, partitions).map_err(|m| corrupt(line_no, m))?;
        sources.push(source);
    }
    if sources.is_empty() {
        return Err(corrupt(
            1,
            format!("no records: the file is empty or only blank lines; {FORMAT_HINT}"),
        ));
    }
    Ok(sources)
}

/// One non-blank line; the error is the message, without file and line.
fn parse_line(text: &str, line: u64, partitions: i32) -> Result<Source, String> {
    // serde would read a JSON array as the fields in order; the format has objects only.
    if !text.trim_start().starts_with('{') {
        return Err(format!("the line is not a JSON object; {FORMAT_HINT}"));
    }
    let parsed: Line<'_> = serde_json::from_str(text)
        .map_err(|e| format!("{}; {FORMAT_HINT}", without_position(&e)))?;
    let value = match (parsed.value, parsed.value_b64) {
        (Some(_), Some(_)) => {
            return Err(
                "both `value` and `value_b64`; keep one: `value` for JSON sent as written, \
                 `value_b64` for any other bytes"
                    .into(),
            )
        }
        (None, None) => {
            return Err(
                "neither `value` nor `value_b64`; add one: `value` for JSON sent as \
                 written, `value_b64` for any other bytes"
                    .into(),
            )
        }
        (Some(raw), None) if raw.get() == "null" => {
            return Err(
                "`value` is null, and a null value (a tombstone) cannot be sent; for the \
                 four bytes `null` write \"value_b64\": \"bnVsbA==\""
                    .into(),
            )
        }
        (Some(raw), None) => raw.get().as_bytes().to_vec(),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| {
                format!(
                    "`value_b64` is not valid base64 ({e}); use the standard alphabet \
                     (A-Z, a-z, 0-9, +, /) with `=` padding"
                )
            })?,
    };
    let partition = match parsed.partition {
        None => None,
        Some(p) if p < 0 => {
            return Err(format!(
                "partition {p} is negative; partitions are numbered from 0 (leave `partition` out \
                 to let the producer's partitioner choose)"
            ))
        }
        Some(p) if p >= i64::from(partitions) => {
            return Err(format!(
                "partition {p} does not exist: the topic has {partitions} partitions (the \
                 workload spec's `partitions`), 0..={}; use one of those or leave `partition` out",
                partitions - 1
            ))
        }
        Some(p) => Some(p as i32),
    };
    Ok(Source {
        line,
        key: parsed.key.map(String::into_bytes),
        value,
        partition,
        headers: parsed
            .headers
            .0
            .into_iter()
            .map(|(name, value)| (name, value.into_bytes()))
            .collect(),
    })
}

/// serde_json's message with its "at line 1 column N" (always line 1 here) turned into a column.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&suffix) {
        Some(message) => format!("{message} (column {})", e.column()),
        None => text,
    }
}
