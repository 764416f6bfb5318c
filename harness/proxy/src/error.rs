//! `ProxyError`: every error names the proxy and what to change.

use std::io;

/// What can go wrong when starting a proxy.
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
}
