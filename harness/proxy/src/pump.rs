//! One direction of one connection: read from one socket, pass through the toxic chain, write to the
//! other.
//!
//! With no toxic applying, the pump is a plain copy loop through one buffer; its only extra work is a
//! registered wake-up that fires when the proxy's toxic list changes. With toxics, each chunk becomes
//! timed pieces (see [`crate::chain`]) in a bounded queue that is written as pieces fall due. Reads,
//! writes, timers and toxic changes are awaited together, so a toxic added to an idle or stalled
//! connection still starts its timers at once.
//!
//! When a toxic is removed, everything queued is released at once: removing toxics heals the stream.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::futures::Notified;

use crate::board::Board;
use crate::chain::{Chain, End, Out, Scope, Timed};

/// Read size. In `benches/proxy_overhead.rs`, 64 KiB left the copy loop well behind a blocking
/// thread-per-direction copy; at 256 KiB they are level, and 1 MiB gained nothing measurable.
const BUF_SIZE: usize = 256 * 1024;
/// At most this many bytes wait in a pump's queue; beyond it the pump stops reading, so a slow
/// toxic pushes back on the sender as a slow network would.
const MAX_QUEUED: usize = 4 * 1024 * 1024;

/// How a pump stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The source ended and the end was passed on; the other direction may go on.
    Finished,
    /// Close the whole connection.
    Close,
    /// Reset the whole connection.
    Reset,
}

/// Everything a pump needs from its proxy and connection.
pub(crate) struct Pump<'a> {
    pub board: &'a Board,
    pub scope: Scope,
    /// The proxy's byte counter for this direction.
    pub bytes: &'a AtomicU64,
}

struct State<'a, R, W> {
    pump: Pump<'a>,
    src: R,
    dst: W,
    buf: Vec<u8>,
    change: Pin<Box<Notified<'a>>>,
    chain: Chain,
    queue: Queue,
    src_done: bool,
}

pub(crate) async fn run<R, W>(pump: Pump<'_>, src: R, dst: W) -> Ending
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let change = pump.board.next_change();
    let mut state = State {
        pump,
        src,
        dst,
        buf: vec![0; BUF_SIZE],
        change,
        chain: Chain::default(),
        queue: Queue::default(),
        src_done: false,
    };
    state.refresh();
    loop {
        let step = if state.chain.is_empty() && state.queue.items.is_empty() && !state.src_done {
            state.copy().await
        } else {
            state.toxic_step().await
        };
        match step {
            Ok(None) => {}
            Ok(Some(ending)) => return ending,
            Err(err) => return ending_for(&err),
        }
    }
}

impl<R, W> State<'_, R, W>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    /// Rereads the toxic list after a change; releases the queue if a toxic went away.
    fn refresh(&mut self) {
        self.change = self.pump.board.next_change();
        let now = Instant::now();
        if self
            .chain
            .sync(&self.pump.board.toxics(), self.pump.scope, now)
        {
            self.queue.release(now);
        }
    }

    /// Counts a write; a write of zero bytes means the destination is gone.
    fn wrote(&self, written: io::Result<usize>) -> io::Result<usize> {
        let written = written?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        self.pump.bytes.fetch_add(written as u64, Ordering::Relaxed);
        Ok(written)
    }

    /// The fast path: copy until the source ends or a toxic starts applying.
    async fn copy(&mut self) -> io::Result<Option<Ending>> {
        loop {
            let n = tokio::select! {
                biased;
                _ = self.change.as_mut() => {
                    self.refresh();
                    if self.chain.is_empty() { continue } else { return Ok(None) }
                }
                read = self.src.read(&mut self.buf) => read?,
            };
            if n == 0 {
                self.dst.shutdown().await?;
                return Ok(Some(Ending::Finished));
            }
            let mut done = 0;
            while done < n {
                tokio::select! {
                    biased;
                    _ = self.change.as_mut() => {
                        self.refresh();
                        if !self.chain.is_empty() {
                            // Read before the toxic started, so it goes out as it is.
                            let rest = Out::Data(self.buf[done..n].to_vec());
                            self.queue.push(vec![Timed { at: Instant::now(), out: rest }]);
                            return Ok(None);
                        }
                    }
                    written = self.dst.write(&self.buf[done..n]) => done += self.wrote(written)?,
                }
            }
        }
    }

    /// One wait of the toxic path: whichever comes first of a toxic change, a timer, a due write or a
    /// read.
    async fn toxic_step(&mut self) -> io::Result<Option<Ending>> {
        let now = Instant::now();
        let deadline = self.chain.deadline();
        if let Some((at, end)) = deadline.filter(|(at, _)| *at <= now) {
            tracing::debug!(?end, ?at, "toxic timer ends the connection");
            return Ok(Some(match end {
                End::Close => Ending::Close,
                End::Reset => Ending::Reset,
            }));
        }
        let holds = self.chain.holds();
        if !holds {
            while let Some(piece) = self.queue.pop_due_marker(now) {
                match piece {
                    Out::Eof => self.dst.shutdown().await?,
                    Out::Close => return Ok(Some(Ending::Close)),
                    Out::Data(_) => unreachable!("pop_due_marker returns only markers"),
                }
            }
            if self.src_done && self.queue.items.is_empty() && self.queue.eof_sent {
                return Ok(Some(Ending::Finished));
            }
        }
        let front = if holds { None } else { self.queue.front_at() };
        let write_due = front.is_some_and(|at| at <= now);
        let wake = [deadline.map(|(at, _)| at), front.filter(|_| !write_due)]
            .into_iter()
            .flatten()
            .min();
        let can_read = !holds && !self.src_done && self.queue.bytes < MAX_QUEUED;
        tokio::select! {
            biased;
            _ = self.change.as_mut() => self.refresh(),
            _ = sleep_until(wake), if wake.is_some() => {}
            written = self.dst.write(self.queue.front_bytes()), if write_due => {
                let written = self.wrote(written)?;
                self.queue.consume(written);
            }
            read = self.src.read(&mut self.buf), if can_read => {
                let n = read?;
                let out = if n == 0 { Out::Eof } else { Out::Data(self.buf[..n].to_vec()) };
                self.src_done = n == 0;
                let pieces = self.chain.apply(vec![Timed { at: Instant::now(), out }]);
                self.queue.push(pieces);
            }
        }
        Ok(None)
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at.into()).await;
    }
}

/// A failed read or write ends the connection; a reset from one peer is passed on to the other.
fn ending_for(err: &io::Error) -> Ending {
    tracing::debug!(%err, "connection ends on an I/O error");
    match err.kind() {
        io::ErrorKind::ConnectionReset => Ending::Reset,
        _ => Ending::Close,
    }
}

/// Pieces waiting to be written, in order; the front may be partly written.
#[derive(Default)]
struct Queue {
    items: VecDeque<Timed>,
    /// Bytes of the front piece already written.
    offset: usize,
    /// Data bytes waiting.
    bytes: usize,
    eof_sent: bool,
}

impl Queue {
    fn push(&mut self, pieces: Vec<Timed>) {
        for mut piece in pieces {
            if let Some(back) = self.items.back() {
                piece.at = piece.at.max(back.at);
            }
            match &piece.out {
                Out::Data(data) if data.is_empty() => continue,
                Out::Data(data) => self.bytes += data.len(),
                _ => {}
            }
            self.items.push_back(piece);
        }
    }

    /// Everything waiting may go now.
    fn release(&mut self, now: Instant) {
        for piece in &mut self.items {
            piece.at = piece.at.min(now);
        }
    }

    fn front_at(&self) -> Option<Instant> {
        self.items.front().map(|p| p.at)
    }

    /// The front piece if it is a due end-of-stream or close marker.
    fn pop_due_marker(&mut self, now: Instant) -> Option<Out> {
        let front = self.items.front()?;
        if front.at > now || matches!(front.out, Out::Data(_)) {
            return None;
        }
        let out = self.items.pop_front()?.out;
        self.eof_sent |= out == Out::Eof;
        Some(out)
    }

    /// The unwritten bytes of the front piece (empty if it is not data).
    fn front_bytes(&self) -> &[u8] {
        match self.items.front() {
            Some(Timed {
                out: Out::Data(data),
                ..
            }) => &data[self.offset..],
            _ => &[],
        }
    }

    fn consume(&mut self, written: usize) {
        self.offset += written;
        self.bytes -= written;
        if self.front_bytes().is_empty() {
            self.items.pop_front();
            self.offset = 0;
        }
    }
}
