//! `ProxyError`: every error names the proxy (or the toxic) and what to change.

use std::io;

/// What can go wrong when starting a proxy or checking a toxic.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The listen address could not be bound (in use, not local, or not an address).
    #[error("proxy {proxy}: cannot bind {addr}: {source}; pick another port or use 127.0.0.1:0")]
    Bind {
        proxy: String,
        addr: String,
        #[source]
        source: io::Error,
    },
    /// A toxic field is out of range; `field` is the name used in scenario files.
    #[error("toxic {toxic}: `{field}` {problem}")]
    InvalidToxic {
        /// The toxic's `type`, e.g. `latency`.
        toxic: &'static str,
        field: &'static str,
        problem: String,
    },
}
