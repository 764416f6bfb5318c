//! Toxic types as they appear in scenario files, their validation and their one-line description.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ProxyError;

/// One network fault on a proxy. Scenario files spell it as
/// `{ kind = { type = "latency", latency_ms = 200 }, direction = "downstream", probability = 0.5 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toxic {
    /// What the toxic does, tagged by `type`.
    pub kind: ToxicKind,
    /// Which byte stream it affects; both unless told.
    #[serde(default)]
    pub direction: Direction,
    /// Chance, drawn once per connection, that the toxic applies to it (Toxiproxy's `toxicity`).
    #[serde(default = "one")]
    pub probability: f64,
}

fn one() -> f64 {
    1.0
}

/// The fault families, with Toxiproxy's names and units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToxicKind {
    /// Delays every chunk by `latency_ms`, plus or minus up to `jitter_ms`; byte order is kept.
    Latency {
        latency_ms: u64,
        #[serde(default)]
        jitter_ms: u64,
    },
    /// Limits the stream to `rate_kbps` KiB per second.
    Bandwidth { rate_kbps: u64 },
    /// Delays passing on a close (FIN) by `delay_ms`.
    SlowClose { delay_ms: u64 },
    /// Stops all data (nothing is read or written) and closes the connection after `timeout_ms`;
    /// 0 never closes, so the stream is a blackhole until the toxic is removed.
    Timeout { timeout_ms: u64 },
    /// Resets the connection (TCP RST to both peers) `timeout_ms` after the toxic starts on it.
    ResetPeer { timeout_ms: u64 },
    /// Cuts each chunk into slices of `average_size` ± `size_variation` bytes, `delay_us` apart.
    Slicer {
        average_size: usize,
        #[serde(default)]
        size_variation: usize,
        #[serde(default)]
        delay_us: u64,
    },
    /// Passes exactly `bytes` bytes in the direction, then closes the connection.
    LimitData { bytes: u64 },
    /// PostgreSQL only, downstream: when the server acknowledges a `COMMIT`, closes the connection
    /// instead of passing the acknowledgement on. The transaction is durable; the client never
    /// learns it (an in-doubt commit, as when a database or its network dies right after a commit).
    CommitInDoubt,
}

/// Which of a connection's two byte streams a toxic affects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Client to upstream (requests to the broker or database).
    Upstream,
    /// Upstream to client (responses).
    Downstream,
    /// Both streams.
    #[default]
    Both,
}

impl Direction {
    /// Whether a toxic with this direction affects the `stream` (`Upstream` or `Downstream`).
    pub fn covers(self, stream: Direction) -> bool {
        self == Direction::Both || self == stream
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Upstream => "upstream",
            Direction::Downstream => "downstream",
            Direction::Both => "both",
        })
    }
}

/// Identifies a toxic on one proxy; ids count up from 1 in the order toxics are added, and also key
/// the toxic's random draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ToxicId(pub u64);

impl fmt::Display for ToxicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "toxic#{}", self.0)
    }
}

impl ToxicKind {
    /// The `type` tag, as written in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            ToxicKind::Latency { .. } => "latency",
            ToxicKind::Bandwidth { .. } => "bandwidth",
            ToxicKind::SlowClose { .. } => "slow_close",
            ToxicKind::Timeout { .. } => "timeout",
            ToxicKind::ResetPeer { .. } => "reset_peer",
            ToxicKind::Slicer { .. } => "slicer",
            ToxicKind::LimitData { .. } => "limit_data",
            ToxicKind::CommitInDoubt => "commit_in_doubt",
        }
    }
}

impl Toxic {
    /// A toxic on both directions with probability 1.
    pub fn new(kind: ToxicKind) -> Toxic {
        Toxic {
            kind,
            direction: Direction::Both,
            probability: 1.0,
        }
    }

    /// The same toxic on `direction` only.
    pub fn on(self, direction: Direction) -> Toxic {
        Toxic { direction, ..self }
    }

    /// The same toxic with per-connection `probability`.
    pub fn with_probability(self, probability: f64) -> Toxic {
        Toxic {
            probability,
            ..self
        }
    }

    /// One line for logs and reports, e.g. `latency 200 ms ± 50 ms, downstream, p=1`.
    pub fn describe(&self) -> String {
        let what = match &self.kind {
            ToxicKind::Latency {
                latency_ms,
                jitter_ms: 0,
            } => format!("latency {latency_ms} ms"),
            ToxicKind::Latency {
                latency_ms,
                jitter_ms,
            } => format!("latency {latency_ms} ms ± {jitter_ms} ms"),
            ToxicKind::Bandwidth { rate_kbps } => format!("bandwidth {rate_kbps} KiB/s"),
            ToxicKind::SlowClose { delay_ms } => format!("slow_close {delay_ms} ms"),
            ToxicKind::Timeout { timeout_ms: 0 } => "timeout: blackhole, never closes".to_string(),
            ToxicKind::Timeout { timeout_ms } => {
                format!("timeout: blackhole, close after {timeout_ms} ms")
            }
            ToxicKind::ResetPeer { timeout_ms } => format!("reset_peer after {timeout_ms} ms"),
            ToxicKind::Slicer {
                average_size,
                size_variation,
                delay_us,
            } => {
                format!("slicer {average_size} B ± {size_variation} B, {delay_us} µs apart")
            }
            ToxicKind::LimitData { bytes } => format!("limit_data {bytes} B then close"),
            ToxicKind::CommitInDoubt => {
                "commit_in_doubt: close instead of acknowledging a COMMIT".to_string()
            }
        };
        format!("{what}, {}, p={}", self.direction, self.probability)
    }

    /// Checks every field's range; the error names the field as scenario files spell it.
    pub fn validate(&self) -> Result<(), ProxyError> {
        let toxic = self.kind.name();
        let invalid = |field, problem: String| {
            Err(ProxyError::InvalidToxic {
                toxic,
                field,
                problem,
            })
        };
        if !(0.0..=1.0).contains(&self.probability) {
            return invalid(
                "probability",
                format!("must be within 0..=1, got {}", self.probability),
            );
        }
        match self.kind {
            ToxicKind::Bandwidth { rate_kbps: 0 } => invalid(
                "rate_kbps",
                "must be > 0; to stop all data use a timeout toxic".into(),
            ),
            ToxicKind::Slicer {
                average_size: 0, ..
            } => invalid("average_size", "must be > 0".into()),
            ToxicKind::Slicer {
                average_size,
                size_variation,
                ..
            } if size_variation >= average_size => invalid(
                "size_variation",
                format!("must be smaller than average_size ({average_size}), got {size_variation}"),
            ),
            ToxicKind::LimitData { bytes: 0 } => invalid(
                "bytes",
                "must be > 0; to cut connections at once use reset_peer".into(),
            ),
            ToxicKind::CommitInDoubt if self.direction != Direction::Downstream => invalid(
                "direction",
                format!(
                    "must be downstream (it reads the server's answers), got {}",
                    self.direction
                ),
            ),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Toxic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
#[path = "toxic_tests.rs"]
mod tests;
