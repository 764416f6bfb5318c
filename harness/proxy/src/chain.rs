//! The toxic chain of one direction of one connection: each chunk passes through the active toxics
//! in the order they were added, and comes out as timed pieces the pump writes when due.
//!
//! Everything here is pure given the arrival instants and the seeded draws, so schedules are tested
//! without sockets or clocks. A toxic's state (its draws, a data limit's count, a timer) lives as long
//! as the toxic stays on the proxy, whatever else is added or removed around it.

use std::time::{Duration, Instant};

use faultline_rng::SeededRng;

use crate::pg_wire::CommitWatch;
use crate::rng::{self, Concern};
use crate::{Direction, Toxic, ToxicId, ToxicKind};

/// Bandwidth-limited data leaves in pieces of at most this much transmission time, so a large chunk
/// on a slow link trickles instead of arriving in one late burst.
const BANDWIDTH_TICK: Duration = Duration::from_millis(100);

/// What the pump does with a piece once it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Out {
    /// Write these bytes.
    Data(Vec<u8>),
    /// Pass on the source's end of stream (half-close the destination).
    Eof,
    /// Close the whole connection (a data limit was reached).
    Close,
}

/// A piece and the instant it may be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Timed {
    pub at: Instant,
    pub out: Out,
}

/// A connection-wide end a toxic's timer calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Close,
    Reset,
}

/// Which stream of which connection a chain belongs to: keys the draws.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope {
    pub seed: u64,
    pub conn: u64,
    pub stream: Direction,
}

struct Stage {
    id: ToxicId,
    state: State,
}

enum State {
    Latency {
        latency_ms: u64,
        jitter_ms: u64,
        rng: SeededRng,
        last: Option<Instant>,
    },
    Bandwidth {
        bytes_per_sec: u64,
        busy_until: Option<Instant>,
    },
    SlowClose {
        delay: Duration,
    },
    Timeout {
        close_at: Option<Instant>,
    },
    ResetPeer {
        at: Instant,
    },
    Slicer {
        average: usize,
        variation: usize,
        delay: Duration,
        rng: SeededRng,
        last: Option<Instant>,
    },
    LimitData {
        remaining: u64,
    },
    CommitInDoubt {
        watch: CommitWatch,
        cut: bool,
    },
}

/// The active toxics of one stream, in the order added.
#[derive(Default)]
pub(crate) struct Chain {
    stages: Vec<Stage>,
}

impl Chain {
    /// Brings the chain in line with the proxy's toxic list: keeps the state of toxics still there,
    /// starts new ones at `now` (their timers count from here), drops removed ones. Returns whether
    /// any active toxic was removed, so the caller can release what it was holding back.
    pub fn sync(&mut self, toxics: &[(ToxicId, Toxic)], scope: Scope, now: Instant) -> bool {
        let mut old = std::mem::take(&mut self.stages);
        for (id, toxic) in toxics {
            if !toxic.direction.covers(scope.stream)
                || !rng::applies(scope.seed, scope.conn, *id, toxic.probability)
            {
                continue;
            }
            let state = match old.iter().position(|s| s.id == *id) {
                Some(i) => old.swap_remove(i).state,
                None => State::new(&toxic.kind, scope, *id, now),
            };
            self.stages.push(Stage { id: *id, state });
        }
        !old.is_empty()
    }

    /// No toxic applies: the pump may take its plain copy loop.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// A timeout toxic holds the stream: nothing is read or written.
    pub fn holds(&self) -> bool {
        self.stages
            .iter()
            .any(|s| matches!(s.state, State::Timeout { .. }))
    }

    /// The earliest timer that ends the connection, if any.
    pub fn deadline(&self) -> Option<(Instant, End)> {
        let timers = self.stages.iter().filter_map(|s| match s.state {
            State::Timeout { close_at: Some(at) } => Some((at, End::Close)),
            State::ResetPeer { at } => Some((at, End::Reset)),
            _ => None,
        });
        timers.min_by_key(|(at, _)| *at)
    }

    /// Passes pieces through every stage in order.
    pub fn apply(&mut self, mut pieces: Vec<Timed>) -> Vec<Timed> {
        for stage in &mut self.stages {
            pieces = stage.state.apply(pieces);
        }
        pieces
    }
}

impl State {
    fn new(kind: &ToxicKind, scope: Scope, id: ToxicId, now: Instant) -> State {
        let draws = || rng::draws(scope.seed, scope.conn, id, Concern::Stream(scope.stream));
        match *kind {
            ToxicKind::Latency {
                latency_ms,
                jitter_ms,
            } => State::Latency {
                latency_ms,
                jitter_ms,
                rng: draws(),
                last: None,
            },
            ToxicKind::Bandwidth { rate_kbps } => State::Bandwidth {
                bytes_per_sec: rate_kbps.saturating_mul(1024).max(1),
                busy_until: None,
            },
            ToxicKind::SlowClose { delay_ms } => State::SlowClose {
                delay: Duration::from_millis(delay_ms),
            },
            ToxicKind::Timeout { timeout_ms: 0 } => State::Timeout { close_at: None },
            ToxicKind::Timeout { timeout_ms } => State::Timeout {
                close_at: Some(now + Duration::from_millis(timeout_ms)),
            },
            ToxicKind::ResetPeer { timeout_ms } => State::ResetPeer {
                at: now + Duration::from_millis(timeout_ms),
            },
            ToxicKind::Slicer {
                average_size,
                size_variation,
                delay_us,
            } => State::Slicer {
                average: average_size,
                variation: size_variation,
                delay: Duration::from_micros(delay_us),
                rng: draws(),
                last: None,
            },
            ToxicKind::LimitData { bytes } => State::LimitData { remaining: bytes },
            ToxicKind::CommitInDoubt => State::CommitInDoubt {
                watch: CommitWatch::default(),
                cut: false,
            },
        }
    }

    fn apply(&mut self, pieces: Vec<Timed>) -> Vec<Timed> {
        let mut out = Vec::with_capacity(pieces.len());
        for Timed { at, out: piece } in pieces {
            match (&mut *self, piece) {
                (
                    State::Latency {
                        latency_ms,
                        jitter_ms,
                        rng,
                        last,
                    },
                    piece,
                ) => {
                    // End of stream travels like a packet; a close order only keeps its place.
                    let delay = match piece {
                        Out::Close => Duration::ZERO,
                        _ => rng::latency(rng, *latency_ms, *jitter_ms),
                    };
                    out.push(Timed {
                        at: after(at + delay, last),
                        out: piece,
                    });
                }
                (
                    State::Bandwidth {
                        bytes_per_sec,
                        busy_until,
                    },
                    Out::Data(data),
                ) => {
                    let tick = (*bytes_per_sec as u128 * BANDWIDTH_TICK.as_nanos() / 1_000_000_000)
                        .max(1) as usize;
                    for part in data.chunks(tick) {
                        let start = busy_until.map_or(at, |busy| busy.max(at));
                        let done = start + transmit_time(part.len(), *bytes_per_sec);
                        *busy_until = Some(done);
                        out.push(Timed {
                            at: done,
                            out: Out::Data(part.to_vec()),
                        });
                    }
                }
                (
                    State::Bandwidth {
                        busy_until: last, ..
                    },
                    piece,
                ) => out.push(Timed {
                    at: after(at, last),
                    out: piece,
                }),
                (State::SlowClose { delay }, Out::Eof) => out.push(Timed {
                    at: at + *delay,
                    out: Out::Eof,
                }),
                (
                    State::Slicer {
                        average,
                        variation,
                        delay,
                        rng,
                        last,
                    },
                    Out::Data(data),
                ) => {
                    let mut at = after(at, last);
                    let mut rest = &data[..];
                    while !rest.is_empty() {
                        let (slice, tail) = rest
                            .split_at(rng::slice_len(rng, *average, *variation).min(rest.len()));
                        out.push(Timed {
                            at,
                            out: Out::Data(slice.to_vec()),
                        });
                        rest = tail;
                        if !rest.is_empty() {
                            at += *delay;
                        }
                    }
                    *last = Some(at);
                }
                (State::Slicer { last, .. }, piece) => out.push(Timed {
                    at: after(at, last),
                    out: piece,
                }),
                (State::LimitData { remaining: 0 }, _) => {}
                (State::LimitData { remaining }, Out::Data(mut data)) => {
                    let keep = data
                        .len()
                        .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                    data.truncate(keep);
                    *remaining -= keep as u64;
                    out.push(Timed {
                        at,
                        out: Out::Data(data),
                    });
                    if *remaining == 0 {
                        out.push(Timed {
                            at,
                            out: Out::Close,
                        });
                    }
                }
                (State::CommitInDoubt { cut: true, .. }, _) => {}
                (State::CommitInDoubt { watch, cut }, Out::Data(data)) => {
                    let seen = watch.feed(&data);
                    if !seen.pass.is_empty() {
                        out.push(Timed {
                            at,
                            out: Out::Data(seen.pass),
                        });
                    }
                    if seen.commit {
                        *cut = true;
                        out.push(Timed {
                            at,
                            out: Out::Close,
                        });
                    }
                }
                (_, piece) => out.push(Timed { at, out: piece }),
            }
        }
        out
    }
}

/// `at`, but never before the stage's previous output, so bytes keep their order; records it.
fn after(at: Instant, last: &mut Option<Instant>) -> Instant {
    let at = last.map_or(at, |prev| prev.max(at));
    *last = Some(at);
    at
}

fn transmit_time(bytes: usize, bytes_per_sec: u64) -> Duration {
    Duration::from_nanos((bytes as u128 * 1_000_000_000 / bytes_per_sec as u128) as u64)
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
