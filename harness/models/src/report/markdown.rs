//! `summary.md`: the verdict, a metrics table with delta intervals, gates, robustness under faults
//! (live comparisons with a baseline), McNemar and the confusion matrices.

use std::fmt::Write;

use crate::compare::Comparison;
use crate::metrics::Confusion;
use crate::report::{robustness_rows, signed, ROBUSTNESS_HEADER};

/// Marks a value that was undefined (zero denominator) and shown as 0.
const UNDEFINED_MARK: &str = "†";

/// The Markdown summary of a comparison.
pub fn summary(c: &Comparison) -> String {
    let mut s = String::new();
    let level = c.policy.confidence * 100.0;
    // Writing to a String cannot fail.
    let _ = writeln!(
        s,
        "# Champion/challenger comparison: {}\n",
        c.verdict.as_str().to_uppercase()
    );
    let _ = writeln!(
        s,
        "Dataset `{}`: {} rows, {} labelled fraud. Champion `{}` ({}, threshold {}), challenger `{}` ({}, threshold {}). \
         Paired bootstrap with {} resamples, seed {}, {level:.0}% percentile intervals.\n",
        c.dataset, c.n, c.positives, c.champion.version, c.champion.format, c.champion.threshold,
        c.challenger.version, c.challenger.format, c.challenger.threshold, c.policy.resamples, c.seed
    );
    let _ = writeln!(
        s,
        "**Verdict: {}** (exit code {})\n",
        c.verdict.as_str(),
        c.verdict.exit_code()
    );
    for r in &c.reasons {
        let _ = writeln!(s, "- {r}");
    }
    let _ = writeln!(s, "\n## Metrics\n");
    let _ = writeln!(
        s,
        "| metric | champion | challenger | delta | {level:.0}% interval |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | --- |");
    let mark = |undefined: bool| if undefined { UNDEFINED_MARK } else { "" };
    let mut any_undefined = false;
    for (m, d) in &c.deltas {
        let ua = c.champion.metrics.undefined.contains(m);
        let ub = c.challenger.metrics.undefined.contains(m);
        any_undefined |= ua || ub;
        let _ = writeln!(
            s,
            "| {m} | {:.4}{} | {:.4}{} | {} | [{}, {}] |",
            d.champion,
            mark(ua),
            d.challenger,
            mark(ub),
            signed(d.delta),
            signed(d.ci.low),
            signed(d.ci.high)
        );
    }
    if any_undefined {
        let _ = writeln!(s, "\n{UNDEFINED_MARK} undefined (zero denominator, e.g. no predicted positives) and counted as 0.");
    }
    let _ = writeln!(s, "\n## Gates\n");
    let _ = writeln!(
        s,
        "| metric | threshold | min absolute change | min relative change | interval | passed |"
    );
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | --- | --- |");
    for (gate, outcome) in c.policy.gates.iter().zip(&c.gates) {
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            gate.metric,
            opt(gate.threshold),
            opt(gate.min_absolute_change),
            opt(gate.min_relative_change),
            outcome.direction.as_str(),
            if outcome.passed { "yes" } else { "no" }
        );
    }
    if let Some(r) = &c.robustness {
        let _ = writeln!(s, "\n## Robustness under faults\n");
        let _ = writeln!(
            s,
            "Each model's metrics on the same transactions in the fault-free run (`{}`) and this faulted run; \
             changes are faulted − fault-free with paired {level:.0}% intervals.\n",
            r.fault_free
        );
        let _ = writeln!(s, "| {} |", ROBUSTNESS_HEADER.join(" | "));
        let _ = writeln!(s, "| --- | --- | ---: | ---: | ---: | --- |");
        for row in robustness_rows(r) {
            let _ = writeln!(s, "| {} |", row.join(" | "));
        }
        for g in &r.gates {
            let _ = writeln!(
                s,
                "\n- {}{}",
                if g.blocks { "**blocks**: " } else { "" },
                g.detail
            );
        }
    }
    let mc = &c.mcnemar;
    let _ = writeln!(s, "\n## McNemar's exact test\n");
    let _ = writeln!(
        s,
        "{} discordant rows: {} only the champion gets right, {} only the challenger gets right; two-sided p = {:.4e}.",
        mc.discordant, mc.champion_only_correct, mc.challenger_only_correct, mc.p_value
    );
    let _ = writeln!(s, "\n## Confusion matrices\n");
    let _ = writeln!(s, "| | champion | challenger |");
    let _ = writeln!(s, "| --- | ---: | ---: |");
    let (a, b): (&Confusion, &Confusion) = (&c.champion.confusion, &c.challenger.confusion);
    for (name, x, y) in [
        ("true positive", a.tp, b.tp),
        ("false positive", a.fp, b.fp),
        ("true negative", a.tn, b.tn),
        ("false negative", a.fn_, b.fn_),
    ] {
        let _ = writeln!(s, "| {name} | {x} | {y} |");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricName;

    #[test]
    fn summary_has_verdict_table_and_matrices() {
        let c = crate::report::tests::sample();
        let md = summary(&c);
        assert!(md.starts_with(&format!(
            "# Champion/challenger comparison: {}",
            c.verdict.as_str().to_uppercase()
        )));
        for m in MetricName::ALL {
            assert!(md.contains(&format!("| {m} | ")), "row for {m}");
        }
        assert!(md.contains("| true positive |"));
        assert!(md.contains("McNemar"));
        assert!(!md.contains("Robustness"), "no baseline, no robustness");
    }

    #[test]
    fn robustness_shows_every_split_and_metric_and_the_gates() {
        let c = crate::report::tests::sample();
        let rows: Vec<crate::robustness::PairedRow> = (0..200)
            .map(|i| crate::robustness::PairedRow {
                label: i % 4 == 0,
                in_fault_window: i % 2 == 0,
                fallback: false,
                champion: [0.3, 0.3],
                challenger: [0.6, if i % 2 == 0 { 0.9 } else { 0.6 }],
            })
            .collect();
        let r =
            crate::robustness::measure(&rows, [0.5, 0.5], &c.policy, 1, "fault-free.transactions");
        let md = summary(&c.with_robustness(r));
        assert!(md.contains("## Robustness under faults"));
        assert!(md.contains("`fault-free.transactions`"));
        for set in crate::robustness::RowSet::ALL {
            for m in MetricName::ALL {
                assert!(
                    md.contains(&format!("| {set} (")) && md.contains(&format!(" | {m} | ")),
                    "{set} {m}"
                );
            }
        }
    }
}
