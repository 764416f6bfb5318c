//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, no external fetches),
//! in the shell `faultline-report` gives every faultline page.

use std::fmt::Write;

use faultline_report::escape::text;
use faultline_report::html::page;

use crate::compare::{Comparison, ModelResult};
use crate::policy::Verdict;
use crate::report::svg::{delta_bars, pr_curves, CHALLENGER_COLOUR, CHAMPION_COLOUR};
use crate::report::{robustness_rows, signed, ROBUSTNESS_HEADER};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:980px;color:#222}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}\
th:first-child,td:first-child{text-align:left}.verdict{padding:.8rem 1rem;border-radius:6px;font-size:1.3rem}\
.promote{background:#d8f3dc}.keep{background:#fde2e1}.inconclusive{background:#eee}\
.cms{display:flex;gap:3rem;flex-wrap:wrap}svg text{font-size:12px;font-family:inherit}\
code{background:#f4f4f4;padding:0 .2rem}svg{display:block;max-width:640px;height:auto}";

fn confusion_table(role: &str, colour: &str, m: &ModelResult) -> String {
    let c = &m.confusion;
    format!(
        "<div><h3 style=\"color:{colour}\">{role}: <code>{}</code></h3><table>\
         <tr><th></th><th>predicted fraud</th><th>predicted legitimate</th></tr>\
         <tr><th>fraud</th><td>{}</td><td>{}</td></tr><tr><th>legitimate</th><td>{}</td><td>{}</td></tr></table>\
         <p>threshold {} ({})</p></div>",
        text(&m.version), c.tp, c.fn_, c.fp, c.tn, m.threshold, text(&m.format)
    )
}

/// The HTML report of a comparison.
pub fn report(c: &Comparison) -> String {
    let mut s = String::new();
    let level = c.policy.confidence * 100.0;
    let verdict_class = match c.verdict {
        Verdict::Promote => "promote",
        Verdict::Keep => "keep",
        Verdict::Inconclusive => "inconclusive",
    };
    let _ = write!(
        s,
        "<h1>Champion/challenger comparison</h1><p>Dataset <code>{}</code>: {} rows, {} labelled fraud. \
         Paired bootstrap: {} resamples, seed {}, {level:.0}% percentile intervals.</p>",
        text(&c.dataset), c.n, c.positives, c.policy.resamples, c.seed
    );
    let _ = write!(
        s,
        "<div class=\"verdict {verdict_class}\"><strong>Verdict: {}</strong> (exit code {})<ul>",
        c.verdict.as_str(),
        c.verdict.exit_code()
    );
    for r in &c.reasons {
        let _ = write!(s, "<li>{}</li>", text(r));
    }
    s.push_str("</ul></div>");

    let _ = write!(
        s,
        "<h2>Metrics</h2><table><tr><th>metric</th><th style=\"color:{CHAMPION_COLOUR}\">champion <code>{}</code></th>\
         <th style=\"color:{CHALLENGER_COLOUR}\">challenger <code>{}</code></th><th>delta</th><th>{level:.0}% interval</th></tr>",
        text(&c.champion.version), text(&c.challenger.version)
    );
    for (m, d) in &c.deltas {
        let flag = |r: &ModelResult| {
            if r.metrics.undefined.contains(m) {
                " †"
            } else {
                ""
            }
        };
        let _ = write!(
            s,
            "<tr><td>{m}</td><td>{:.4}{}</td><td>{:.4}{}</td><td>{}</td><td>[{}, {}]</td></tr>",
            d.champion,
            flag(&c.champion),
            d.challenger,
            flag(&c.challenger),
            signed(d.delta),
            signed(d.ci.low),
            signed(d.ci.high)
        );
    }
    s.push_str("</table>");
    if !(c.champion.metrics.undefined.is_empty() && c.challenger.metrics.undefined.is_empty()) {
        s.push_str(
            "<p>† undefined (zero denominator, e.g. no predicted positives) and counted as 0.</p>",
        );
    }
    let _ = write!(
        s,
        "<h2>Deltas with {level:.0}% intervals</h2>{}",
        delta_bars(&c.deltas)
    );
    let _ = write!(
        s,
        "<h2>Precision–recall curves</h2>{}",
        pr_curves(&c.champion, &c.challenger)
    );
    let _ = write!(
        s,
        "<h2>Confusion matrices</h2><div class=\"cms\">{}{}</div>",
        confusion_table("champion", CHAMPION_COLOUR, &c.champion),
        confusion_table("challenger", CHALLENGER_COLOUR, &c.challenger)
    );

    s.push_str("<h2>Gates</h2><table><tr><th>metric</th><th>threshold</th><th>min absolute change</th><th>min relative change</th><th>lower is better</th><th>interval</th><th>passed</th></tr>");
    for (g, o) in c.policy.gates.iter().zip(&c.gates) {
        let opt = |v: Option<f64>| v.map_or("–".to_string(), |v| v.to_string());
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            g.metric, opt(g.threshold), opt(g.min_absolute_change), opt(g.min_relative_change),
            if g.greater_is_better { "no" } else { "yes" }, o.direction.as_str(), if o.passed { "yes" } else { "no" }
        );
    }
    let _ = write!(
        s,
        "</table><p>min_samples {}: {} rows compared.</p>",
        c.policy.min_samples, c.n
    );
    if let Some(r) = &c.robustness {
        let _ = write!(
            s,
            "<h2>Robustness under faults</h2><p>Each model's metrics on the same transactions in the fault-free run \
             (<code>{}</code>) and this faulted run; changes are faulted − fault-free with paired {level:.0}% intervals.</p><table><tr>",
            text(&r.fault_free)
        );
        for h in ROBUSTNESS_HEADER {
            let _ = write!(s, "<th>{}</th>", text(h));
        }
        s.push_str("</tr>");
        for row in robustness_rows(r) {
            s.push_str("<tr>");
            for cell in row {
                let _ = write!(s, "<td>{}</td>", text(&cell));
            }
            s.push_str("</tr>");
        }
        s.push_str("</table><ul>");
        for g in &r.gates {
            let _ = write!(
                s,
                "<li>{}{}</li>",
                if g.blocks {
                    "<strong>blocks</strong>: "
                } else {
                    ""
                },
                text(&g.detail)
            );
        }
        s.push_str("</ul>");
    }
    let mc = &c.mcnemar;
    let _ = writeln!(
        s,
        "<h2>McNemar's exact test</h2><p>{} discordant rows: {} only the champion classifies correctly, {} only the challenger; \
         two-sided exact p = {:.4e}.</p>",
        mc.discordant, mc.champion_only_correct, mc.challenger_only_correct, mc.p_value
    );
    page(
        &format!("faultline compare: {}", c.verdict.as_str()),
        STYLE,
        &s,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_is_self_contained_and_escaped() {
        let c = crate::report::tests::sample();
        let html = report(&c);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script"), "no scripts");
        assert!(!html.contains("<link"), "no external stylesheets");
        assert!(!html.contains("src="), "no external resources");
        assert!(html.contains("chall &amp; v2"));
        assert_eq!(html.matches("<svg").count(), 2);
        assert!(html.contains("predicted fraud"));
    }
}
