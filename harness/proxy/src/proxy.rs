//! `Proxy`: the listener, the registry of open connections, and the control surface the runner uses
//! (upstream, toxics, enable/disable, stats, shutdown).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

use crate::board::Board;
use crate::conn::{self, Link};
use crate::{ProxyError, Toxic, ToxicId};

/// How long to wait before retrying to re-bind the listen address after `set_enabled(true)` failed.
const REBIND_RETRY: Duration = Duration::from_millis(200);
/// How long `shutdown` waits for aborted connections to release their sockets.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// A TCP proxy in front of one broker or database that injects toxics into the traffic.
///
/// Dropping it stops it as [`Proxy::shutdown`] does, without waiting.
pub struct Proxy {
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// Counters since the proxy was bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProxyStats {
    /// Connections forwarded to the upstream (each is numbered for the seeded draws in this order).
    pub connections_accepted: u64,
    /// Connections closed unforwarded: the proxy was disabled, or no upstream was set within
    /// [`UPSTREAM_WAIT`].
    pub connections_refused: u64,
    /// Forwarded connections still open.
    pub connections_open: u64,
    /// Bytes written to the upstream.
    pub bytes_upstream: u64,
    /// Bytes written to clients.
    pub bytes_downstream: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    open: AtomicU64,
    pub bytes_upstream: AtomicU64,
    pub bytes_downstream: AtomicU64,
}

/// How long a client that arrives before the upstream is set waits for it.
pub const UPSTREAM_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

struct Shared {
    name: String,
    seed: u64,
    listen: SocketAddr,
    upstream: Mutex<Option<Arc<str>>>,
    board: Board,
    next_toxic: AtomicU64,
    enabled: watch::Sender<bool>,
    stop: watch::Sender<bool>,
    connections: Mutex<BTreeMap<u64, AbortHandle>>,
    counters: Counters,
}

impl Proxy {
    /// Binds `listen` (use "127.0.0.1:0" for any port) now; forwards to the upstream once one is set.
    /// Connections that arrive before an upstream is set wait for it (up to [`UPSTREAM_WAIT`]).
    pub async fn bind(name: &str, listen: &str, seed: u64) -> Result<Proxy, ProxyError> {
        let bind_error = |source| ProxyError::Bind {
            proxy: name.to_string(),
            addr: listen.to_string(),
            source,
        };
        let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let shared = Arc::new(Shared {
            name: name.to_string(),
            seed,
            listen: addr,
            upstream: Mutex::new(None),
            board: Board::default(),
            next_toxic: AtomicU64::new(1),
            enabled: watch::Sender::new(true),
            stop: watch::Sender::new(false),
            connections: Mutex::new(BTreeMap::new()),
            counters: Counters::default(),
        });
        let acceptor = tokio::spawn(accept_loop(shared.clone(), listener));
        tracing::info!(proxy = name, %addr, seed, "fault proxy listening");
        Ok(Proxy {
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The bound address (with the real port when bound to port 0).
    pub fn listen_addr(&self) -> SocketAddr {
        self.shared.listen
    }

    /// The name given at bind time, used in logs and errors.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Sets the upstream ("host:port") for new connections; open ones keep theirs.
    pub fn set_upstream(&self, upstream: &str) {
        *lock(&self.shared.upstream) = Some(upstream.into());
    }

    /// Adds a toxic; it applies to new AND already-open connections (Kafka keeps connections for a
    /// long time). Call [`Toxic::validate`] first: out-of-range values are clamped here, not refused.
    pub fn add_toxic(&self, toxic: Toxic) -> ToxicId {
        if let Err(err) = toxic.validate() {
            tracing::warn!(proxy = %self.shared.name, "{err}; adding it with the value clamped");
        }
        let id = ToxicId(self.shared.next_toxic.fetch_add(1, Ordering::Relaxed));
        tracing::info!(proxy = %self.shared.name, %id, "add toxic: {}", toxic.describe());
        self.shared.board.update(|toxics| toxics.push((id, toxic)));
        id
    }

    /// Removes a toxic; open connections flow normally again, and data it held back is released.
    pub fn remove_toxic(&self, id: ToxicId) {
        tracing::info!(proxy = %self.shared.name, %id, "remove toxic");
        self.shared
            .board
            .update(|toxics| toxics.retain(|(t, _)| *t != id));
    }

    /// Removes every toxic.
    pub fn clear_toxics(&self) {
        tracing::info!(proxy = %self.shared.name, "clear toxics");
        self.shared.board.update(Vec::clear);
    }

    /// Toxiproxy's `enabled=false`: closes every open connection and refuses new ones (the listening
    /// socket is closed, so clients see "connection refused") until enabled again.
    pub fn set_enabled(&self, enabled: bool) {
        tracing::info!(proxy = %self.shared.name, enabled, "set enabled");
        self.shared.enabled.send_replace(enabled);
        if !enabled {
            self.shared.close_all();
        }
    }

    /// Connection and byte counters.
    pub fn stats(&self) -> ProxyStats {
        let c = &self.shared.counters;
        ProxyStats {
            connections_accepted: c.accepted.load(Ordering::Relaxed),
            connections_refused: c.refused.load(Ordering::Relaxed),
            connections_open: c.open.load(Ordering::Relaxed),
            bytes_upstream: c.bytes_upstream.load(Ordering::Relaxed),
            bytes_downstream: c.bytes_downstream.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting and closes every connection.
    pub async fn shutdown(mut self) {
        self.shared.stop();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.await;
        }
        // Aborted connection tasks drop their sockets when next polled: wait for that, briefly.
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        while self.shared.counters.open.load(Ordering::Relaxed) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop();
    }
}

impl Shared {
    fn stop(&self) {
        self.stop.send_replace(true);
        self.close_all();
    }

    fn close_all(&self) {
        for (_, connection) in std::mem::take(&mut *lock(&self.connections)) {
            connection.abort();
        }
    }

    /// Forwards `client` to the upstream. With no upstream set yet (the service behind it is still
    /// starting) the client waits up to [`UPSTREAM_WAIT`] for one; a disabled proxy closes it at once.
    fn admit(self: &Arc<Shared>, client: TcpStream) {
        let upstream = lock(&self.upstream).clone();
        if upstream.is_none() && *self.enabled.borrow() {
            let shared = self.clone();
            tokio::spawn(async move {
                let deadline = tokio::time::Instant::now() + UPSTREAM_WAIT;
                while lock(&shared.upstream).is_none()
                    && tokio::time::Instant::now() < deadline
                    && !*shared.stop.borrow()
                {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                if lock(&shared.upstream).is_some() {
                    shared.admit(client);
                } else {
                    shared.counters.refused.fetch_add(1, Ordering::Relaxed);
                }
            });
            return;
        }
        let Some(upstream) = upstream.filter(|_| *self.enabled.borrow()) else {
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let index = self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        self.counters.open.fetch_add(1, Ordering::Relaxed);
        let shared = self.clone();
        // Hold the registry while spawning so the task cannot deregister before it is registered.
        let mut connections = lock(&self.connections);
        let task = tokio::spawn(async move {
            let _open = OpenGuard {
                shared: &shared,
                index,
            };
            let link = Link {
                proxy: &shared.name,
                seed: shared.seed,
                index,
                board: &shared.board,
                counters: &shared.counters,
            };
            conn::serve(link, client, &upstream).await;
        });
        connections.insert(index, task.abort_handle());
        drop(connections);
        // A `set_enabled(false)` between the check above and the registration has missed this one.
        if !*self.enabled.borrow() {
            task.abort();
        }
    }
}

/// Deregisters a connection however its task ends, aborted included.
struct OpenGuard<'a> {
    shared: &'a Shared,
    index: u64,
}

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        lock(&self.shared.connections).remove(&self.index);
        self.shared.counters.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts until stopped; while disabled, holds no listening socket at all.
async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let mut listener = Some(listener);
    let mut enabled = shared.enabled.subscribe();
    let mut stop = shared.stop.subscribe();
    while !*stop.borrow_and_update() {
        let want = *enabled.borrow_and_update();
        if !want {
            listener = None;
        } else if listener.is_none() {
            match TcpListener::bind(shared.listen).await {
                Ok(bound) => listener = Some(bound),
                Err(err) => {
                    tracing::warn!(proxy = %shared.name, "cannot re-bind {}: {err}; retrying", shared.listen);
                    tokio::select! {
                        _ = tokio::time::sleep(REBIND_RETRY) => {}
                        _ = stop.changed() => {}
                        _ = enabled.changed() => {}
                    }
                    continue;
                }
            }
        }
        tokio::select! {
            _ = stop.changed() => {}
            _ = enabled.changed() => {}
            accepted = accept(listener.as_ref()) => match accepted {
                Ok(client) => shared.admit(client),
                Err(err) => {
                    // Typically out of file descriptors: back off instead of spinning.
                    tracing::warn!(proxy = %shared.name, "accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    shared.close_all();
}

async fn accept(listener: Option<&TcpListener>) -> std::io::Result<TcpStream> {
    match listener {
        Some(listener) => listener.accept().await.map(|(client, _)| client),
        None => std::future::pending().await,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
