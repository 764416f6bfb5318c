//! Recorded workloads: the line format and its errors, determinism, exact counts, and labels that
//! match the bytes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use proptest::prelude::*;

use super::*;
use crate::validate::validate;

const PATH: &str = "recorded/events.jsonl";

fn load(text: &str, spec: &WorkloadSpec) -> Result<Workload, FileError> {
    from_recorded_lines(text.as_bytes(), Path::new(PATH), spec)
}

/// `n` lines of order events, with every optional field and both value forms somewhere.
fn sample(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let line = match i % 10 {
            3 => format!(
                r#"{{"key": null, "value_b64": "//4AZ2FyYmFnZQ==", "partition": {}}}"#,
                i % 6
            ),
            5 => format!(
                r#"{{"key":"o-{i:06}","value":{{"order_id": "o-{i:06}", "status":"paid"}},"headers":{{"trace":"t{i}","trace":"again"}}}}"#
            ),
            7 => format!(r#"{{"value":[{i}, "not an object"]}}"#),
            _ => format!(
                r#"{{"key":"o-{i:06}","value":{{"order_id":"o-{i:06}","status":"created","version":{i},"amount_cents":{}}}}}"#,
                i * 37
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Every fault turned on.
fn busy(seed: u64) -> WorkloadSpec {
    WorkloadSpec {
        seed,
        duplicate_ratio: 0.2,
        duplicate_burst: 3,
        out_of_order_window: 8,
        malformed_ratio: 0.3,
        poison_pills: 3,
        oversized: 2,
        ..WorkloadSpec::default()
    }
}

fn message_at(err: FileError) -> (usize, String) {
    match err {
        FileError::Corrupt {
            path,
            line,
            message,
        } => {
            assert_eq!(path, PathBuf::from(PATH));
            (line, message)
        }
        other => panic!("expected a line error, got {other}"),
    }
}

#[test]
fn each_bad_line_is_named_with_its_number_and_fix() {
    let good = r#"{"key":"k","value":{}}"#;
    let cases: [(&str, &str); 11] = [
        (r#"["k", {}]"#, "not a JSON object"),
        (r#"{"key":"k","valeu":{}}"#, "unknown field `valeu`"),
        (r#"{"key":"k","value":{},"value_b64":"e30="}"#, "keep one"),
        (r#"{"key":"k"}"#, "neither `value` nor `value_b64`"),
        (r#"{"key":"k","value_b64":"e30"}"#, "not valid base64"),
        (r#"{"key":"k","value":{},"partition":-1}"#, "negative"),
        (r#"{"key":"k","value":{},"partition":6}"#, "0..=5"),
        (r#"{"key":"k","value":null}"#, "bnVsbA=="),
        (r#"{"key":"k","value":{}"#, "column"),
        (r#"{"key":7,"value":{}}"#, "expected a string"),
        (
            r#"{"key":"k","value":{},"headers":{"h":1}}"#,
            "expected a string",
        ),
    ];
    for (bad, expected) in cases {
        let text = format!("{good}\n\n{good}\n{bad}\n{good}\n");
        let (line, message) = message_at(load(&text, &WorkloadSpec::default()).unwrap_err());
        assert_eq!(line, 4, "{bad}: {message}");
        assert!(message.contains(expected), "{bad}: {message}");
    }
}

#[test]
fn error_display_names_file_and_line() {
    let err = load("{\"value\":1}\n{\"nope\":1}\n", &WorkloadSpec::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "workload file {PATH} line 2: unknown field `nope`"
        )),
        "{text}"
    );
    assert!(text.contains("value_b64"), "{text}");
}

#[test]
fn a_line_that_is_not_utf8_is_refused() {
    let mut bytes = b"{\"value\":1}\n{\"value\":\"".to_vec();
    bytes.extend_from_slice(&[0xff, b'"', b'}', b'\n']);
    let err = from_recorded_lines(&bytes[..], Path::new(PATH), &WorkloadSpec::default());
    let (line, message) = message_at(err.unwrap_err());
    assert_eq!(line, 2);
    assert!(message.contains("value_b64"), "{message}");
}

#[test]
fn empty_and_blank_files_are_refused() {
    for text in ["", "\n  \n\r\n"] {
        let (line, message) = message_at(load(text, &WorkloadSpec::default()).unwrap_err());
        assert_eq!(line, 1);
        assert!(message.starts_with("no records"), "{message}");
    }
}

#[test]
fn missing_file_names_the_path() {
    let err = from_recorded(
        Path::new("/nonexistent/events.jsonl"),
        &WorkloadSpec::default(),
    );
    let text = err.unwrap_err().to_string();
    assert!(text.contains("/nonexistent/events.jsonl"), "{text}");
}

#[test]
fn values_are_sent_exactly_as_written() {
    let text = concat!(
        "{\"key\": \"a\", \"value\":   {\"b\" : 1,  \"a\":\"\\u00e9\", \"n\": 1.50}  }\r\n",
        "{\"value_b64\": \"//4AZ2FyYmFnZQ==\", \"key\": null}\n",
        "{\"value\": \"just a string\", \"partition\": 3}\n",
        "{\"value_b64\": \"\"}",
    );
    let w = load(text, &WorkloadSpec::default()).unwrap();
    type Sent<'a> = (Option<&'a [u8]>, &'a [u8], Option<i32>);
    let got: Vec<Sent<'_>> = w
        .records
        .iter()
        .map(|r| (r.key.as_deref(), &r.value[..], r.partition))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                Some(&b"a"[..]),
                &br#"{"b" : 1,  "a":"\u00e9", "n": 1.50}"#[..],
                None
            ),
            (None, &b"\xff\xfe\x00garbage"[..], None),
            (None, &br#""just a string""#[..], Some(3)),
            (None, &b""[..], None),
        ]
    );
    let lines: Vec<_> = w.records.iter().map(|r| r.expect.clone()).collect();
    assert_eq!(
        lines,
        (1..=4)
            .map(|line| Expectation::Recorded { line })
            .collect::<Vec<_>>()
    );
}

#[test]
fn headers_keep_their_order_and_repeats() {
    let text = r#"{"key":"k","value":{},"headers":{"z":"1","a":"2","z":"3"}}"#;
    let w = load(text, &WorkloadSpec::default()).unwrap();
    assert_eq!(
        w.records[0].headers,
        vec![
            ("z".to_string(), b"1".to_vec()),
            ("a".to_string(), b"2".to_vec()),
            ("z".to_string(), b"3".to_vec())
        ]
    );
}

#[test]
fn headers_round_trip_through_the_bundle_format() {
    let w = load(&sample(60), &busy(4)).unwrap();
    assert!(w.records.iter().any(|r| !r.headers.is_empty()));
    let mut out = Vec::new();
    w.write_lines(&mut out).unwrap();
    let back = Workload::read_lines(&out[..], Path::new("bundle/workload.jsonl")).unwrap();
    assert_eq!(back, w);
    assert_eq!(back.digest(), w.digest());
}

#[test]
fn without_faults_the_file_is_sent_as_is() {
    let text = sample(40);
    let w = load(&text, &WorkloadSpec::default()).unwrap();
    let c = w.counts();
    assert_eq!(
        (c.records, c.recorded, c.valid, c.duplicates),
        (40, 40, 0, 0)
    );
    assert_eq!(c.malformed_total(), 0);
    for (i, r) in w.records.iter().enumerate() {
        assert_eq!(r.expect, Expectation::Recorded { line: i as u64 + 1 });
    }
}

#[test]
fn same_file_and_seed_give_the_same_bytes_and_another_seed_does_not() {
    let text = sample(300);
    let a = load(&text, &busy(42)).unwrap();
    let b = load(&text, &busy(42)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.digest(), b.digest());
    let other = load(&text, &busy(43)).unwrap();
    assert_ne!(a.digest(), other.digest());
}

#[test]
fn ledger_only_knobs_change_nothing() {
    let text = sample(120);
    let base = load(&text, &busy(9)).unwrap();
    let variants = [
        WorkloadSpec {
            events: 5,
            accounts: 3,
            ..busy(9)
        },
        WorkloadSpec {
            late_ratio: 0.5,
            schema_v2_ratio: 0.5,
            ..busy(9)
        },
        WorkloadSpec {
            cross_partition_duplicates: true,
            partitioner: crate::Partitioner::Murmur2Random,
            ..busy(9)
        },
    ];
    for spec in variants {
        assert_eq!(load(&text, &spec).unwrap(), base, "{spec:?}");
    }
}

#[test]
fn counts_follow_the_ratios_with_generates_rounding() {
    let text = sample(250);
    // burst 1: every chosen record is re-sent exactly once.
    let spec = WorkloadSpec {
        duplicate_burst: 1,
        ..busy(7)
    };
    let c = load(&text, &spec).unwrap().counts();
    assert_eq!(c.recorded, 250);
    assert_eq!(c.duplicates, 50); // round(250 * 0.2)
    assert_eq!(c.malformed_total(), 75 + 3 + 2); // round(250 * 0.3) + pills + oversized
    assert_eq!(c.records, 250 + 50 + 80);
    assert_eq!(c.valid, 0);

    let spec = WorkloadSpec {
        duplicate_ratio: 0.123,
        malformed_ratio: 0.001,
        ..busy(7)
    };
    let w = load(&text, &spec).unwrap();
    let originals: std::collections::BTreeSet<u64> = w
        .records
        .iter()
        .filter_map(|r| match r.expect {
            Expectation::RecordedDuplicate { of_seq } => Some(of_seq),
            _ => None,
        })
        .collect();
    assert_eq!(originals.len(), 31); // round(30.75)
    let c = w.counts();
    assert!((31..=93).contains(&c.duplicates), "{}", c.duplicates);
    assert_eq!(c.malformed_total(), 5); // round(0.25) = 0, + 3 pills + 2 oversized
    let pills = w
        .records
        .iter()
        .filter(|r| r.value.len() > crate::malformed::POISON_PILL_DEPTH)
        .filter(|r| {
            r.expect
                == Expectation::Malformed {
                    reason: ReasonCode::InvalidJson,
                }
        })
        .count();
    assert_eq!(pills, 3);
    assert_eq!(c.malformed[&ReasonCode::Oversized], 2);
}

#[test]
fn only_byte_level_kinds_are_drawn() {
    let spec = WorkloadSpec {
        malformed_kinds: vec![
            ReasonCode::MissingField,
            ReasonCode::NotUtf8,
            ReasonCode::WrongType,
            ReasonCode::InvalidJson,
        ],
        poison_pills: 0,
        oversized: 0,
        ..busy(3)
    };
    let c = load(&sample(200), &spec).unwrap().counts();
    assert_eq!(
        c.malformed.keys().copied().collect::<Vec<_>>(),
        vec![ReasonCode::NotUtf8, ReasonCode::InvalidJson]
    );
    assert_eq!(c.malformed_total(), 60);
}

#[test]
fn schema_level_kinds_alone_are_refused() {
    let spec = WorkloadSpec {
        malformed_kinds: vec![ReasonCode::MissingField, ReasonCode::UnknownField],
        ..busy(3)
    };
    let err = load(&sample(10), &spec).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, FileError::Spec { .. }), "{text}");
    for needle in ["malformed_kinds", "missing_field", "not_an_object", PATH] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    // Without malformed records the kinds do not matter.
    let spec = WorkloadSpec {
        malformed_ratio: 0.0,
        ..spec
    };
    assert!(load(&sample(10), &spec).is_ok());
}

#[test]
fn an_invalid_spec_is_refused_before_reading() {
    let spec = WorkloadSpec {
        duplicate_burst: 0,
        ..WorkloadSpec::default()
    };
    let err = load("", &spec).unwrap_err();
    assert!(err.to_string().contains("duplicate_burst"), "{err}");
}

#[test]
fn every_malformed_record_has_its_problem() {
    let w = load(&sample(400), &busy(11)).unwrap();
    let mut seen = BTreeMap::new();
    for r in &w.records {
        let Expectation::Malformed { reason } = r.expect else {
            continue;
        };
        *seen.entry(reason).or_insert(0) += 1;
        assert_eq!(validate(&r.value).err(), Some(reason), "seq {}", r.seq);
        let v = &r.value;
        match reason {
            ReasonCode::Oversized => assert!(v.len() > MAX_RECORD_BYTES),
            ReasonCode::EmptyRecord => assert!(v.is_empty()),
            ReasonCode::NotUtf8 => assert!(std::str::from_utf8(v).is_err()),
            ReasonCode::InvalidJson => {
                assert!(std::str::from_utf8(v).is_ok());
                assert!(serde_json::from_slice::<serde_json::Value>(v).is_err());
            }
            ReasonCode::NotAnObject => {
                let parsed: serde_json::Value = serde_json::from_slice(v).unwrap();
                assert!(!parsed.is_object());
            }
            other => panic!("schema-level reason {other} in a recorded workload"),
        }
        assert!(v.len() <= MAX_RECORD_BYTES || reason == ReasonCode::Oversized);
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
}

#[test]
fn copies_keep_key_headers_and_partition_of_a_recorded_record() {
    let text = sample(200);
    let plain = load(&text, &WorkloadSpec::default()).unwrap();
    let w = load(&text, &busy(5)).unwrap();
    let by_line: BTreeMap<u64, &WorkloadRecord> = plain
        .records
        .iter()
        .map(|r| match r.expect {
            Expectation::Recorded { line } => (line, r),
            _ => unreachable!(),
        })
        .collect();
    let shape = |r: &WorkloadRecord| (r.key.clone(), r.headers.clone(), r.partition);
    for r in &w.records {
        match &r.expect {
            Expectation::Recorded { line } => assert_eq!(r.value, by_line[line].value),
            Expectation::RecordedDuplicate { of_seq } => {
                assert!(*of_seq < r.seq);
                let original = &w.records[*of_seq as usize];
                assert!(matches!(original.expect, Expectation::Recorded { .. }));
                assert_eq!(
                    (
                        &original.key,
                        &original.value,
                        &original.headers,
                        original.partition
                    ),
                    (&r.key, &r.value, &r.headers, r.partition)
                );
            }
            Expectation::Malformed { .. } => {
                assert!(
                    by_line.values().any(|o| shape(o) == shape(r)),
                    "seq {}",
                    r.seq
                );
            }
            other => panic!("{other:?} in a recorded workload"),
        }
    }
}

#[test]
fn the_committed_example_loads_with_its_value_bytes() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders-python/events.jsonl");
    let w = from_recorded(&path, &WorkloadSpec::default()).unwrap();
    assert_eq!(w.counts().recorded, 7_047);
    let text = std::fs::read_to_string(&path).unwrap();
    let first = text.lines().next().unwrap();
    let written = &first[first.find("\"value\":").unwrap() + 8..first.len() - 1];
    assert_eq!(w.records[0].value, written.as_bytes());
    // Line 185 is `"value_b64":"//4AZ2FyYmFnZQ=="`.
    assert_eq!(w.records[184].value, b"\xff\xfe\x00garbage");
    assert!(load(&text, &busy(1)).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn reordering_moves_each_record_less_than_the_window(seed: u64, window in 0u32..20) {
        let spec = WorkloadSpec { seed, out_of_order_window: window, ..WorkloadSpec::default() };
        let w = load(&sample(80), &spec).unwrap();
        for (pos, r) in w.records.iter().enumerate() {
            let Expectation::Recorded { line } = r.expect else { unreachable!() };
            let moved = (pos as i64 - (line as i64 - 1)).unsigned_abs();
            prop_assert!(moved < u64::from(window.max(1)), "line {} at {}", line, pos);
        }
    }

    #[test]
    fn counts_add_up_and_labels_match(seed: u64, n in 1usize..120) {
        let w = load(&sample(n), &busy(seed)).unwrap();
        let c = w.counts();
        prop_assert_eq!(c.recorded, n as u64);
        prop_assert_eq!(c.recorded + c.duplicates + c.malformed_total(), c.records);
        for (i, r) in w.records.iter().enumerate() {
            prop_assert_eq!(r.seq, i as u64);
            if let Expectation::Malformed { reason } = r.expect {
                prop_assert_eq!(validate(&r.value).err(), Some(reason));
            }
        }
    }
}
