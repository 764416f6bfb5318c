//! `report.html`: one self-contained page for a suite (inline CSS and SVG, no scripts, no external
//! assets, so it opens offline and as a CI artifact). The verdict first, then a table of runs, then
//! per run its repro command, checks, fault timeline (with each fault's time to recover),
//! throughput/lag plot with its commit stalls and recoveries, and failing rows.
//! [`page`] is the shell of that page, shared with the model comparison's report.

use serde_json::Value;

use crate::escape::text;
use crate::investigate::{ShrinkLog, ShrinkStep};
use crate::model::{CheckResult, CheckStatus, RunReport, SuiteReport, Verdict};
use crate::recovery::{slowest, Recovery};
use crate::stall::{longest, MIN_STALL_MS};
use crate::svg::{fault_timeline, open_svg, polyline, throughput_plot, FaultColours, TimeAxis};
use crate::units::{count, duration};

/// How many failing rows a check's table shows.
const ROWS_SHOWN: usize = 50;

const STYLE: &str = r#"
:root { --pass: #15803d; --fail: #b91c1c; --warn: #b45309; --error: #86198f; --interrupted: #c2410c; --skip: #64748b;
  --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #f1f5f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0; display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
h3 code { text-transform: none; font-size: 13px; }
h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 22px 0 8px; }
a { color: #1d4ed8; }
code, pre, td.mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12.5px; }
.pass { --v: var(--pass); } .fail { --v: var(--fail); } .warn { --v: var(--warn); }
.error { --v: var(--error); } .interrupted { --v: var(--interrupted); } .skip { --v: var(--skip); }
header.suite { display: flex; align-items: center; gap: 28px; background: #fff; border: 1px solid var(--line);
  border-left: 12px solid var(--v); border-radius: 10px; padding: 20px 26px; }
.verdict { font-size: 44px; font-weight: 800; letter-spacing: .05em; color: #fff; background: var(--v);
  border-radius: 10px; padding: 4px 26px; text-transform: uppercase; }
.meta { color: var(--muted); }
.meta b { color: var(--ink); font-weight: 600; }
.tally { font-size: 16px; margin-top: 4px; }
.tally .n { font-weight: 700; color: var(--v); }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 11.5px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); background: #f8fafc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 24px; margin-top: 22px; }
.card.run { border-top: 6px solid var(--v); }
.badge { display: inline-block; min-width: 48px; text-align: center; padding: 1px 9px; border-radius: 999px;
  font-size: 11.5px; font-weight: 700; letter-spacing: .04em; color: #fff; background: var(--v); text-transform: uppercase; }
h2 .badge { font-size: 14px; padding: 2px 12px; }
pre.repro { background: #0f172a; color: #e2e8f0; padding: 10px 14px; border-radius: 6px; margin: 0;
  white-space: pre-wrap; word-break: break-all; user-select: all; cursor: text; }
pre.repro::before { content: "$ "; color: #64748b; user-select: none; }
.errorbox { border-left: 4px solid var(--error); background: #fdf4ff; padding: 8px 12px; margin-top: 12px; white-space: pre-wrap; }
.chart { border: 1px solid var(--line); border-radius: 6px; padding: 6px 4px 2px; }
svg { display: block; width: 100%; height: auto; font-family: system-ui, "DejaVu Sans", "Liberation Sans", sans-serif; }
/* Colours of SVG text are attributes (CSS would override them); the default is inherited. */
svg { fill: #334155; }
svg text { font-size: 12px; }
svg text.tick, svg text.label, svg text.axis-title { font-size: 11px; }
svg text.label, svg text.axis-title { font-weight: 700; }
svg text.lane { fill: #0f172a; }
.rows { overflow-x: auto; max-height: 520px; overflow-y: auto; border: 1px solid var(--line); }
.rows td { white-space: nowrap; }
.note { color: var(--muted); margin: 6px 0 0; }
table.faults { margin-top: 8px; font-size: 13px; }
table.faults td, table.faults th { padding: 3px 10px; }
.empty { color: var(--muted); font-style: italic; }
ul.stalls { margin: 4px 0 0; padding-left: 22px; }
ul.stalls b { color: #b91c1c; }
ul.recoveries b { color: #15803d; }
ul.recoveries b.never { color: #b91c1c; }
"#;

/// The suite as one HTML page.
pub fn report_html(suite: &SuiteReport) -> String {
    let verdict = suite.verdict();
    let colours = FaultColours::for_suite(suite);
    let mut body = header(suite);
    body.push_str(&investigations(suite));
    body.push_str(&runs_table(suite));
    for (i, run) in suite.runs.iter().enumerate() {
        body.push_str(&run_section(i, run, &colours));
    }
    page(
        &format!(
            "faultline {} · {}",
            verdict.as_str().to_uppercase(),
            suite.target
        ),
        STYLE,
        &body,
    )
}

/// A self-contained HTML page: `title` (escaped here), an inline `style` sheet and `body` (markup,
/// already escaped) inside `<main>`. The shell every faultline page shares, model reports included.
pub fn page(title: &str, style: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{style}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        text(title),
    )
}

fn header(suite: &SuiteReport) -> String {
    let v = suite.verdict().as_str();
    let tally: Vec<String> = Verdict::ALL
        .into_iter()
        // Interrupted runs only appear in the tally of a suite that a signal cut short.
        .filter(|w| *w != Verdict::Interrupted || suite.count(*w) > 0)
        .map(|w| {
            format!(
                "<span class=\"{0}\"><span class=\"n\">{1}</span> {2}</span>",
                w.as_str(),
                suite.count(w),
                past_tense(w)
            )
        })
        .collect();
    format!(
        "<header class=\"suite {v}\">\n<div class=\"verdict\">{v}</div>\n<div>\n<h1>faultline report</h1>\n\
         <div class=\"meta\"><b>{}</b> · started {} · took {}</div>\n\
         <div class=\"tally\">{} run{}: {}</div>\n</div>\n</header>\n",
        text(&suite.target),
        text(&suite.started_at),
        duration(suite.duration_ms),
        suite.runs.len(),
        if suite.runs.len() == 1 { "" } else { "s" },
        tally.join(", "),
    )
}

/// What the suite found across runs: reproduction rates (`--repeat`), a hunt, a shrink.
fn investigations(suite: &SuiteReport) -> String {
    let mut s = String::new();
    if !suite.reproduction.is_empty() {
        s.push_str(
            "<section class=\"card\">\n<h3 style=\"margin-top:0\">Reproduction</h3>\n<table>\n\
             <tr><th>scenario</th><th class=\"num\">seed</th><th class=\"num\">runs</th>\
             <th class=\"num\">failed</th><th>rate</th><th>label</th><th>anomaly classes (runs)</th></tr>\n",
        );
        for r in &suite.reproduction {
            let classes: Vec<String> = r
                .classes
                .iter()
                .map(|(c, n)| format!("<code>{}</code> ({n})", text(c)))
                .collect();
            s.push_str(&format!(
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td></tr>\n",
                text(&r.scenario),
                r.seed,
                r.runs,
                r.failed,
                rate_bar(r.rate),
                badge(r.label.as_str()),
                if classes.is_empty() { "–".into() } else { classes.join(", ") },
            ));
        }
        s.push_str("</table>\n</section>\n");
    }
    if let Some(h) = &suite.hunt {
        let first = match h.first_failing {
            Some(seed) => format!("the first failing seed is <b>{seed}</b>"),
            None => "no seed failed".into(),
        };
        s.push_str(&format!(
            "<section class=\"card\">\n<h3 style=\"margin-top:0\">Hunt: {} seeds {}..{}</h3>\n\
             <p>{first}; {} seed(s) run, {} at a time.</p>\n<table>\n\
             <tr><th class=\"num\">seed</th><th>verdict</th><th>anomaly classes</th><th>bundle</th></tr>\n",
            text(&h.scenario),
            h.seeds[0],
            h.seeds[1],
            h.tried.len(),
            h.parallel,
        ));
        for t in &h.tried {
            s.push_str(&format!(
                "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                t.seed,
                badge(t.verdict.as_str()),
                text(&t.classes.join(", ")),
                t.bundle.as_deref().map(link).unwrap_or_else(|| "–".into()),
            ));
        }
        s.push_str("</table>\n</section>\n");
    }
    if let Some(log) = &suite.shrink {
        s.push_str(&shrink_section(log));
    }
    s
}

/// A reproduction rate as a bar and a percentage.
fn rate_bar(rate: f64) -> String {
    let pct = (rate * 100.0).round();
    format!(
        "<span style=\"display:inline-block;width:80px;height:10px;background:var(--line);vertical-align:middle\">\
         <span style=\"display:block;height:10px;width:{pct}%;background:var(--fail)\"></span></span> {pct}%"
    )
}

/// A relative link to a file or directory named in a report.
fn link(path: &str) -> String {
    format!("<a href=\"{0}\"><code>{0}</code></a>", text(path))
}

fn shrink_section(log: &ShrinkLog) -> String {
    let (b, a) = (log.before, log.after);
    let mut s = format!(
        "<section class=\"card\">\n<h3 style=\"margin-top:0\">Shrink: {}</h3>\n\
         <p>From {}: faults {} → <b>{}</b>, events {} → <b>{}</b>, workers {} → <b>{}</b>, record-fault groups {} → <b>{}</b>; \
         a candidate counts as failing with {} of {} runs failing with one of {}. Budget {}.</p>\n",
        log.stopped.as_str(),
        link(&log.bundle),
        b.faults,
        a.faults,
        count(b.events),
        count(a.events),
        b.workers,
        a.workers,
        b.record_fault_groups,
        a.record_fault_groups,
        log.min_failures,
        log.runs_per_candidate,
        text(&log.classes.join(", ")),
        duration(log.budget_s * 1000),
    );
    if let Some(file) = &log.scenario_file {
        s.push_str(&format!("<p>Smallest failing case: {}", link(file)));
        if let Some(bundle) = &log.shrunk_bundle {
            s.push_str(&format!(" · its failing run: {}", link(bundle)));
        }
        s.push_str("</p>\n");
    }
    s.push_str(&shrink_plot(&log.steps, log.before.events));
    s.push_str(
        "<table>\n<tr><th class=\"num\">step</th><th>change</th><th class=\"num\">reproduced</th>\
         <th>kept</th><th class=\"num\">faults</th><th class=\"num\">events</th><th class=\"num\">time</th></tr>\n",
    );
    for (i, st) in log.steps.iter().enumerate() {
        s.push_str(&format!(
            "<tr><td class=\"num\">{i}</td><td>{}</td><td class=\"num\">{}/{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            text(&st.change),
            st.reproduced,
            st.runs,
            if st.accepted {
                badge("kept")
            } else {
                "–".into()
            },
            st.size.faults,
            count(st.size.events),
            duration(st.duration_ms),
        ));
    }
    s.push_str("</table>\n</section>\n");
    s
}

/// The smallest case's faults and events (as a share of the original's) after each step.
fn shrink_plot(steps: &[ShrinkStep], events_before: u64) -> String {
    let kept: Vec<&ShrinkStep> = steps.iter().filter(|s| s.accepted).collect();
    if kept.len() < 2 {
        return String::new();
    }
    let (w, h, pad) = (640.0, 160.0, 24.0);
    let max_faults = kept.iter().map(|s| s.size.faults).max().unwrap_or(1).max(1) as f64;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (kept.len() - 1) as f64;
    let y = |share: f64| h - pad - (h - 2.0 * pad) * share;
    let faults = kept
        .iter()
        .enumerate()
        .map(|(i, s)| (x(i), y(f64::from(s.size.faults) / max_faults)));
    let events = kept
        .iter()
        .enumerate()
        .map(|(i, s)| (x(i), y(s.size.events as f64 / events_before.max(1) as f64)));
    format!(
        "{}<text x=\"{pad}\" y=\"14\" font-size=\"12\">faults (solid) and events (dashed) of the smallest case, per kept step</text>{}{}</svg>\n",
        open_svg(w, h, "shrink progress"),
        polyline(faults, "#b91c1c", "faults", ""),
        polyline(events, "#1d4ed8", "events", "6 4"),
    )
}

fn past_tense(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "passed",
        Verdict::Fail => "failed",
        Verdict::Error => "errored",
        Verdict::Interrupted => "interrupted",
    }
}

fn badge(word: &str) -> String {
    format!("<span class=\"badge {word}\">{word}</span>")
}

fn runs_table(suite: &SuiteReport) -> String {
    let mut s = String::from(
        "<section class=\"card\">\n<h3 style=\"margin-top:0\">Runs</h3>\n<table>\n<tr><th>scenario</th><th class=\"num\">seed</th><th>backend</th>\
         <th>defect</th><th>verdict</th><th class=\"num\">duration</th><th class=\"num\">produced</th>\
         <th class=\"num\">committed</th><th class=\"num\">dlq</th><th class=\"num\">longest stall</th><th class=\"num\">slowest recovery</th></tr>\n",
    );
    for (i, run) in suite.runs.iter().enumerate() {
        s.push_str(&format!(
            "<tr><td><a href=\"#run-{i}\">{}</a></td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            text(&run.scenario),
            run.seed,
            text(&run.backend),
            run.defect.as_deref().map(|d| format!("<code>{}</code>", text(d))).unwrap_or_else(|| "–".into()),
            badge(run.verdict.as_str()),
            duration(run.stats.duration_ms),
            count(run.stats.produced),
            count(run.stats.committed),
            count(run.stats.dlq),
            longest(&run.stalls).map(|st| duration(st.duration_ms())).unwrap_or_else(|| "–".into()),
            slowest(&run.faults).map(|(_, r)| text(&r.words())).unwrap_or_else(|| "–".into()),
        ));
    }
    if suite.runs.is_empty() {
        s.push_str("<tr><td colspan=\"11\" class=\"empty\">no runs</td></tr>\n");
    }
    s.push_str("</table>\n</section>\n");
    s
}

fn run_section(i: usize, run: &RunReport, colours: &FaultColours) -> String {
    let v = run.verdict.as_str();
    let mut s = format!(
        "<section class=\"card run {v}\" id=\"run-{i}\">\n<h2>{} {}</h2>\n<div class=\"meta\">seed <b>{}</b> · backend <b>{}</b>{} · \
         <code>{}</code> · took {}</div>\n",
        badge(v),
        text(&run.scenario),
        run.seed,
        text(&run.backend),
        run.defect.as_deref().map(|d| format!(" · defect <b>{}</b>", text(d))).unwrap_or_default(),
        text(&run.scenario_file),
        duration(run.stats.duration_ms),
    );
    if let Some(error) = &run.error {
        let why = match run.verdict {
            Verdict::Interrupted => "the run was cut short:",
            _ => "the run could not finish:",
        };
        s.push_str(&format!(
            "<div class=\"errorbox\"><b>{why}</b> {}</div>\n",
            text(error)
        ));
    }
    s.push_str(&format!(
        "<h3>Reproduce</h3>\n<pre class=\"repro\">{}</pre>\n",
        text(&run.repro)
    ));
    if let Some(bundle) = &run.bundle {
        s.push_str(&format!(
            "<p class=\"note\">failure bundle: <code>{}</code></p>\n",
            text(bundle)
        ));
    }
    s.push_str(&checks_table(&run.checks));
    let axis = TimeAxis::for_run(run);
    s.push_str("<h3>Fault timeline</h3>\n");
    if run.faults.is_empty() {
        s.push_str("<p class=\"empty\">no faults were injected</p>\n");
    } else {
        s.push_str(&format!(
            "<div class=\"chart\">{}</div>\n",
            fault_timeline(run, &axis, colours)
        ));
        s.push_str(&faults_table(run));
    }
    s.push_str(&format!(
        "<h3>Throughput and lag</h3>\n<div class=\"chart\">{}</div>\n",
        throughput_plot(run, &axis, colours)
    ));
    s.push_str(&stalls_list(run));
    s.push_str(&recoveries_list(run));
    for check in run
        .checks
        .iter()
        .filter(|c| matches!(c.status, CheckStatus::Fail | CheckStatus::Warn))
    {
        s.push_str(&failing_rows(check));
    }
    s.push_str("</section>\n");
    s
}

/// The commit stalls under the plot, each with its records waiting and the faults around it.
fn stalls_list(run: &RunReport) -> String {
    let min = duration(MIN_STALL_MS);
    if run.stalls.is_empty() {
        if run.samples.is_empty() {
            return String::new();
        }
        return format!("<p class=\"note\">No commit stall: whenever records waited, a commit landed within {min}.</p>\n");
    }
    let mut s = format!(
        "<p class=\"note\">Commit stalls (red along the time axis): records waited and no commit landed for {min} or more.</p>\n<ul class=\"stalls\">\n"
    );
    for st in &run.stalls {
        let faults = if st.faults.is_empty() {
            "no fault around it".to_string()
        } else {
            format!(
                "around {}",
                st.faults
                    .iter()
                    .map(|f| format!("<code>{}</code>", text(f)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        s.push_str(&format!(
            "<li><b>{:.1}–{:.1} s</b> ({}{}), {} records waiting; {faults}</li>\n",
            st.from_ms as f64 / 1000.0,
            st.to_ms as f64 / 1000.0,
            duration(st.duration_ms()),
            if st.ended {
                ""
            } else {
                ", still stalled when the run ended"
            },
            count(st.waiting),
        ));
    }
    s.push_str("</ul>\n");
    s
}

/// Each injected fault's time to recover under the plot, next to the stalls.
fn recoveries_list(run: &RunReport) -> String {
    let measured: Vec<_> = run
        .faults
        .iter()
        .filter_map(|f| f.time_to_recover.map(|r| (f, r)))
        .collect();
    if measured.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "<p class=\"note\">Time to recover (green along the time axis; red where it never came): from each fault's heal until the oldest record waiting to be committed was back within its bar (at least 2 s, or the worst wait of the 5 fault-free seconds before the fault).</p>\n<ul class=\"stalls recoveries\">\n",
    );
    for (f, r) in measured {
        let class = match r {
            Recovery::Recovered { .. } => "",
            Recovery::NotRecovered { .. } => " class=\"never\"",
        };
        s.push_str(&format!(
            "<li><code>{}</code> healed at {:.1} s: <b{class}>{}</b></li>\n",
            text(&f.id),
            f.end_ms.unwrap_or(f.start_ms) as f64 / 1000.0,
            text(&r.words()),
        ));
    }
    s.push_str("</ul>\n");
    s
}

fn checks_table(checks: &[CheckResult]) -> String {
    let mut s = String::from("<h3>Checks</h3>\n<table>\n<tr><th style=\"width:80px\">status</th><th style=\"width:170px\">check</th><th>detail</th><th class=\"num\">rows</th></tr>\n");
    for c in checks {
        let rows = if c.failing_total > 0 {
            count(c.failing_total)
        } else {
            String::new()
        };
        s.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"num\">{rows}</td></tr>\n",
            badge(c.status.as_str()),
            text(&c.name),
            text(&c.detail),
        ));
    }
    if checks.is_empty() {
        s.push_str("<tr><td colspan=\"4\" class=\"empty\">no checks ran</td></tr>\n");
    }
    s.push_str("</table>\n");
    s
}

fn faults_table(run: &RunReport) -> String {
    let mut s = String::from(
        "<table class=\"faults\">\n<tr><th>fault</th><th>target</th><th class=\"num\">from</th><th class=\"num\">to</th><th class=\"num\">time to recover</th><th>detail</th></tr>\n",
    );
    for f in &run.faults {
        let to = f
            .end_ms
            .map(|end| format!("{:.1} s", end as f64 / 1000.0))
            .unwrap_or_else(|| "instant".into());
        let recovered = f
            .time_to_recover
            .map(|r| text(&r.words()))
            .unwrap_or_else(|| "–".into());
        s.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{:.1} s</td><td class=\"num\">{to}</td><td class=\"num\">{recovered}</td><td>{}</td></tr>\n",
            text(&f.id),
            text(&f.target),
            f.start_ms as f64 / 1000.0,
            text(&f.outcome.to_string()),
        ));
    }
    s.push_str("</table>\n");
    s
}

/// The first rows a check flagged, one column per key any of them has (in order of appearance).
fn failing_rows(check: &CheckResult) -> String {
    if check.failing_rows.is_empty() {
        return String::new();
    }
    let shown = &check.failing_rows[..check.failing_rows.len().min(ROWS_SHOWN)];
    let mut columns: Vec<&str> = Vec::new();
    for key in shown.iter().flat_map(|r| r.keys()) {
        if !columns.contains(&key.as_str()) {
            columns.push(key);
        }
    }
    let total = check.failing_total.max(check.failing_rows.len() as u64);
    let kept = if (check.failing_rows.len() as u64) < total {
        format!("; the run kept the first {}", check.failing_rows.len())
    } else {
        String::new()
    };
    let mut s = format!(
        "<h3>Failing rows of <code>{}</code> {}</h3>\n<p class=\"note\">showing {} of {}{kept}</p>\n<div class=\"rows\"><table>\n<tr>",
        text(&check.name),
        badge(check.status.as_str()),
        shown.len(),
        count(total)
    );
    for c in &columns {
        let numeric = shown
            .iter()
            .all(|r| r.get(*c).is_none_or(|v| v.is_number() || v.is_null()));
        s.push_str(&format!(
            "<th{}>{}</th>",
            if numeric { " class=\"num\"" } else { "" },
            text(c)
        ));
    }
    s.push_str("</tr>\n");
    for row in shown {
        s.push_str("<tr>");
        for c in &columns {
            let (class, cell) = match row.get(*c) {
                None | Some(Value::Null) => ("", String::new()),
                Some(Value::String(v)) => ("mono", v.clone()),
                Some(v @ Value::Number(_)) => ("num", v.to_string()),
                Some(v) => ("mono", v.to_string()),
            };
            s.push_str(&format!("<td class=\"{class}\">{}</td>", text(&cell)));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table></div>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample_suite;

    #[test]
    fn page_is_self_contained() {
        let html = report_html(&sample_suite());
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
        for external in [
            "<script", "<link", "src=", "http://", "https://", "@import", "url(",
        ] {
            let hits: Vec<_> = html
                .match_indices(external)
                .map(|(i, _)| &html[i.saturating_sub(40)..(i + 60).min(html.len())])
                .collect();
            // The SVG namespace is an identifier, not a fetch.
            assert!(
                hits.iter()
                    .all(|h| h.contains("xmlns=\"http://www.w3.org/2000/svg\"")),
                "{external}: {hits:?}"
            );
        }
    }

    #[test]
    fn every_fault_window_has_a_bar_and_a_shade_and_every_run_its_repro() {
        let suite = sample_suite();
        let html = report_html(&suite);
        let windows = suite
            .runs
            .iter()
            .flat_map(|r| &r.faults)
            .filter(|f| f.end_ms.is_some())
            .count();
        let instants = suite
            .runs
            .iter()
            .flat_map(|r| &r.faults)
            .filter(|f| f.end_ms.is_none())
            .count();
        assert_eq!((windows, instants), (3, 1));
        assert_eq!(html.matches("class=\"fault-bar\"").count(), windows);
        assert_eq!(html.matches("class=\"fault-shade\"").count(), windows);
        assert_eq!(html.matches("class=\"fault-instant\"").count(), instants);
        for run in &suite.runs {
            assert!(
                html.contains(&format!("<pre class=\"repro\">{}</pre>", run.repro)),
                "{}",
                run.repro
            );
        }
        assert_eq!(html.matches("<section class=\"card run ").count(), 2);
        assert!(html.contains("<div class=\"verdict\">fail</div>"));
    }

    #[test]
    fn an_interrupted_run_shows_its_badge_tally_and_signal() {
        let plain = report_html(&sample_suite());
        assert!(
            !plain.contains(" interrupted</span>"),
            "no interrupted tally"
        );
        let mut suite = sample_suite();
        suite.runs[1].verdict = Verdict::Interrupted;
        suite.runs[1].error = Some("interrupted by SIGINT".into());
        let html = report_html(&suite);
        assert!(html.contains("<span class=\"badge interrupted\">interrupted</span>"));
        assert!(html.contains("<span class=\"n\">1</span> interrupted</span>"));
        assert!(html.contains("<b>the run was cut short:</b> interrupted by SIGINT"));
        assert!(html.contains("<div class=\"verdict\">interrupted</div>"));
    }

    #[test]
    fn every_commit_stall_has_a_bar_and_a_line_naming_its_faults() {
        let suite = sample_suite();
        let html = report_html(&suite);
        let stalls: Vec<_> = suite.runs.iter().flat_map(|r| &r.stalls).collect();
        // The fixture's network cut (15-25 s) and its broker restart stop every commit.
        assert!(stalls.len() >= 2, "{stalls:?}");
        assert_eq!(html.matches("class=\"stall\"").count(), stalls.len());
        assert_eq!(html.matches("<ul class=\"stalls\">").count(), 2);
        let cut = stalls
            .iter()
            .find(|st| st.faults.contains(&"partition#1".to_string()))
            .expect("a stall around the cut");
        assert!(html.contains(&format!(
            "<b>{:.1}–{:.1} s</b>",
            cut.from_ms as f64 / 1000.0,
            cut.to_ms as f64 / 1000.0
        )));
        assert!(html.contains("around <code>partition#1</code>"));
        let mut quiet = sample_suite();
        quiet.runs[0].stalls.clear();
        assert!(report_html(&quiet).contains("No commit stall"));
    }

    #[test]
    fn every_measured_fault_has_its_time_to_recover_next_to_the_stalls() {
        let mut suite = sample_suite();
        suite.runs[1].faults[1].time_to_recover =
            Some(Recovery::NotRecovered { watched_ms: 21_500 });
        let html = report_html(&suite);
        let measured = suite
            .runs
            .iter()
            .flat_map(|r| &r.faults)
            .filter(|f| f.time_to_recover.is_some())
            .count();
        assert_eq!(measured, 4);
        assert_eq!(html.matches("<rect class=\"recovery\"").count(), measured);
        assert_eq!(html.matches("<ul class=\"stalls recoveries\">").count(), 2);
        assert!(html.contains("<li><code>partition#1</code> healed at 25.0 s: <b>9.0 s</b></li>"));
        assert!(html.contains(
            "<li><code>latency#2</code> healed at 32.0 s: <b class=\"never\">not recovered \
             (watched 21.5 s after heal)</b></li>"
        ));
        // The faults table and the runs table carry it too.
        assert!(
            html.contains("<td class=\"num\">6.0 s</td><td>stop broker 1, restart after 7 s</td>")
        );
        assert!(html.contains("<th class=\"num\">slowest recovery</th>"));
        assert!(
            html.contains("<td class=\"num\">not recovered (watched 21.5 s after heal)</td></tr>")
        );
    }

    #[test]
    fn failing_rows_table_has_the_union_of_keys_and_at_most_fifty_rows() {
        let mut suite = sample_suite();
        let check = &mut suite.runs[1].checks[0];
        let first = check.failing_rows[0].clone();
        check.failing_rows = (0..80).map(|_| first.clone()).collect();
        check.failing_rows[3].insert("note".into(), "only here".into());
        check.failing_total = 80;
        let html = report_html(&suite);
        let table = &html[html.find("Failing rows of <code>no_loss</code>").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        assert!(table.contains("showing 50 of 80"));
        assert_eq!(table.matches("<tr>").count(), 51);
        assert!(table.contains("<th>note</th>") && table.contains("<th class=\"num\">offset</th>"));
    }

    #[test]
    fn malicious_text_is_escaped_everywhere() {
        let mut suite = sample_suite();
        let evil = "<script>alert('x')</script> & \"quoted\"";
        suite.runs[1].checks[1].detail = evil.into();
        suite.runs[1].scenario = evil.into();
        suite.runs[1].faults[1].outcome = crate::model::FaultOutcome::Injected {
            detail: evil.into(),
        };
        suite.runs[1].faults[1].target = evil.into();
        suite.runs[1].checks[0].failing_rows[0].insert(evil.into(), evil.into());
        let html = report_html(&suite);
        assert!(!html.contains("<script"), "unescaped script tag");
        assert!(html
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"));
    }
}
