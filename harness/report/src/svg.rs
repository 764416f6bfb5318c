//! The two inline SVG charts of a run: the fault timeline (one lane per target) and the
//! throughput/lag plot with every fault window shaded. Both share a [`TimeAxis`] and the same
//! horizontal margins, so a fault's bar sits exactly above its shading. [`open_svg`] and
//! [`polyline`] are the building blocks other charts (the model comparison's) reuse.

use std::collections::BTreeMap;

use crate::escape::{attr, text};
use crate::model::{FaultEvent, RunReport, SuiteReport};
use crate::recovery::Recovery;
use crate::units::{compact, nice_step};

/// Width of every chart's coordinate system; the page scales it to the column.
const WIDTH: f64 = 1100.0;
/// Left margin: the timeline's lane names, the plot's left axis.
const LEFT: f64 = 130.0;
/// Right margin: the plot's right axis.
const RIGHT: f64 = 70.0;
/// Height of one timeline lane.
const LANE: f64 = 30.0;
/// Colour of committed records/s.
pub const RATE_COLOUR: &str = "#2563eb";
/// Colour of the lag.
pub const LAG_COLOUR: &str = "#c026d3";
/// Commit stalls: a bar along the time axis of the throughput plot.
pub const STALL_COLOUR: &str = "#dc2626";
/// Recoveries: a bar from a fault's heal to its recovery, just above the stalls.
pub const RECOVERY_COLOUR: &str = "#16a34a";
/// Fault colours, none of them the pass green, fail red or warn amber of the badges, nor a line's.
const FAULT_PALETTE: [&str; 6] = [
    "#ea580c", "#0d9488", "#7c3aed", "#475569", "#a16207", "#0284c7",
];
/// Rough width of a character of 11 px text, to decide where a label fits.
const CHAR_WIDTH: f64 = 6.4;

/// One colour per fault kind, the same in every run of the suite.
#[derive(Debug, Clone)]
pub struct FaultColours(BTreeMap<String, &'static str>);

impl FaultColours {
    /// Assigns the palette to the suite's fault kinds in sorted order.
    pub fn for_suite(suite: &SuiteReport) -> FaultColours {
        let mut kinds: BTreeMap<String, &'static str> = suite
            .runs
            .iter()
            .flat_map(|r| &r.faults)
            .map(|f| (f.kind.clone(), ""))
            .collect();
        for (i, colour) in kinds.values_mut().enumerate() {
            *colour = FAULT_PALETTE[i % FAULT_PALETTE.len()];
        }
        FaultColours(kinds)
    }

    fn of(&self, kind: &str) -> &'static str {
        self.0.get(kind).copied().unwrap_or(FAULT_PALETTE[3])
    }
}

/// The run's clock from 0 to a round end past its last event, mapped onto the charts' x range.
#[derive(Debug, Clone, Copy)]
pub struct TimeAxis {
    end_ms: u64,
    step_ms: u64,
}

impl TimeAxis {
    /// Covers the run's duration, every sample and every fault.
    pub fn for_run(run: &RunReport) -> TimeAxis {
        let last = run
            .faults
            .iter()
            .map(|f| f.end_ms.unwrap_or(f.start_ms))
            .chain(run.samples.iter().map(|s| s.t_ms))
            .fold(run.stats.duration_ms, u64::max)
            .max(1000);
        // About ten ticks, on whole seconds at least.
        let step_ms =
            ((nice_step(last as f64 / 10_000.0, &[1.0, 2.0, 5.0]) * 1000.0) as u64).max(1000);
        TimeAxis {
            end_ms: last.div_ceil(step_ms) * step_ms,
            step_ms,
        }
    }

    fn x(&self, t_ms: u64) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * (t_ms.min(self.end_ms) as f64 / self.end_ms as f64)
    }

    /// Vertical grid lines from `top` to `bottom` and second labels below `bottom`.
    fn grid(&self, top: f64, bottom: f64) -> String {
        let mut s = String::new();
        for t in (0..=self.end_ms).step_by(self.step_ms as usize) {
            let x = self.x(t);
            s.push_str(&format!(
                "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"#e2e8f0\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"tick\" fill=\"#64748b\">{} s</text>",
                bottom + 16.0,
                t / 1000
            ));
        }
        s
    }
}

/// The fault timeline: one lane per target, a bar per fault window, a diamond per instant fault.
pub fn fault_timeline(run: &RunReport, axis: &TimeAxis, colours: &FaultColours) -> String {
    let mut lanes: Vec<&str> = Vec::new();
    for f in &run.faults {
        if !lanes.contains(&f.target.as_str()) {
            lanes.push(&f.target);
        }
    }
    let top = 8.0;
    let bottom = top + LANE * lanes.len() as f64;
    let height = bottom + 26.0;
    let mut s = open_svg(WIDTH, height, "fault timeline");
    for (i, lane) in lanes.iter().enumerate() {
        let y = top + LANE * i as f64;
        let fill = if i % 2 == 0 { "#f8fafc" } else { "#ffffff" };
        s.push_str(&format!(
            "<rect x=\"{LEFT}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{LANE}\" fill=\"{fill}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"lane\">{}</text>",
            WIDTH - LEFT - RIGHT,
            LEFT - 10.0,
            y + LANE / 2.0 + 4.0,
            text(&ellipsize(lane, 18))
        ));
    }
    s.push_str(&axis.grid(top, bottom));
    for (i, f) in run.faults.iter().enumerate() {
        let lane = lanes.iter().position(|l| *l == f.target).unwrap_or(0);
        let mid = top + LANE * lane as f64 + LANE / 2.0;
        // A label beside its mark may run up to the next mark in the same lane, no further.
        let next = run
            .faults
            .iter()
            .enumerate()
            .filter(|(j, g)| *j != i && g.target == f.target && (g.start_ms, *j) > (f.start_ms, i))
            .map(|(_, g)| axis.x(g.start_ms))
            .fold(WIDTH, f64::min);
        s.push_str(&timeline_mark(f, mid, axis, colours.of(&f.kind), next));
    }
    s.push_str(&format!(
        "<line x1=\"{LEFT}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\" stroke=\"#94a3b8\"/></svg>",
        WIDTH - RIGHT
    ));
    s
}

/// A bar or diamond for one fault, labelled inside the bar when the label fits there, else beside
/// it when it fits before `next_x` (the next mark in the lane); otherwise only the tooltip names it.
fn timeline_mark(f: &FaultEvent, mid: f64, axis: &TimeAxis, colour: &str, next_x: f64) -> String {
    let x0 = axis.x(f.start_ms);
    let tip = format!("<title>{}</title>", text(&fault_words(f)));
    let long = format!("{} · {}", f.id, f.outcome);
    let beside = |x: f64| {
        [long.clone(), f.id.clone()]
            .into_iter()
            .find(|l| fits(l, next_x - x + 6.0))
            .unwrap_or_default()
    };
    match f.end_ms {
        Some(end) => {
            let width = (axis.x(end) - x0).max(3.0);
            let (label, x, fill) = if fits(&long, width) {
                (long.clone(), x0 + 6.0, "#ffffff")
            } else if fits(&f.id, width) {
                (f.id.clone(), x0 + 6.0, "#ffffff")
            } else {
                (beside(x0 + width + 5.0), x0 + width + 5.0, "#1e293b")
            };
            format!(
                "<g class=\"fault-bar\"><rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"20\" rx=\"4\" fill=\"{colour}\">{tip}</rect>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" class=\"label\" fill=\"{fill}\">{}</text></g>",
                mid - 10.0,
                mid + 4.0,
                text(&label)
            )
        }
        None => format!(
            "<g class=\"fault-instant\"><path d=\"M{x0:.1} {:.1} l8 9 l-8 9 l-8 -9 z\" fill=\"{colour}\" stroke=\"#ffffff\">{tip}</path>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"label\" fill=\"#1e293b\">{}</text></g>",
            mid - 9.0,
            x0 + 11.0,
            mid + 4.0,
            text(&beside(x0 + 11.0))
        ),
    }
}

/// Committed records/s (left axis) and lag = produced − committed (right axis) over the run,
/// every fault window shaded and labelled, instant faults as dashed lines.
pub fn throughput_plot(run: &RunReport, axis: &TimeAxis, colours: &FaultColours) -> String {
    let (top, bottom, height) = (58.0, 258.0, 284.0);
    let mut s = open_svg(
        WIDTH,
        height,
        "committed records per second and lag over time",
    );
    s.push_str(&legend());
    let rate: Vec<(u64, f64)> = run
        .samples
        .windows(2)
        .filter(|w| w[1].t_ms > w[0].t_ms)
        .map(|w| {
            let dt = (w[1].t_ms - w[0].t_ms) as f64 / 1000.0;
            (
                w[1].t_ms,
                w[1].committed.saturating_sub(w[0].committed) as f64 / dt,
            )
        })
        .collect();
    let lag: Vec<(u64, f64)> = run
        .samples
        .iter()
        .map(|p| (p.t_ms, p.produced.saturating_sub(p.committed) as f64))
        .collect();
    let rate_axis = ValueAxis::covering(&rate);
    let lag_axis = ValueAxis::covering(&lag);

    s.push_str(&format!("<rect x=\"{LEFT}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#ffffff\" stroke=\"#cbd5e1\"/>", WIDTH - LEFT - RIGHT, bottom - top));
    s.push_str(&fault_shading(run, axis, colours, top, bottom));
    s.push_str(&axis.grid(top, bottom));
    for i in 0..=ValueAxis::TICKS {
        let y = bottom - (bottom - top) * i as f64 / ValueAxis::TICKS as f64;
        s.push_str(&format!(
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e2e8f0\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"tick\" fill=\"{RATE_COLOUR}\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" fill=\"{LAG_COLOUR}\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 8.0,
            y + 4.0,
            compact(rate_axis.tick(i)),
            WIDTH - RIGHT + 8.0,
            y + 4.0,
            compact(lag_axis.tick(i)),
        ));
    }
    if run.samples.is_empty() {
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"lane\">no progress samples were recorded</text>",
            (LEFT + WIDTH - RIGHT) / 2.0,
            (top + bottom) / 2.0
        ));
    }
    let y_of = |a: &ValueAxis, v: f64| bottom - (bottom - top) * (v / a.max).clamp(0.0, 1.0);
    s.push_str(&polyline(
        lag.iter().map(|&(t, v)| (axis.x(t), y_of(&lag_axis, v))),
        LAG_COLOUR,
        "lag",
        "6 4",
    ));
    s.push_str(&polyline(
        rate.iter().map(|&(t, v)| (axis.x(t), y_of(&rate_axis, v))),
        RATE_COLOUR,
        "rate",
        "",
    ));
    for st in &run.stalls {
        let (x0, x1) = (axis.x(st.from_ms), axis.x(st.to_ms));
        s.push_str(&format!(
            "<rect class=\"stall\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"6\" fill=\"{STALL_COLOUR}\"><title>commit stall {:.1}–{:.1} s: {} records waiting, no commit</title></rect>",
            bottom - 6.0,
            (x1 - x0).max(2.0),
            st.from_ms as f64 / 1000.0,
            st.to_ms as f64 / 1000.0,
            st.waiting,
        ));
    }
    s.push_str(&recovery_bars(run, axis, bottom - 14.0));
    s.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"axis-title\" fill=\"{RATE_COLOUR}\">records/s</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" class=\"axis-title\" fill=\"{LAG_COLOUR}\">lag</text></svg>",
        LEFT - 8.0,
        top - 8.0,
        WIDTH - RIGHT + 8.0,
        top - 8.0
    ));
    s
}

/// A bar per measured fault from its heal to its recovery at height `y`; one that never recovered
/// runs to the last sample in the stall colour.
fn recovery_bars(run: &RunReport, axis: &TimeAxis, y: f64) -> String {
    let mut s = String::new();
    for f in &run.faults {
        let Some(r) = f.time_to_recover else { continue };
        let healed = f.end_ms.unwrap_or(f.start_ms);
        let (colour, words) = match r {
            Recovery::Recovered { .. } => (RECOVERY_COLOUR, "recovered"),
            Recovery::NotRecovered { .. } => (STALL_COLOUR, "never recovered"),
        };
        let (x0, x1) = (axis.x(healed), axis.x(healed + r.at_least_ms()));
        s.push_str(&format!(
            "<rect class=\"recovery\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"6\" fill=\"{colour}\" fill-opacity=\"0.8\"><title>{} {words}: {} (healed at {:.1} s)</title></rect>",
            (x1 - x0).max(2.0),
            text(&f.id),
            text(&r.words()),
            healed as f64 / 1000.0,
        ));
    }
    s
}

fn legend() -> String {
    format!(
        "<g class=\"legend\"><line x1=\"{LEFT}\" y1=\"14\" x2=\"{:.1}\" y2=\"14\" stroke=\"{RATE_COLOUR}\" stroke-width=\"2.5\"/>\
         <text x=\"{:.1}\" y=\"18\">committed records/s (left axis)</text>\
         <line x1=\"{:.1}\" y1=\"14\" x2=\"{:.1}\" y2=\"14\" stroke=\"{LAG_COLOUR}\" stroke-width=\"2.5\" stroke-dasharray=\"6 4\"/>\
         <text x=\"{:.1}\" y=\"18\">lag = produced − committed, records (right axis)</text>\
         <rect x=\"{:.1}\" y=\"7\" width=\"24\" height=\"14\" fill=\"#475569\" fill-opacity=\"0.16\" stroke=\"#475569\" stroke-opacity=\"0.5\"/>\
         <text x=\"{:.1}\" y=\"18\">fault window</text>\
         <line x1=\"{:.1}\" y1=\"7\" x2=\"{:.1}\" y2=\"21\" stroke=\"#475569\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\"/>\
         <text x=\"{:.1}\" y=\"18\">instant fault</text></g>",
        LEFT + 28.0,
        LEFT + 34.0,
        LEFT + 250.0,
        LEFT + 278.0,
        LEFT + 284.0,
        LEFT + 600.0,
        LEFT + 630.0,
        LEFT + 740.0,
        LEFT + 740.0,
        LEFT + 748.0,
    )
}

/// Shaded windows and dashed instants, with labels in two rows above the plot so that neighbouring
/// faults do not overwrite each other. A label that fits in neither row is left out: the fault keeps
/// its shade and tooltip here and its labelled bar on the timeline above.
fn fault_shading(
    run: &RunReport,
    axis: &TimeAxis,
    colours: &FaultColours,
    top: f64,
    bottom: f64,
) -> String {
    let mut s = String::new();
    let mut rows: Vec<f64> = Vec::new();
    for f in &run.faults {
        let colour = colours.of(&f.kind);
        let x0 = axis.x(f.start_ms);
        let tip = format!("<title>{}</title>", text(&fault_words(f)));
        let label_width = f.id.chars().count() as f64 * CHAR_WIDTH;
        let row = rows
            .iter()
            .position(|end| *end + 6.0 < x0)
            .unwrap_or_else(|| {
                rows.push(f64::MIN);
                rows.len() - 1
            });
        let labelled = row < LABEL_ROWS;
        if labelled {
            rows[row] = x0 + label_width;
        }
        let label_y = top - 26.0 + 13.0 * row.min(LABEL_ROWS - 1) as f64;
        match f.end_ms {
            Some(end) => s.push_str(&format!(
                "<rect class=\"fault-shade\" x=\"{x0:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\" fill-opacity=\"0.16\">{tip}</rect>",
                (axis.x(end) - x0).max(2.0),
                bottom - top
            )),
            None => s.push_str(&format!(
                "<line class=\"fault-instant-line\" x1=\"{x0:.1}\" y1=\"{:.1}\" x2=\"{x0:.1}\" y2=\"{bottom:.1}\" stroke=\"{colour}\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\">{tip}</line>",
                label_y + 3.0
            )),
        }
        if labelled {
            s.push_str(&format!(
                "<line x1=\"{x0:.1}\" y1=\"{:.1}\" x2=\"{x0:.1}\" y2=\"{top:.1}\" stroke=\"{colour}\"/><text x=\"{:.1}\" y=\"{label_y:.1}\" class=\"label fault-label\" fill=\"{colour}\">{}</text>",
                label_y + 3.0,
                x0 + 3.0,
                text(&f.id)
            ));
        }
    }
    s
}

/// Rows of fault labels above the throughput plot.
const LABEL_ROWS: usize = 2;

/// A y axis from 0 to a round maximum with [`ValueAxis::TICKS`] steps.
struct ValueAxis {
    max: f64,
}

impl ValueAxis {
    const TICKS: usize = 4;

    fn covering(points: &[(u64, f64)]) -> ValueAxis {
        let peak = points.iter().map(|p| p.1).fold(0.0, f64::max);
        let step = nice_step(peak / Self::TICKS as f64, &[1.0, 2.0, 2.5, 5.0]);
        ValueAxis {
            max: step * Self::TICKS as f64,
        }
    }

    fn tick(&self, i: usize) -> f64 {
        self.max * i as f64 / Self::TICKS as f64
    }
}

/// A line through `points` (pixels) in `colour`, with CSS class `class` and SVG `dash` pattern
/// (empty for solid); nothing when there are no points.
pub fn polyline(
    points: impl Iterator<Item = (f64, f64)>,
    colour: &str,
    class: &str,
    dash: &str,
) -> String {
    let coords: Vec<String> = points.map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    if coords.is_empty() {
        return String::new();
    }
    format!(
        "<polyline class=\"{class}\" points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.2\" stroke-linejoin=\"round\" stroke-dasharray=\"{dash}\"/>",
        coords.join(" ")
    )
}

/// The opening tag of an inline chart `width` by `height` user units, scaled by the page, with
/// `label` as its accessible name.
pub fn open_svg(width: f64, height: f64, label: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height:.0}\" role=\"img\" aria-label=\"{}\">",
        attr(label)
    )
}

/// `latency#2 (latency) on proxy:kafka-1, 20.0–32.0 s: latency 200 ms ± 50 ms downstream`.
fn fault_words(f: &FaultEvent) -> String {
    let when = match f.end_ms {
        Some(end) => format!(
            "{:.1}–{:.1} s",
            f.start_ms as f64 / 1000.0,
            end as f64 / 1000.0
        ),
        None => format!("at {:.1} s", f.start_ms as f64 / 1000.0),
    };
    format!(
        "{} ({}) on {}, {}: {}",
        f.id, f.kind, f.target, when, f.outcome
    )
}

fn fits(label: &str, width: f64) -> bool {
    label.chars().count() as f64 * CHAR_WIDTH + 12.0 <= width
}

fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max - 1).chain(['…']).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample_suite;

    #[test]
    fn axis_ends_on_a_round_second_past_the_last_event() {
        let suite = sample_suite();
        let axis = TimeAxis::for_run(&suite.runs[1]);
        assert_eq!((axis.end_ms, axis.step_ms), (70_000, 10_000));
        assert!((axis.x(0) - LEFT).abs() < 1e-9 && (axis.x(70_000) - (WIDTH - RIGHT)).abs() < 1e-9);
    }

    /// One chart of the fixture's failing run (three targets, two windows, one kill).
    fn draw_failing(chart: fn(&RunReport, &TimeAxis, &FaultColours) -> String) -> String {
        let suite = sample_suite();
        let run = &suite.runs[1];
        chart(
            run,
            &TimeAxis::for_run(run),
            &FaultColours::for_suite(&suite),
        )
    }

    #[test]
    fn timeline_has_a_lane_per_target_and_a_bar_per_window() {
        let svg = draw_failing(fault_timeline);
        assert_eq!(svg.matches("class=\"fault-bar\"").count(), 2);
        assert_eq!(svg.matches("class=\"fault-instant\"").count(), 1);
        assert_eq!(svg.matches("class=\"lane\"").count(), 3);
        assert!(svg.contains(">latency#2</text>"));
        assert!(svg.contains("<title>latency#2 (latency) on proxy:kafka-1, 20.0–32.0 s: latency 200 ms ± 50 ms downstream</title>"));
    }

    #[test]
    fn plot_shades_each_window_and_draws_both_series() {
        let svg = draw_failing(throughput_plot);
        assert_eq!(svg.matches("class=\"fault-shade\"").count(), 2);
        assert_eq!(svg.matches("class=\"fault-instant-line\"").count(), 1);
        let points = |class: &str| {
            let start =
                svg.find(&format!("class=\"{class}\" points=\"")).unwrap() + class.len() + 17;
            svg[start..].split('"').next().unwrap().split(' ').count()
        };
        assert_eq!(points("rate"), 59);
        assert_eq!(points("lag"), 60);
    }

    #[test]
    fn a_label_beside_a_short_bar_stops_before_the_next_mark_in_its_lane() {
        let suite = sample_suite();
        let mut run = suite.runs[1].clone();
        let template = run
            .faults
            .iter()
            .find(|f| f.end_ms.is_some())
            .unwrap()
            .clone();
        let bar = |id: &str, start: u64, end: u64| FaultEvent {
            id: id.into(),
            start_ms: start,
            end_ms: Some(end),
            ..template.clone()
        };
        // A 0.3 s bar, then another 0.5 s later in the same lane: no room for "short#1" beside it.
        run.faults = vec![
            bar("short#1", 10_000, 10_300),
            bar("next#2", 10_800, 30_000),
            bar("far#3", 40_000, 40_300),
        ];
        let svg = fault_timeline(
            &run,
            &TimeAxis::for_run(&run),
            &FaultColours::for_suite(&suite),
        );
        assert!(
            !svg.contains(">short#1</text>"),
            "the label would run under the next bar"
        );
        assert!(
            svg.contains("<title>short#1 ("),
            "the bar keeps its tooltip"
        );
        assert!(
            svg.contains(">far#3"),
            "with room, a label beside a short bar stays"
        );
    }

    #[test]
    fn plot_labels_never_overlap_when_faults_crowd_together() {
        let suite = sample_suite();
        let mut run = suite.runs[1].clone();
        let template = run
            .faults
            .iter()
            .find(|f| f.end_ms.is_some())
            .unwrap()
            .clone();
        run.faults = (0..6)
            .map(|i| FaultEvent {
                id: format!("latency#{i}"),
                start_ms: 20_000 + i * 50,
                ..template.clone()
            })
            .collect();
        let svg = throughput_plot(
            &run,
            &TimeAxis::for_run(&run),
            &FaultColours::for_suite(&suite),
        );
        assert_eq!(
            svg.matches("class=\"fault-shade\"").count(),
            6,
            "every window keeps its shade"
        );
        let labels: Vec<(f64, f64)> = svg
            .match_indices("class=\"label fault-label\"")
            .map(|(i, _)| {
                let before = &svg[..i];
                let num = |attr: &str| -> f64 {
                    let at = before.rfind(attr).unwrap() + attr.len();
                    before[at..].split('"').next().unwrap().parse().unwrap()
                };
                (num(" x=\""), num(" y=\""))
            })
            .collect();
        assert_eq!(labels.len(), LABEL_ROWS, "one label per row: {labels:?}");
        assert!(
            labels.windows(2).all(|w| w[0].1 != w[1].1),
            "two labels share a row: {labels:?}"
        );
    }

    #[test]
    fn a_run_without_samples_or_faults_still_draws() {
        let mut run = sample_suite().runs.remove(0);
        run.samples.clear();
        run.faults.clear();
        let colours = FaultColours(BTreeMap::new());
        let plot = throughput_plot(&run, &TimeAxis::for_run(&run), &colours);
        assert!(plot.contains("no progress samples") && plot.ends_with("</svg>"));
        assert!(fault_timeline(&run, &TimeAxis::for_run(&run), &colours).ends_with("</svg>"));
    }
}
