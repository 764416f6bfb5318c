//! `offsets`: per partition, the offset log's ranges cover every offset of `[0, high watermark)`
//! exactly once and nothing else, and the stored next offset is the high watermark.

use std::collections::{BTreeMap, BTreeSet};

use crate::anomaly::{partition_key, Anomaly, AnomalyClass};
use faultline_report::CheckResult;

use crate::report::finding;
use crate::state::{EndState, OffsetRange};

pub(crate) fn check(
    high_watermarks: &BTreeMap<i32, i64>,
    state: &EndState,
) -> CheckResult<Anomaly> {
    let topic = state.topic.as_str();
    let mut log: BTreeMap<i32, Vec<&OffsetRange>> = BTreeMap::new();
    for range in &state.offset_log {
        log.entry(range.partition).or_default().push(range);
    }
    let partitions: BTreeSet<i32> = high_watermarks
        .keys()
        .chain(state.partition_offsets.keys())
        .chain(log.keys())
        .copied()
        .collect();
    let mut found = Vec::new();
    for &p in &partitions {
        let end = high_watermarks.get(&p).copied().unwrap_or(0);
        found.extend(tiling(
            topic,
            p,
            end,
            log.get(&p).map(Vec::as_slice).unwrap_or_default(),
        ));
        let stored = state.partition_offsets.get(&p).copied();
        if stored != Some(end) && !(stored.is_none() && end == 0) {
            found.push(
                Anomaly::new(
                    AnomalyClass::OffsetNotCommitted,
                    partition_key(topic, p),
                    topic,
                )
                .in_partition(p, stored)
                .expected(format!("next offset {end} (the high watermark)"))
                .actual(stored.map_or("no row".into(), |v| format!("next offset {v}"))),
            );
        }
    }
    let count = |class| found.iter().filter(|a| a.class == class).count();
    let detail = format!(
        "{} partitions, {} offset-log ranges: {} gaps, {} overlaps, {} stored next offsets off the high watermark.",
        partitions.len(),
        state.offset_log.len(),
        count(AnomalyClass::OffsetGap),
        count(AnomalyClass::OffsetOverlap),
        count(AnomalyClass::OffsetNotCommitted)
    );
    finding("offsets", detail, found)
}

/// How one stretch of offsets is covered, when that is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Below the end, covered by no range.
    Gap,
    /// Below the end, covered this many times (at most, over a merged stretch).
    Overlap(i64),
    /// At or past the end (or below 0), covered at all.
    OutOfRange,
}

/// Gaps and overlaps of one partition's ranges against `[0, end)`. Adjacent stretches with the same
/// kind of fault are reported once. Ranges running backwards are reported on their own.
fn tiling(topic: &str, p: i32, end: i64, ranges: &[&OffsetRange]) -> Vec<Anomaly> {
    let key = partition_key(topic, p);
    let mut found = Vec::new();
    let mut delta: BTreeMap<i64, i64> = BTreeMap::from([(0, 0), (end, 0)]);
    for r in ranges {
        if r.from_offset > r.to_offset {
            found.push(
                Anomaly::new(AnomalyClass::OffsetOverlap, &key, topic)
                    .in_partition(p, Some(r.from_offset))
                    .expected("from_offset <= to_offset")
                    .actual(format!(
                        "range {}..{} runs backwards",
                        r.from_offset, r.to_offset
                    )),
            );
            continue;
        }
        *delta.entry(r.from_offset).or_insert(0) += 1;
        *delta.entry(r.to_offset).or_insert(0) -= 1;
    }
    let mut stretches: Vec<(Fault, i64, i64)> = Vec::new();
    let mut covered = 0i64;
    let bounds: Vec<(i64, i64)> = delta.into_iter().collect();
    for pair in bounds.windows(2) {
        let ((from, d), (to, _)) = (pair[0], pair[1]);
        covered += d;
        let inside = from >= 0 && to <= end;
        let fault = match covered {
            0 if inside => Some(Fault::Gap),
            c if inside && c > 1 => Some(Fault::Overlap(c)),
            c if !inside && c > 0 => Some(Fault::OutOfRange),
            _ => None,
        };
        let Some(fault) = fault else { continue };
        match stretches.last_mut() {
            Some((last, _, last_to)) if *last_to == from && same_kind(*last, fault) => {
                *last_to = to;
                if let (Fault::Overlap(a), Fault::Overlap(b)) = (*last, fault) {
                    *last = Fault::Overlap(a.max(b));
                }
            }
            _ => stretches.push((fault, from, to)),
        }
    }
    for (fault, from, to) in stretches {
        let (class, actual) = match fault {
            Fault::Gap => (
                AnomalyClass::OffsetGap,
                format!("{from}..{to} covered by no range"),
            ),
            Fault::Overlap(n) => (
                AnomalyClass::OffsetOverlap,
                format!("{from}..{to} covered {n} times"),
            ),
            Fault::OutOfRange => (
                AnomalyClass::OffsetOverlap,
                format!("{from}..{to} covered, outside 0..{end}"),
            ),
        };
        found.push(
            Anomaly::new(class, &key, topic)
                .in_partition(p, Some(from))
                .expected(format!("0..{end} covered exactly once"))
                .actual(actual),
        );
    }
    found
}

fn same_kind(a: Fault, b: Fault) -> bool {
    std::mem::discriminant(&a) == std::mem::discriminant(&b)
}
