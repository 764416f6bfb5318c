//! Network faults as the fault proxy applies them ("toxics", with Toxiproxy's names and units):
//! their types, validation and one-line description. The proxy (`faultline-proxy`) runs them; they
//! live here because scenario files and fault plans carry them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::fault::{param, EntryError, FaultEntry};

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

/// A toxic field out of range; `field` is the name used in scenario files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("toxic {toxic}: `{field}` {problem}")]
pub struct InvalidToxic {
    /// The toxic's `type`, e.g. `latency`.
    pub toxic: &'static str,
    pub field: &'static str,
    pub problem: String,
}

/// Declares `ToxicKind` from one line per toxic: its `type` name, then its required parameters and,
/// after `;`, its optional ones (default 0). A parameter is named after the `FaultEntry` field it is
/// written in, whose type it takes: toxic parameters are declared in `FaultEntry` only.
macro_rules! toxic_kinds {
    ($( $(#[doc = $doc:literal])+ $kind:ident = $name:literal $({ $($required:ident),* ; $($optional:ident),* })?; )+) => {
        /// The toxics, with Toxiproxy's names and units.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
        pub enum ToxicKind {
            $( $(#[doc = $doc])+ $kind $({
                $( $required: param::$required, )*
                $( #[serde(default)] $optional: param::$optional, )*
            })?, )+
        }

        impl ToxicKind {
            /// The `type` tag, as written in scenario files.
            pub fn name(&self) -> &'static str {
                match self {
                    $( ToxicKind::$kind { .. } => $name, )+
                }
            }

            /// The parameters of the toxic named `name`, required ones first.
            pub(crate) fn params_of(name: &str) -> Option<&'static [&'static str]> {
                match name {
                    $( $name => Some(&[$($(stringify!($required),)* $(stringify!($optional),)*)?]), )+
                    _ => None,
                }
            }

            /// The toxic named `name` with its parameters taken from `entry`; `None` when no toxic
            /// has that name.
            pub(crate) fn from_entry(
                name: &str,
                entry: &FaultEntry,
            ) -> Option<Result<ToxicKind, EntryError>> {
                let required =
                    |field: &'static str| (field, format!("is required for kind `{}`", entry.kind));
                let kind = match name {
                    $( $name => ToxicKind::$kind $({
                        $( $required: match entry.$required {
                            Some(value) => value,
                            None => return Some(Err(required(stringify!($required)))),
                        }, )*
                        $( $optional: entry.$optional.unwrap_or_default(), )*
                    })?, )+
                    _ => return None,
                };
                Some(Ok(kind))
            }
        }
    };
}

toxic_kinds! {
    /// Delays every chunk by `latency_ms`, plus or minus up to `jitter_ms`; byte order is kept.
    Latency = "latency" { latency_ms; jitter_ms };
    /// Limits the stream to `rate_kbps` KiB per second.
    Bandwidth = "bandwidth" { rate_kbps; };
    /// Delays passing on a close (FIN) by `delay_ms`.
    SlowClose = "slow_close" { delay_ms; };
    /// Stops all data (nothing is read or written) and closes the connection after `timeout_ms`;
    /// 0 never closes, so the stream is a blackhole until the toxic is removed.
    Timeout = "timeout" { timeout_ms; };
    /// Resets the connection (TCP RST to both peers) `timeout_ms` after the toxic starts on it.
    ResetPeer = "reset_peer" { timeout_ms; };
    /// Cuts each chunk into slices of `average_size` ± `size_variation` bytes, `delay_us` apart.
    Slicer = "slicer" { average_size; size_variation, delay_us };
    /// Passes exactly `bytes` bytes in the direction, then closes the connection.
    LimitData = "limit_data" { bytes; };
    /// PostgreSQL only, downstream: when the server acknowledges a `COMMIT`, closes the connection
    /// instead of passing the acknowledgement on. The transaction is durable; the client never
    /// learns it (an in-doubt commit, as when a database or its network dies right after a commit).
    CommitInDoubt = "commit_in_doubt";
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
    pub fn validate(&self) -> Result<(), InvalidToxic> {
        let toxic = self.kind.name();
        let invalid = |field, problem: String| {
            Err(InvalidToxic {
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
