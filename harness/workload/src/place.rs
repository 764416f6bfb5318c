//! Where records go in the send order: the bounded shuffle, the gap a re-send lands in, and the merge
//! of extra records (duplicates, malformed records) into the skeleton of first copies.
//!
//! Shared by [`generate`](crate::generate()) and [`from_recorded`](crate::from_recorded()), so both
//! kinds of workload reorder and interleave by the same rules, each from its own streams.

use crate::rng::SeededRng;

/// Duplicates land within this many skeleton records of their original half of the time (a producer
/// retry); otherwise anywhere later (a replay).
const NEAR_DUPLICATE_GAPS: u64 = 16;

/// An extra record and its place: right before skeleton record `gap` (after the last when `gap` is
/// the skeleton's length); equal gaps are ordered by `tiebreak`.
pub(crate) struct Placed<E> {
    pub(crate) gap: u64,
    pub(crate) tiebreak: u64,
    pub(crate) item: E,
}

/// One position of the merged send order.
pub(crate) enum Slot<E> {
    /// Skeleton record `i`.
    Base(usize),
    /// An extra record.
    Extra(E),
}

/// `items` with each moved by fewer than `window` places; 0 or 1 keeps the order and draws nothing.
pub(crate) fn within_window<T>(items: Vec<T>, window: u32, rng: &mut SeededRng) -> Vec<T> {
    let window = u64::from(window);
    if window <= 1 {
        return items;
    }
    // Sorting by index + jitter in 0..window moves every item by fewer than `window` places.
    let mut keyed: Vec<(u64, T)> = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| (i as u64 + rng.below(window), item))
        .collect();
    keyed.sort_by_key(|(key, _)| *key);
    keyed.into_iter().map(|(_, item)| item).collect()
}

/// The gap a re-send of skeleton record `of` lands in, among `n` skeleton records: always after its
/// original, near it half of the time.
pub(crate) fn duplicate_gap(rng: &mut SeededRng, of: usize, n: u64) -> u64 {
    let first = of as u64 + 1;
    let near = rng.chance(0.5);
    let spread = rng.range_inclusive(first, n);
    if near {
        (first + rng.below(NEAR_DUPLICATE_GAPS)).min(n)
    } else {
        spread
    }
}

/// The send order of `n` skeleton records and `extras`. Adding or removing extras never moves the
/// skeleton records relative to each other.
pub(crate) fn interleave<E>(n: usize, mut extras: Vec<Placed<E>>) -> Vec<Slot<E>> {
    // Stable sort: equal (gap, tiebreak) pairs keep the order they were drawn in.
    extras.sort_by_key(|e| (e.gap, e.tiebreak));
    let mut out = Vec::with_capacity(n + extras.len());
    let mut extras = extras.into_iter().peekable();
    for gap in 0..=n as u64 {
        while let Some(extra) = extras.next_if(|e| e.gap == gap) {
            out.push(Slot::Extra(extra.item));
        }
        if gap < n as u64 {
            out.push(Slot::Base(gap as usize));
        }
    }
    debug_assert!(
        extras.next().is_none(),
        "every extra record has a gap in 0..=n"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{seeded, Concern};

    #[test]
    fn extras_go_before_their_gap_in_tiebreak_order() {
        let placed = |gap, tiebreak, item| Placed {
            gap,
            tiebreak,
            item,
        };
        let order = interleave(
            2,
            vec![placed(2, 5, 'b'), placed(0, 1, 'x'), placed(2, 3, 'a')],
        );
        let text: String = order
            .iter()
            .map(|s| match s {
                Slot::Base(i) => char::from(b'0' + *i as u8),
                Slot::Extra(c) => *c,
            })
            .collect();
        assert_eq!(text, "x01ab");
    }

    #[test]
    fn duplicate_gaps_come_after_the_original() {
        let mut rng = seeded(3, Concern::Duplicates);
        for of in 0..50 {
            let gap = duplicate_gap(&mut rng, of, 50);
            assert!(gap > of as u64 && gap <= 50, "{of} -> {gap}");
        }
    }
}
