//! Alerts pushed to a webhook in Alertmanager's JSON shape when the dead-letter ratio over the
//! recent window crosses the threshold; a resolve is sent when it falls back.

use std::collections::VecDeque;

use serde_json::json;

/// Tracks the DLQ ratio over the last `window` records and fires on crossings.
pub struct DlqAlert {
    url: Option<String>,
    threshold: f64,
    window: usize,
    recent: VecDeque<(u64, u64)>,
    firing: bool,
    labels: serde_json::Value,
    agent: ureq::Agent,
}

impl DlqAlert {
    pub fn new(url: Option<String>, threshold: f64, topic: &str, worker: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(2)))
            .build()
            .into();
        Self {
            url,
            threshold,
            window: 1000,
            recent: VecDeque::new(),
            firing: false,
            labels: json!({"alertname": "LedgerDlqRatioHigh", "severity": "warning", "topic": topic, "worker": worker}),
            agent,
        }
    }

    /// Records a committed batch's totals; pushes an alert when the ratio crosses the threshold.
    /// Returns the ratio over the window.
    pub fn observe(&mut self, records: u64, dlq: u64) -> f64 {
        self.recent.push_back((records, dlq));
        while self.recent.iter().map(|r| r.0).sum::<u64>() > self.window as u64
            && self.recent.len() > 1
        {
            self.recent.pop_front();
        }
        let (n, d) = self
            .recent
            .iter()
            .fold((0, 0), |a, r| (a.0 + r.0, a.1 + r.1));
        let ratio = if n == 0 { 0.0 } else { d as f64 / n as f64 };
        let over = ratio > self.threshold;
        if over != self.firing {
            self.firing = over;
            self.push(ratio, over);
        }
        ratio
    }

    fn push(&self, ratio: f64, firing: bool) {
        let Some(url) = &self.url else { return };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut alert = json!({
            "labels": self.labels,
            "annotations": {
                "summary": format!("dead-letter ratio {:.1}% over the last {} records (threshold {:.1}%)", ratio * 100.0, self.window, self.threshold * 100.0),
                "dlq_ratio": format!("{ratio:.4}"),
            },
            "startsAt": now,
        });
        if !firing {
            alert["endsAt"] = json!(now);
        }
        if let Err(e) = self.agent.post(url).send_json(json!([alert])) {
            tracing::warn!("alert webhook {url} failed: {e}");
        }
    }
}
