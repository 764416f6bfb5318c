//! Free TCP ports on 127.0.0.1. Ports are picked up front and pinned so a restarted broker or
//! Postgres comes back on the same address.

use std::net::TcpListener;

use crate::error::{IoContext, Result};

/// Returns `n` distinct ports that were free on 127.0.0.1 when asked. The listeners are held until
/// all are picked so the kernel does not hand out the same port twice.
pub fn free_ports(n: usize) -> Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").at("127.0.0.1:0"))
        .collect::<Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()).at("127.0.0.1:0"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_bindable() {
        let ports = free_ports(5).unwrap();
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 5);
        for p in ports {
            TcpListener::bind(("127.0.0.1", p)).expect("port should be free again");
        }
    }
}
