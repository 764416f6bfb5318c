//! Inline SVG charts for the HTML report: precision–recall curves and delta error bars.
//! Plain strings, no scripts, fixed decimal places so the output is byte-stable. The chart shell,
//! lines and escaping are `faultline-report`'s building blocks.

use std::collections::BTreeMap;
use std::fmt::Write;

use faultline_report::escape::text;
use faultline_report::svg::{open_svg, polyline};

use crate::compare::{Delta, ModelResult};
use crate::metrics::{MetricName, PrPoint};

/// Colour of the champion in every chart.
pub const CHAMPION_COLOUR: &str = "#4c72b0";
/// Colour of the challenger in every chart.
pub const CHALLENGER_COLOUR: &str = "#dd8452";

/// A plot area mapping data coordinates to pixels.
struct Frame {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        self.left + (x - self.x.0) / (self.x.1 - self.x.0) * self.width
    }
    fn py(&self, y: f64) -> f64 {
        self.top + self.height - (y - self.y.0) / (self.y.1 - self.y.0) * self.height
    }
}

/// A PR curve's line, started at recall 0 with the first point's precision, as PR curves are
/// conventionally drawn.
fn pr_line(f: &Frame, points: &[PrPoint], colour: &str, class: &str) -> String {
    let start = points
        .first()
        .map(|first| (f.px(0.0), f.py(first.precision)));
    let rest = points.iter().map(|p| (f.px(p.recall), f.py(p.precision)));
    polyline(start.into_iter().chain(rest), colour, class, "")
}

/// Precision–recall curves of both models, each with its operating point (the threshold) marked.
pub fn pr_curves(champion: &ModelResult, challenger: &ModelResult) -> String {
    let f = Frame {
        left: 50.0,
        top: 20.0,
        width: 400.0,
        height: 300.0,
        x: (0.0, 1.0),
        y: (0.0, 1.0),
    };
    let mut s = open_svg(620.0, 370.0, "precision-recall curves");
    for k in 0..=5 {
        let v = f64::from(k) / 5.0;
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{t:.1}\" x2=\"{x:.1}\" y2=\"{b:.1}\" stroke=\"#ddd\"/><line x1=\"{l:.1}\" y1=\"{y:.1}\" x2=\"{r:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{x:.1}\" y=\"{lb:.1}\" text-anchor=\"middle\">{v:.1}</text><text x=\"{ll:.1}\" y=\"{y:.1}\" text-anchor=\"end\" dominant-baseline=\"middle\">{v:.1}</text>",
            x = f.px(v), y = f.py(v), t = f.top, b = f.top + f.height, l = f.left, r = f.left + f.width,
            lb = f.top + f.height + 16.0, ll = f.left - 6.0,
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"360\" text-anchor=\"middle\">recall</text><text x=\"12\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {:.1})\">precision</text>",
        f.left + f.width / 2.0, f.top + f.height / 2.0, f.top + f.height / 2.0
    );
    for (k, (m, colour)) in [(champion, CHAMPION_COLOUR), (challenger, CHALLENGER_COLOUR)]
        .into_iter()
        .enumerate()
    {
        let role = if k == 0 { "champion" } else { "challenger" };
        s.push_str(&pr_line(&f, &m.pr_curve, colour, role));
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{colour}\" stroke=\"#000\"><title>{} at threshold {}: recall {:.4}, precision {:.4}</title></circle>",
            f.px(m.metrics.recall), f.py(m.metrics.precision), text(&m.version), m.threshold, m.metrics.recall, m.metrics.precision
        );
        let ly = 40.0 + 22.0 * k as f64;
        let _ = write!(
            s,
            "<rect x=\"465\" y=\"{:.1}\" width=\"14\" height=\"4\" fill=\"{colour}\"/><text x=\"485\" y=\"{ly:.1}\" dominant-baseline=\"middle\">{role} (AP {:.3})</text>",
            ly - 2.0, m.metrics.pr_auc
        );
    }
    s.push_str("<text x=\"465\" y=\"95\" font-size=\"11\">dots: operating points</text></svg>");
    s
}

/// One row per metric: the delta as a dot and its interval as an error bar, around a zero line.
/// Green when the interval is entirely above 0, red when entirely below, grey otherwise.
pub fn delta_bars(deltas: &BTreeMap<MetricName, Delta>) -> String {
    let extent = deltas
        .values()
        .flat_map(|d| [d.ci.low.abs(), d.ci.high.abs(), d.delta.abs()])
        .fold(0.0f64, f64::max)
        .max(0.01)
        * 1.15;
    let rows = deltas.len().max(1) as f64;
    let f = Frame {
        left: 90.0,
        top: 10.0,
        width: 460.0,
        height: 32.0 * rows,
        x: (-extent, extent),
        y: (0.0, rows),
    };
    let h = f.top + f.height + 40.0;
    let mut s = open_svg(600.0, h, "metric deltas with intervals");
    let zero = f.px(0.0);
    let bottom = f.top + f.height;
    let _ = write!(
        s,
        "<line x1=\"{zero:.1}\" y1=\"{:.1}\" x2=\"{zero:.1}\" y2=\"{bottom:.1}\" stroke=\"#000\"/>",
        f.top
    );
    for v in [-extent, -extent / 2.0, extent / 2.0, extent] {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{v:+.3}</text>",
            f.px(v),
            bottom + 16.0
        );
    }
    let _ = write!(
        s,
        "<text x=\"{zero:.1}\" y=\"{:.1}\" text-anchor=\"middle\">challenger − champion</text>",
        bottom + 34.0
    );
    for (k, (m, d)) in deltas.iter().enumerate() {
        let y = f.py(rows - k as f64 - 0.5);
        let colour = if d.ci.low > 0.0 {
            "#2a9d3a"
        } else if d.ci.high < 0.0 {
            "#c0392b"
        } else {
            "#777"
        };
        let (x1, x2) = (f.px(d.ci.low), f.px(d.ci.high));
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{y:.1}\" text-anchor=\"end\" dominant-baseline=\"middle\">{m}</text>\
             <line x1=\"{x1:.1}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>\
             <line x1=\"{x1:.1}\" y1=\"{:.1}\" x2=\"{x1:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>\
             <line x1=\"{x2:.1}\" y1=\"{:.1}\" x2=\"{x2:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>\
             <circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{colour}\"><title>{m}: {:+.4} [{:+.4}, {:+.4}]</title></circle>",
            f.left - 8.0, y - 6.0, y + 6.0, y - 6.0, y + 6.0, f.px(d.delta), d.delta, d.ci.low, d.ci.high
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_closed_svg_elements_with_one_bar_per_metric() {
        let c = crate::report::tests::sample();
        let bars = delta_bars(&c.deltas);
        assert!(bars.starts_with("<svg") && bars.ends_with("</svg>"));
        assert_eq!(bars.matches("<circle").count(), c.deltas.len());
        let pr = pr_curves(&c.champion, &c.challenger);
        assert_eq!(pr.matches("<polyline").count(), 2);
        assert!(pr.contains("champ &lt;v1&gt;"), "versions are escaped");
    }
}
