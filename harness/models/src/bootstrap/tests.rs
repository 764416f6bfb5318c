//! Contracts both resampling methods keep.

use super::*;
use crate::rng::{seeded, stream};
use proptest::prelude::*;

#[test]
fn quantile_interpolates_between_order_statistics() {
    let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
    assert_eq!(quantile(&xs, 0.0), 1.0);
    assert_eq!(quantile(&xs, 0.5), 3.0);
    assert_eq!(quantile(&xs, 0.125), 1.5);
    assert_eq!(quantile(&xs, 1.0), 5.0);
    assert_eq!(quantile(&[7.0], 0.975), 7.0);
}

#[test]
fn methods_parse_from_their_names_and_refuse_others() {
    for m in Resampling::ALL {
        assert_eq!(m.as_str().parse::<Resampling>(), Ok(m));
    }
    let e = "row".parse::<Resampling>().unwrap_err();
    assert!(e.contains("`row`") && e.contains("counts or rows"), "{e}");
    assert_eq!(Resampling::default(), Resampling::Counts);
}

#[test]
fn identical_models_have_zero_width_intervals_at_zero() {
    let labels = [true, false, true, false, false, true];
    let scores = [0.9, 0.2, 0.6, 0.7, 0.1, 0.3];
    let a = Scored::new(&scores, 0.5);
    let b = Scored::new(&scores, 0.5);
    for method in Resampling::ALL {
        let ci = paired_bootstrap(
            &labels,
            &a,
            &b,
            method,
            200,
            0.95,
            &mut seeded(1, stream::BOOTSTRAP),
        );
        for (m, i) in ci {
            assert_eq!((i.low, i.high), (0.0, 0.0), "{method} {m}");
        }
    }
}

#[test]
fn a_clearly_better_challenger_has_a_positive_interval() {
    // The challenger ranks every positive above every negative; the champion is random-ish.
    let n = 400;
    let labels: Vec<bool> = (0..n).map(|i| i % 4 == 0).collect();
    let good: Vec<f64> = labels.iter().map(|&l| if l { 0.9 } else { 0.1 }).collect();
    let poor: Vec<f64> = (0..n).map(|i| ((i * 37) % 100) as f64 / 100.0).collect();
    for method in Resampling::ALL {
        let ci = paired_bootstrap(
            &labels,
            &Scored::new(&poor, 0.5),
            &Scored::new(&good, 0.5),
            method,
            300,
            0.95,
            &mut seeded(5, stream::BOOTSTRAP),
        );
        for m in [
            MetricName::Precision,
            MetricName::F1,
            MetricName::PrAuc,
            MetricName::Accuracy,
        ] {
            assert!(ci[&m].low > 0.0, "{method} {m}: {:?}", ci[&m]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn same_seed_gives_same_intervals_and_low_le_high(
        rows in prop::collection::vec((any::<bool>(), 0u8..=20, 0u8..=20), 1..80),
        seed in any::<u64>(),
        method in prop::sample::select(Resampling::ALL.to_vec()),
    ) {
        let labels: Vec<bool> = rows.iter().map(|r| r.0).collect();
        let a_scores: Vec<f64> = rows.iter().map(|r| f64::from(r.1) / 20.0).collect();
        let b_scores: Vec<f64> = rows.iter().map(|r| f64::from(r.2) / 20.0).collect();
        let (a, b) = (Scored::new(&a_scores, 0.5), Scored::new(&b_scores, 0.5));
        let run = || paired_bootstrap(&labels, &a, &b, method, 50, 0.9, &mut seeded(seed, stream::BOOTSTRAP));
        let first = run();
        prop_assert_eq!(&first, &run());
        for (m, i) in &first {
            prop_assert!(i.low <= i.high, "{}: {:?}", m, i);
            prop_assert!(i.low >= -1.0 && i.high <= 1.0);
        }
    }
}

#[test]
fn the_change_contrast_is_zero_for_equal_changes_and_sees_a_lone_collapse() {
    let n = 300;
    let labels: Vec<bool> = (0..n).map(|i| i % 4 == 0).collect();
    let clean: Vec<f64> = labels.iter().map(|&l| if l { 0.8 } else { 0.2 }).collect();
    let collapsed = vec![0.9; n];
    let (c, f) = (Scored::new(&clean, 0.5), Scored::new(&collapsed, 0.5));
    let run = |champion_after: &Scored<'_>, challenger_after: &Scored<'_>| {
        paired_change_contrast(
            &labels,
            Paired {
                before: &c,
                after: champion_after,
            },
            Paired {
                before: &c,
                after: challenger_after,
            },
            200,
            0.95,
            &mut seeded(5, stream::ROBUSTNESS),
        )
    };
    for (m, i) in run(&f, &f) {
        assert_eq!((i.low, i.high), (0.0, 0.0), "{m}");
    }
    let lone = run(&c, &f);
    let p = lone[&MetricName::Precision];
    // Precision falls from 1 to the positive share, 0.25, for the challenger only.
    assert!(p.high < -0.6 && p.low > -0.85, "{p:?}");
}
