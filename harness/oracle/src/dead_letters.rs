//! `dead_letters`: every record the workload made undecodable reaches the dead-letter topic, and
//! copies are judged by the pipeline's declared [`Guarantee`]. Pure: the runner reads the topic
//! (read_committed) into [`DeadLetter`]s and hands them over with the workload and its placement.
//!
//! A dead letter is matched to its source record by the source-position headers
//! ([`SOURCE_TOPIC_HEADER`], [`SOURCE_PARTITION_HEADER`], [`SOURCE_OFFSET_HEADER`]); a dead letter
//! without all three (or with one that does not parse) is matched by its key and value bytes.

use std::collections::{BTreeMap, BTreeSet};

use faultline_report::{CheckResult, CheckStatus};
use faultline_scenario::Guarantee;
use faultline_workload::{Expectation, ReasonCode, Workload};

use crate::anomaly::{position, position_key, Anomaly, AnomalyClass};
use crate::state::Placement;

/// Header naming the input topic of the record a dead letter carries.
pub const SOURCE_TOPIC_HEADER: &str = "faultline.source.topic";
/// Header naming its input partition (decimal).
pub const SOURCE_PARTITION_HEADER: &str = "faultline.source.partition";
/// Header naming its input offset (decimal).
pub const SOURCE_OFFSET_HEADER: &str = "faultline.source.offset";

/// How many duplicate or missing examples the detail text names.
const EXAMPLES: usize = 3;

/// One record read from the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Where it is in the dead-letter topic: (partition, offset).
    pub at: (i32, i64),
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    /// The source record's (topic, partition, offset) from the headers, when all three are there
    /// and parse.
    pub source: Option<(String, i32, i64)>,
}

impl DeadLetter {
    /// A dead letter from its position, key, value and headers (name, value) as read.
    pub fn from_parts<'h>(
        at: (i32, i64),
        key: Option<&[u8]>,
        value: &[u8],
        headers: impl IntoIterator<Item = (&'h str, Option<&'h [u8]>)>,
    ) -> Self {
        let (mut topic, mut partition, mut offset) = (None, None, None);
        for (name, v) in headers {
            let text = v.and_then(|b| std::str::from_utf8(b).ok());
            match name {
                SOURCE_TOPIC_HEADER => topic = text.map(str::to_string),
                SOURCE_PARTITION_HEADER => partition = text.and_then(|t| t.parse().ok()),
                SOURCE_OFFSET_HEADER => offset = text.and_then(|t| t.parse().ok()),
                _ => {}
            }
        }
        DeadLetter {
            at,
            key: key.map(<[u8]>::to_vec),
            value: value.to_vec(),
            source: match (topic, partition, offset) {
                (Some(t), Some(p), Some(o)) => Some((t, p, o)),
                _ => None,
            },
        }
    }
}

/// The check and the counts of what the topic held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterReport {
    pub check: CheckResult<Anomaly>,
    /// Dead letters read.
    pub total: u64,
    /// Distinct source records among them (by source position, or by key and value bytes).
    pub distinct: u64,
}

/// Key and value bytes → positions (of malformed records, or of dead letters in the topic).
type ByBytes<'a> = BTreeMap<(Option<&'a [u8]>, &'a [u8]), Vec<(i32, i64)>>;

/// One expected dead letter: a malformed record where it landed.
struct Expected<'a> {
    pos: (i32, i64),
    key: Option<&'a [u8]>,
    reason: String,
}

/// Judges the dead-letter topic of a run whose input `topic` received `w` as placed.
pub fn check_dead_letters(
    w: &Workload,
    placement: &Placement,
    topic: &str,
    letters: &[DeadLetter],
    guarantee: Guarantee,
) -> DeadLetterReport {
    let mut anomalies = Vec::new();
    let mut expected: BTreeMap<(i32, i64), Expected<'_>> = BTreeMap::new();
    // Key and value bytes → the positions of malformed records carrying them, for header-less letters.
    let mut by_bytes: ByBytes<'_> = BTreeMap::new();
    // The user's recorded records: the harness does not know which of them the pipeline rejects, so
    // a dead letter for one is neither required nor unexpected, and is not judged. Nor are
    // oversized copies of them: the size limit is the ledger contract's, not every pipeline's.
    let mut unjudged_pos: BTreeSet<(i32, i64)> = BTreeSet::new();
    let mut unjudged_bytes: BTreeSet<(Option<&[u8]>, &[u8])> = BTreeSet::new();
    for r in &w.records {
        if matches!(
            r.expect,
            Expectation::Recorded { .. } | Expectation::RecordedDuplicate { .. }
        ) {
            if let Some(&pos) = placement.get(&r.seq) {
                unjudged_pos.insert(pos);
            }
            unjudged_bytes.insert((r.key.as_deref(), r.value.as_slice()));
        }
    }
    let recorded = !unjudged_bytes.is_empty();
    let mut unjudged = 0u64;
    for (seq, reason) in w.expected_quarantine() {
        let Some(r) = w.records.get(seq as usize) else {
            continue;
        };
        if recorded && reason == ReasonCode::Oversized {
            if let Some(&pos) = placement.get(&seq) {
                unjudged_pos.insert(pos);
            }
            unjudged_bytes.insert((r.key.as_deref(), r.value.as_slice()));
            continue;
        }
        match placement.get(&seq) {
            Some(&pos) => {
                expected.insert(
                    pos,
                    Expected {
                        pos,
                        key: r.key.as_deref(),
                        reason: reason.as_str().to_string(),
                    },
                );
                by_bytes
                    .entry((r.key.as_deref(), r.value.as_slice()))
                    .or_default()
                    .push(pos);
            }
            None => anomalies.push(
                Anomaly::new(
                    AnomalyClass::MissingDeadLetter,
                    format!("record {seq}"),
                    topic,
                )
                .expected(format!("dead-lettered as {reason}"))
                .actual("record was never acknowledged, so its position is unknown"),
            ),
        }
    }

    // Copies per source record; header-less letters are spread over the positions carrying their
    // bytes, each position taking one before any takes a second.
    let mut copies: BTreeMap<(i32, i64), Vec<(i32, i64)>> = BTreeMap::new();
    let mut unmatched_bytes: ByBytes<'_> = BTreeMap::new();
    let mut foreign = 0u64;
    for l in letters {
        match &l.source {
            Some((t, p, o)) if t == topic && expected.contains_key(&(*p, *o)) => {
                copies.entry((*p, *o)).or_default().push(l.at);
            }
            Some((t, p, o)) if t == topic && unjudged_pos.contains(&(*p, *o)) => unjudged += 1,
            Some((t, p, o)) => {
                foreign += 1;
                anomalies.push(
                    Anomaly::new(
                        AnomalyClass::UnexpectedDeadLetter,
                        position_key(t, *p, *o),
                        topic,
                    )
                    .at((*p, *o))
                    .expected("dead letters only for malformed records of this run's topic")
                    .actual(format!(
                        "a dead letter at dlq {} for a position holding no malformed record",
                        position(l.at.0, l.at.1)
                    )),
                );
            }
            None => match by_bytes.get(&(l.key.as_deref(), l.value.as_slice())) {
                Some(positions) => {
                    let pos = *positions
                        .iter()
                        .min_by_key(|p| copies.get(p).map_or(0, Vec::len))
                        .expect("a byte match has at least one position");
                    copies.entry(pos).or_default().push(l.at);
                }
                None if unjudged_bytes.contains(&(l.key.as_deref(), l.value.as_slice())) => {
                    unjudged += 1
                }
                None => unmatched_bytes
                    .entry((l.key.as_deref(), l.value.as_slice()))
                    .or_default()
                    .push(l.at),
            },
        }
    }
    for ((key, _), at) in &unmatched_bytes {
        foreign += 1;
        anomalies.push(
            Anomaly::new(
                AnomalyClass::UnexpectedDeadLetter,
                format!("key {}", key_text(*key)),
                topic,
            )
            .expected("dead letters only for malformed records of this run's topic")
            .actual(format!(
                "{} dead letter(s) without source headers whose bytes match no malformed record, at dlq {}",
                at.len(),
                at.iter().map(|&(p, o)| position(p, o)).collect::<Vec<_>>().join(", ")
            )),
        );
    }

    let mut missing = Vec::new();
    for e in expected.values() {
        if !copies.contains_key(&e.pos) {
            missing.push(e.pos);
            anomalies.push(
                Anomaly::new(
                    AnomalyClass::MissingDeadLetter,
                    position_key(topic, e.pos.0, e.pos.1),
                    topic,
                )
                .at(e.pos)
                .expected(format!(
                    "dead-lettered as {} (key {})",
                    e.reason,
                    key_text(e.key)
                ))
                .actual("not in the dead-letter topic"),
            );
        }
    }
    let mut duplicates = Vec::new();
    for (pos, at) in &copies {
        if at.len() > 1 {
            duplicates.push(*pos);
            anomalies.push(
                Anomaly::new(
                    AnomalyClass::DuplicateDeadLetter,
                    position_key(topic, pos.0, pos.1),
                    topic,
                )
                .at(*pos)
                .expected("one dead letter")
                .actual(format!(
                    "{} copies (key {}) at dlq {}",
                    at.len(),
                    key_text(expected.get(pos).and_then(|e| e.key)),
                    at.iter()
                        .map(|&(p, o)| position(p, o))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
    }
    anomalies.sort();

    let total = letters.len() as u64;
    let distinct = copies.len() as u64 + foreign + unjudged;
    let extra: u64 = copies.values().map(|c| c.len() as u64 - 1).sum();
    let failed = anomalies.iter().any(|a| match a.class {
        AnomalyClass::DuplicateDeadLetter => guarantee.forbids_duplicates(),
        _ => true,
    });
    let mut detail = format!(
        "{} malformed records, {total} dead letters ({distinct} distinct) under {guarantee}",
        expected.len()
    );
    if !missing.is_empty() {
        detail.push_str(&format!(
            "; {} missing ({})",
            missing.len(),
            examples(topic, &missing)
        ));
    }
    if !duplicates.is_empty() {
        detail.push_str(&format!(
            "; {extra} duplicate copies of {} records ({}){}",
            duplicates.len(),
            examples(topic, &duplicates),
            if guarantee.forbids_duplicates() {
                ", a violation of exactly_once"
            } else {
                ", allowed by the declared guarantee"
            }
        ));
    }
    if foreign > 0 {
        detail.push_str(&format!("; {foreign} for no malformed record"));
    }
    if unjudged > 0 {
        detail.push_str(&format!(
            "; {unjudged} for the recorded input's own records (not judged: the pipeline decides \
             which of them it rejects)"
        ));
    }
    let status = if failed {
        CheckStatus::Fail
    } else {
        CheckStatus::Pass
    };
    let n = anomalies.len() as u64;
    DeadLetterReport {
        check: CheckResult::new("dead_letters", status, detail, anomalies, n),
        total,
        distinct,
    }
}

fn key_text(key: Option<&[u8]>) -> String {
    match key {
        Some(k) => String::from_utf8_lossy(k).into_owned(),
        None => "none".into(),
    }
}

fn examples(topic: &str, at: &[(i32, i64)]) -> String {
    let mut s: Vec<String> = at
        .iter()
        .take(EXAMPLES)
        .map(|&(p, o)| position_key(topic, p, o))
        .collect();
    if at.len() > EXAMPLES {
        s.push("…".into());
    }
    s.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_workload::{generate, WorkloadSpec};

    fn setup() -> (Workload, Placement) {
        let w = generate(&WorkloadSpec {
            events: 300,
            malformed_ratio: 0.1,
            ..WorkloadSpec::default()
        })
        .unwrap();
        let placement: Placement = w
            .records
            .iter()
            .map(|r| (r.seq, (0, r.seq as i64)))
            .collect();
        (w, placement)
    }

    /// One dead letter per malformed record, with or without source headers.
    fn letters(w: &Workload, placement: &Placement, headers: bool) -> Vec<DeadLetter> {
        w.expected_quarantine()
            .into_iter()
            .enumerate()
            .map(|(i, (seq, _))| {
                let r = &w.records[seq as usize];
                let (p, o) = placement[&seq];
                DeadLetter {
                    at: (0, i as i64),
                    key: r.key.clone(),
                    value: r.value.clone(),
                    source: headers.then(|| ("in".to_string(), p, o)),
                }
            })
            .collect()
    }

    #[test]
    fn letters_for_recorded_records_are_not_judged_but_an_injected_malformed_one_is_required() {
        let dir = std::env::temp_dir().join(format!("fl-dl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("events.jsonl");
        let lines: String = (0..50)
            .map(|i| format!("{{\"key\":\"k{i}\",\"value\":{{\"n\":{i}}}}}\n"))
            .collect();
        std::fs::write(&file, lines).unwrap();
        let spec = WorkloadSpec {
            malformed_ratio: 0.1,
            malformed_kinds: vec![ReasonCode::NotUtf8, ReasonCode::InvalidJson],
            oversized: 1,
            ..WorkloadSpec::default()
        };
        let w = faultline_workload::from_recorded(&file, &spec).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let placement: Placement = w
            .records
            .iter()
            .map(|r| (r.seq, (0, r.seq as i64)))
            .collect();
        // The pipeline also rejects two of the user's own records, with its own headers (none of
        // faultline's): matched by bytes, accepted, not judged.
        let own: Vec<DeadLetter> = w
            .records
            .iter()
            .filter(|r| matches!(r.expect, Expectation::Recorded { .. }))
            .take(2)
            .enumerate()
            .map(|(i, r)| DeadLetter {
                at: (0, 1000 + i as i64),
                key: r.key.clone(),
                value: r.value.clone(),
                source: None,
            })
            .collect();
        let mut all = letters(&w, &placement, false);
        all.extend(own);
        let r = check_dead_letters(&w, &placement, "in", &all, Guarantee::ExactlyOnce);
        assert_eq!(r.check.status, CheckStatus::Pass, "{}", r.check.detail);
        assert!(
            r.check
                .detail
                .contains("3 for the recorded input's own records"),
            "{}",
            r.check.detail
        );
        // Without the injected ones' letters, they are missing.
        let only_own: Vec<DeadLetter> = all.into_iter().filter(|l| l.at.1 >= 1000).collect();
        let r = check_dead_letters(&w, &placement, "in", &only_own, Guarantee::ExactlyOnce);
        assert_eq!(r.check.status, CheckStatus::Fail, "{}", r.check.detail);
    }

    #[test]
    fn one_letter_per_malformed_record_passes_with_or_without_headers() {
        let (w, placement) = setup();
        let want = w.expected_quarantine().len() as u64;
        assert!(want > 5, "the workload has malformed records");
        for headers in [true, false] {
            let r = check_dead_letters(
                &w,
                &placement,
                "in",
                &letters(&w, &placement, headers),
                Guarantee::ExactlyOnce,
            );
            assert_eq!(r.check.status, CheckStatus::Pass, "{}", r.check.detail);
            assert_eq!((r.total, r.distinct), (want, want));
        }
    }

    #[test]
    fn a_copy_fails_exactly_once_and_is_reported_under_the_others() {
        let (w, placement) = setup();
        let mut l = letters(&w, &placement, true);
        let mut copy = l[2].clone();
        copy.at = (0, 999);
        l.push(copy);
        let n = l.len() as u64;
        let r = check_dead_letters(&w, &placement, "in", &l, Guarantee::ExactlyOnce);
        assert_eq!(r.check.status, CheckStatus::Fail);
        assert_eq!((r.total, r.distinct), (n, n - 1));
        assert_eq!(r.check.failing_rows.len(), 1);
        let a = &r.check.failing_rows[0];
        assert_eq!(a.class, AnomalyClass::DuplicateDeadLetter);
        assert!(a.actual.as_deref().unwrap().contains("0@999"), "{a}");
        for g in [Guarantee::AtLeastOnce, Guarantee::EffectivelyOnce] {
            let r = check_dead_letters(&w, &placement, "in", &l, g);
            assert_eq!(r.check.status, CheckStatus::Pass);
            assert!(
                r.check.detail.contains("1 duplicate copies of 1 records"),
                "{}",
                r.check.detail
            );
            assert_eq!(r.check.failing_rows.len(), 1, "the copy is still listed");
        }
    }

    #[test]
    fn a_missing_letter_fails_under_every_guarantee_naming_its_position_and_key() {
        let (w, placement) = setup();
        for headers in [true, false] {
            let mut l = letters(&w, &placement, headers);
            l.remove(0);
            for g in [Guarantee::ExactlyOnce, Guarantee::AtLeastOnce] {
                let r = check_dead_letters(&w, &placement, "in", &l, g);
                assert_eq!(r.check.status, CheckStatus::Fail);
                let a = &r.check.failing_rows[0];
                assert_eq!(a.class, AnomalyClass::MissingDeadLetter);
                let seq = w.expected_quarantine()[0].0;
                assert_eq!((a.partition, a.offset), (Some(0), Some(seq as i64)));
                let key = String::from_utf8_lossy(w.records[seq as usize].key.as_deref().unwrap())
                    .into_owned();
                assert!(a.expected.as_deref().unwrap().contains(&key), "{a}");
            }
        }
    }

    #[test]
    fn a_letter_for_a_valid_record_is_unexpected() {
        let (w, placement) = setup();
        let mut l = letters(&w, &placement, true);
        let valid = w
            .records
            .iter()
            .find(|r| matches!(r.expect, faultline_workload::Expectation::Valid { .. }))
            .unwrap();
        l.push(DeadLetter {
            at: (0, 500),
            key: valid.key.clone(),
            value: valid.value.clone(),
            source: Some(("in".into(), 0, valid.seq as i64)),
        });
        let r = check_dead_letters(&w, &placement, "in", &l, Guarantee::AtLeastOnce);
        assert_eq!(r.check.status, CheckStatus::Fail);
        assert_eq!(
            r.check.failing_rows[0].class,
            AnomalyClass::UnexpectedDeadLetter
        );
    }

    #[test]
    fn headers_are_parsed_and_a_bad_one_falls_back_to_bytes() {
        let h = |o: &'static [u8]| {
            vec![
                (SOURCE_TOPIC_HEADER, Some(&b"in"[..])),
                (SOURCE_PARTITION_HEADER, Some(&b"2"[..])),
                (SOURCE_OFFSET_HEADER, Some(o)),
                ("faultline.reason", Some(&b"invalid_json"[..])),
            ]
        };
        let l = DeadLetter::from_parts((0, 1), Some(b"k"), b"v", h(b"41"));
        assert_eq!(l.source, Some(("in".into(), 2, 41)));
        let l = DeadLetter::from_parts((0, 1), Some(b"k"), b"v", h(b"x41"));
        assert_eq!(l.source, None);
    }
}
