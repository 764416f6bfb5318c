//! The controls: removing and clearing toxics, probability, seeded replay, enable/disable, shutdown.

use std::time::Duration;

use faultline_proxy::{Direction, Proxy, Toxic, ToxicKind};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::*;

fn blackhole() -> Toxic {
    Toxic::new(ToxicKind::Timeout { timeout_ms: 0 })
}

#[tokio::test]
async fn remove_toxic_heals_an_open_connection() {
    let (proxy, mut stream) = open_echo("heal").await;
    let latency = proxy.add_toxic(Toxic::new(ToxicKind::Latency {
        latency_ms: 50,
        jitter_ms: 0,
    }));
    let hole = proxy.add_toxic(blackhole());
    stream.write_all(b"held").await.unwrap();
    assert!(silent_for(&mut stream, Duration::from_millis(300)).await);
    proxy.remove_toxic(hole);
    assert_eq!(read_n(&mut stream, 4).await, b"held");
    proxy.remove_toxic(latency);
    for i in 0..20u8 {
        assert_eq!(
            round_trip(&mut stream, &[i; 64]).await.0,
            [i; 64],
            "normal flow after healing"
        );
    }
}

#[tokio::test]
async fn clear_toxics_heals_every_toxic() {
    let (proxy, mut stream) = open_echo("clear").await;
    proxy.add_toxic(blackhole().on(Direction::Upstream));
    proxy.add_toxic(blackhole().on(Direction::Downstream));
    stream.write_all(b"queued").await.unwrap();
    assert!(silent_for(&mut stream, Duration::from_millis(200)).await);
    assert_eq!(
        proxy.stats().bytes_upstream,
        4,
        "only the warm-up passed: the upstream blackhole holds the request"
    );
    proxy.clear_toxics();
    assert_eq!(read_n(&mut stream, 6).await, b"queued");
}

/// Bytes each of `n` fresh connections gets back for a 5-byte message under `toxic`.
async fn replies_per_connection(seed: u64, toxic: Toxic, n: usize) -> Vec<usize> {
    let proxy = proxy_to("draws", echo_server().await, seed).await;
    proxy.add_toxic(toxic);
    let mut lengths = Vec::new();
    for _ in 0..n {
        let mut stream = connect(&proxy).await;
        stream.write_all(b"hello").await.unwrap();
        stream.shutdown().await.unwrap();
        lengths.push(read_all(&mut stream).await.0.len());
    }
    lengths
}

fn limit_one_byte(probability: f64) -> Toxic {
    Toxic::new(ToxicKind::LimitData { bytes: 1 })
        .on(Direction::Downstream)
        .with_probability(probability)
}

#[tokio::test]
async fn probability_zero_never_applies_and_one_always_does() {
    assert_eq!(
        replies_per_connection(3, limit_one_byte(0.0), 8).await,
        vec![5; 8]
    );
    assert_eq!(
        replies_per_connection(3, limit_one_byte(1.0), 8).await,
        vec![1; 8]
    );
}

#[tokio::test]
async fn same_seed_picks_the_same_connections() {
    let first = replies_per_connection(42, limit_one_byte(0.5), 16).await;
    let replay = replies_per_connection(42, limit_one_byte(0.5), 16).await;
    let other = replies_per_connection(43, limit_one_byte(0.5), 16).await;
    assert_eq!(
        first, replay,
        "same seed, same connection order: same draws"
    );
    assert!(
        first.contains(&1) && first.contains(&5),
        "p=0.5 splits connections: {first:?}"
    );
    assert_ne!(first, other, "another seed draws differently");
}

/// Connecting fails, or the connection ends at once without data.
async fn refused(proxy: &Proxy) -> bool {
    match TcpStream::connect(proxy.listen_addr()).await {
        Err(err) => err.kind() == std::io::ErrorKind::ConnectionRefused,
        Ok(mut stream) => {
            let _ = stream.write_all(b"x").await;
            read_all(&mut stream).await.0.is_empty()
        }
    }
}

#[tokio::test]
async fn disabling_closes_open_connections_and_refuses_new_ones() {
    let (proxy, mut open) = open_echo("disable").await;
    eventually("connection registered", || {
        proxy.stats().connections_open == 1
    })
    .await;

    proxy.set_enabled(false);
    let (received, _) = read_all(&mut open).await;
    assert!(received.is_empty(), "the open connection is closed");
    assert!(refused(&proxy).await, "a new connection is refused");
    eventually("connections closed", || proxy.stats().connections_open == 0).await;

    proxy.set_enabled(true);
    let mut stream = within("re-enabled", async {
        loop {
            if let Ok(stream) = TcpStream::connect(proxy.listen_addr()).await {
                return stream;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(round_trip(&mut stream, b"back").await.0, b"back");
}

#[tokio::test]
async fn shutdown_closes_everything_and_frees_the_port() {
    let (proxy, mut open) = open_echo("shutdown").await;
    let addr = proxy.listen_addr();
    within("shutdown", proxy.shutdown()).await;
    let (received, _) = read_all(&mut open).await;
    assert!(received.is_empty());
    let again = Proxy::bind("shutdown", &addr.to_string(), 1)
        .await
        .expect("the port is free again");
    assert_eq!(again.listen_addr(), addr);
}
