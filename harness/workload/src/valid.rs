//! The valid events: ids, accounts, amounts, event times, late events and the out-of-order send order.

use crate::event::{account_id, uuid_v4, Channel, Event, Kind};
use crate::place::within_window;
use crate::reason::MAX_AMOUNT_CENTS;
use crate::rng::{seeded, Concern, SeededRng};
use crate::spec::WorkloadSpec;

/// 2024-01-01T00:00:00Z in Unix milliseconds; base times fall in the two years after it.
const EPOCH_2024_MS: i64 = 1_704_067_200_000;
const DAY_MS: u64 = 86_400_000;
/// Event time advances by 0..=this many milliseconds from one event to the next.
const MAX_GAP_MS: u64 = 2_000;

/// Amount ranges in cents and their weights (out of 100,000): mostly a few dollars, with a long tail
/// up to the contract maximum. Integer-only so every platform draws the same amounts.
const AMOUNT_BANDS: [(i64, i64, u64); 12] = [
    (0, 0, 100),
    (1, 9, 1_900),
    (10, 99, 8_000),
    (100, 999, 25_000),
    (1_000, 9_999, 35_000),
    (10_000, 99_999, 18_000),
    (100_000, 999_999, 8_000),
    (1_000_000, 9_999_999, 3_000),
    (10_000_000, 99_999_999, 800),
    (100_000_000, 999_999_999, 150),
    (1_000_000_000, 9_999_999_999, 40),
    (10_000_000_000, MAX_AMOUNT_CENTS, 10),
];

/// The base event time for a seed: a millisecond in 2024-2025, never the wall clock.
pub(crate) fn base_time_ms(seed: u64) -> i64 {
    draw_base_ms(&mut seeded(seed, Concern::Timestamps))
}

/// The first draw of the `Timestamps` stream.
fn draw_base_ms(rng: &mut SeededRng) -> i64 {
    EPOCH_2024_MS + rng.below(2 * 365 * DAY_MS) as i64
}

/// One amount from the long-tailed distribution.
pub(crate) fn draw_amount(rng: &mut SeededRng) -> i64 {
    let total: u64 = AMOUNT_BANDS.iter().map(|b| b.2).sum();
    let mut ticket = rng.below(total);
    for (lo, hi, weight) in AMOUNT_BANDS {
        if ticket < weight {
            return lo + rng.below((hi - lo + 1) as u64) as i64;
        }
        ticket -= weight;
    }
    unreachable!("tickets are drawn below the total weight")
}

/// Draws the fields of one event that the `Events` stream owns.
pub(crate) fn draw_event_core(rng: &mut SeededRng, accounts: u64) -> (String, String, Kind, i64) {
    let transaction_id = uuid_v4(rng.bytes16());
    let account = account_id(rng.below(accounts));
    let kind = if rng.chance(0.5) {
        Kind::Credit
    } else {
        Kind::Debit
    };
    let amount = draw_amount(rng);
    (transaction_id, account, kind, amount)
}

/// All valid events, in send order.
pub(crate) fn valid_events(spec: &WorkloadSpec) -> Vec<Event> {
    let n = spec.events as usize;
    let mut events_rng = seeded(spec.seed, Concern::Events);
    let mut time_rng = seeded(spec.seed, Concern::Timestamps);
    let mut now = draw_base_ms(&mut time_rng);

    let mut events = Vec::with_capacity(n);
    for _ in 0..n {
        let (transaction_id, account_id, kind, amount_cents) =
            draw_event_core(&mut events_rng, spec.accounts);
        now += time_rng.below(MAX_GAP_MS + 1) as i64;
        events.push(Event {
            transaction_id,
            account_id,
            kind,
            amount_cents,
            created_at_ms: now,
            channel: None,
        });
    }

    let mut schema_rng = seeded(spec.seed, Concern::Schema);
    for i in schema_rng.sample_indices(n, spec.count_of(spec.schema_v2_ratio) as usize) {
        events[i].channel = Some(*schema_rng.pick(&Channel::ALL));
    }

    let mut late_rng = seeded(spec.seed, Concern::Late);
    for i in late_rng.sample_indices(n, spec.count_of(spec.late_ratio) as usize) {
        events[i].created_at_ms -= late_rng.range_inclusive(DAY_MS, 30 * DAY_MS) as i64;
    }

    let mut order_rng = seeded(spec.seed, Concern::Order);
    within_window(events, spec.out_of_order_window, &mut order_rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn amounts_are_mostly_small_with_a_long_tail() {
        let mut rng = seeded(3, Concern::Events);
        let amounts: Vec<i64> = (0..20_000).map(|_| draw_amount(&mut rng)).collect();
        assert!(amounts.iter().all(|a| (0..=MAX_AMOUNT_CENTS).contains(a)));
        let small = amounts.iter().filter(|&&a| a < 10_000).count();
        let large = amounts.iter().filter(|&&a| a >= 1_000_000).count();
        assert!(small > 12_000, "only {small} of 20000 under $100");
        assert!(large > 100, "only {large} of 20000 at $10,000 or more");
    }

    #[test]
    fn base_time_depends_on_seed_only() {
        assert_eq!(base_time_ms(9), base_time_ms(9));
        assert_ne!(base_time_ms(9), base_time_ms(10));
        let year_2026 = 1_767_225_600_000;
        assert!((EPOCH_2024_MS..year_2026).contains(&base_time_ms(9)));
    }

    #[test]
    fn event_time_is_monotonic_without_late_or_reordering() {
        let spec = WorkloadSpec {
            events: 500,
            ..Default::default()
        };
        let events = valid_events(&spec);
        assert!(events
            .windows(2)
            .all(|w| w[0].created_at_ms <= w[1].created_at_ms));
        assert!(events[0].created_at_ms >= base_time_ms(0));
    }

    #[test]
    fn late_events_are_at_least_a_day_behind() {
        let spec = WorkloadSpec {
            events: 400,
            late_ratio: 0.25,
            ..Default::default()
        };
        let on_time = valid_events(&WorkloadSpec {
            late_ratio: 0.0,
            ..spec.clone()
        });
        let late = valid_events(&spec);
        let shifted: Vec<i64> = on_time
            .iter()
            .zip(&late)
            .map(|(a, b)| a.created_at_ms - b.created_at_ms)
            .filter(|d| *d != 0)
            .collect();
        assert_eq!(shifted.len(), 100);
        assert!(shifted
            .iter()
            .all(|d| (DAY_MS as i64..=30 * DAY_MS as i64).contains(d)));
    }

    #[test]
    fn v2_share_is_exact() {
        let spec = WorkloadSpec {
            events: 1_000,
            schema_v2_ratio: 0.3,
            ..Default::default()
        };
        let v2 = valid_events(&spec)
            .iter()
            .filter(|e| e.channel.is_some())
            .count();
        assert_eq!(v2, 300);
    }

    #[test]
    fn transaction_ids_are_unique() {
        let spec = WorkloadSpec {
            events: 5_000,
            ..Default::default()
        };
        let ids: BTreeSet<String> = valid_events(&spec)
            .into_iter()
            .map(|e| e.transaction_id)
            .collect();
        assert_eq!(ids.len(), 5_000);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn reordering_moves_each_event_less_than_the_window(seed: u64, window in 0u32..40) {
            let base = WorkloadSpec { seed, events: 300, ..Default::default() };
            let in_order = valid_events(&base);
            let shuffled = valid_events(&WorkloadSpec { out_of_order_window: window, ..base });
            prop_assert_eq!(in_order.len(), shuffled.len());
            for (pos, event) in shuffled.iter().enumerate() {
                let orig = in_order.iter().position(|e| e == event).unwrap();
                prop_assert!((pos as i64 - orig as i64).unsigned_abs() < u64::from(window.max(1)));
            }
        }

        #[test]
        fn accounts_stay_within_the_configured_range(seed: u64, accounts in 1u64..50) {
            let spec = WorkloadSpec { seed, events: 200, accounts, ..Default::default() };
            for e in valid_events(&spec) {
                let n: u64 = e.account_id.trim_start_matches("acct-").parse().unwrap();
                prop_assert!(n < accounts);
            }
        }
    }
}
