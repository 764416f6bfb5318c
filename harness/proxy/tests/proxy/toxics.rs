//! Each toxic's effect on live connections, checked on the bytes delivered. Timing checks are lower
//! bounds only: a loaded machine may be slower, never faster.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use faultline_proxy::{Direction, Toxic, ToxicKind};
use tokio::io::AsyncWriteExt;

use crate::support::*;

#[tokio::test]
async fn latency_delays_each_direction_by_at_least_the_latency() {
    let (proxy, mut stream) = open_echo("latency").await;

    // Added to an already-open connection.
    proxy.add_toxic(Toxic::new(ToxicKind::Latency {
        latency_ms: 150,
        jitter_ms: 0,
    }));
    let (reply, rtt) = round_trip(&mut stream, b"ping").await;
    assert_eq!(reply, b"ping");
    assert!(
        rtt >= Duration::from_millis(300),
        "both directions delayed: round trip {rtt:?}"
    );
}

#[tokio::test]
async fn latency_with_jitter_never_goes_below_latency_minus_jitter() {
    let proxy = proxy_to("jitter", echo_server().await, 1).await;
    proxy.add_toxic(
        Toxic::new(ToxicKind::Latency {
            latency_ms: 120,
            jitter_ms: 40,
        })
        .on(Direction::Downstream),
    );
    let mut stream = connect(&proxy).await;
    for i in 0..5u8 {
        let (reply, rtt) = round_trip(&mut stream, &[i; 100]).await;
        assert_eq!(reply, [i; 100]);
        assert!(rtt >= Duration::from_millis(80), "round trip {i}: {rtt:?}");
    }
}

#[tokio::test]
async fn bandwidth_bounds_the_rate() {
    let payload = pattern(96 * 1024);
    let proxy = proxy_to("bandwidth", source_server(payload.clone()).await, 1).await;
    proxy.add_toxic(Toxic::new(ToxicKind::Bandwidth { rate_kbps: 48 }).on(Direction::Downstream));
    let started = Instant::now();
    let mut stream = connect(&proxy).await;
    let (received, end) = read_all(&mut stream).await;
    end.unwrap();
    assert_eq!(received, payload);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1900),
        "96 KiB at 48 KiB/s took {elapsed:?}"
    );
}

#[tokio::test]
async fn timeout_blackholes_then_closes() {
    let (proxy, mut stream) = open_echo("timeout").await;
    let started = Instant::now();
    proxy.add_toxic(Toxic::new(ToxicKind::Timeout { timeout_ms: 300 }));
    stream.write_all(b"into the void").await.unwrap();
    let (received, _) = read_all(&mut stream).await;
    assert!(
        received.is_empty(),
        "nothing comes back through a blackhole: {received:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "closed only after the timeout"
    );
}

#[tokio::test]
async fn timeout_zero_holds_data_until_removed_then_delivers_it_intact() {
    let (proxy, mut stream) = open_echo("blackhole").await;
    let id =
        proxy.add_toxic(Toxic::new(ToxicKind::Timeout { timeout_ms: 0 }).on(Direction::Downstream));
    let payload = pattern(10_000);
    stream.write_all(&payload).await.unwrap();
    // Upstream still flows: the echo server gets everything; its reply is held.
    eventually("request reaches upstream", || {
        proxy.stats().bytes_upstream == 4 + 10_000
    })
    .await;
    assert!(
        silent_for(&mut stream, Duration::from_millis(300)).await,
        "a blackhole delivers nothing"
    );

    proxy.remove_toxic(id);
    stream.shutdown().await.unwrap();
    let (received, end) = read_all(&mut stream).await;
    end.unwrap();
    assert_eq!(
        received, payload,
        "the held reply arrives whole once healed"
    );
}

#[tokio::test]
async fn reset_peer_resets_the_client_connection() {
    let (proxy, mut stream) = open_echo("reset").await;
    let started = Instant::now();
    proxy.add_toxic(Toxic::new(ToxicKind::ResetPeer { timeout_ms: 200 }).on(Direction::Downstream));
    let (received, end) = read_all(&mut stream).await;
    assert!(received.is_empty());
    assert_eq!(end.map_err(|e| e.kind()), Err(ErrorKind::ConnectionReset));
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn limit_data_closes_after_exactly_n_bytes() {
    let payload = pattern(100_000);
    let proxy = proxy_to("limit", source_server(payload.clone()).await, 1).await;
    proxy.add_toxic(Toxic::new(ToxicKind::LimitData { bytes: 12_345 }).on(Direction::Downstream));
    for _ in 0..3 {
        let mut stream = connect(&proxy).await;
        let (received, _) = read_all(&mut stream).await;
        assert_eq!(received.len(), 12_345);
        assert_eq!(received, payload[..12_345]);
    }
}

#[tokio::test]
async fn limit_data_added_to_an_open_connection_counts_from_then() {
    let (proxy, mut stream) = open_echo("limit-open").await;
    assert_eq!(round_trip(&mut stream, &[1; 500]).await.0, [1; 500]);
    proxy.add_toxic(Toxic::new(ToxicKind::LimitData { bytes: 700 }).on(Direction::Downstream));
    stream.write_all(&pattern(2_000)).await.unwrap();
    let (received, _) = read_all(&mut stream).await;
    assert_eq!(received, pattern(2_000)[..700]);
}

#[tokio::test]
async fn slicer_delivers_identical_bytes() {
    let proxy = proxy_to("slicer", echo_server().await, 1).await;
    proxy.add_toxic(Toxic::new(ToxicKind::Slicer {
        average_size: 7,
        size_variation: 3,
        delay_us: 10,
    }));
    let mut stream = connect(&proxy).await;
    let payload = pattern(20_000);
    let (reply, _) = round_trip(&mut stream, &payload).await;
    assert_eq!(reply, payload);
}

#[tokio::test]
async fn slow_close_delays_the_end_of_stream_not_the_data() {
    let proxy = proxy_to("slow-close", source_server(b"goodbye".to_vec()).await, 1).await;
    proxy.add_toxic(Toxic::new(ToxicKind::SlowClose { delay_ms: 300 }).on(Direction::Downstream));
    let started = Instant::now();
    let mut stream = connect(&proxy).await;
    let (received, end) = read_all(&mut stream).await;
    end.unwrap();
    assert_eq!(received, b"goodbye");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "EOF after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn chained_toxics_compose_in_order() {
    let proxy = proxy_to("chain", echo_server().await, 1).await;
    proxy.add_toxic(Toxic::new(ToxicKind::Slicer {
        average_size: 100,
        size_variation: 50,
        delay_us: 0,
    }));
    proxy.add_toxic(Toxic::new(ToxicKind::Latency {
        latency_ms: 100,
        jitter_ms: 20,
    }));
    proxy.add_toxic(Toxic::new(ToxicKind::Bandwidth { rate_kbps: 1024 }));
    let mut stream = connect(&proxy).await;
    let payload = pattern(50_000);
    let (reply, rtt) = round_trip(&mut stream, &payload).await;
    assert_eq!(reply, payload);
    assert!(
        rtt >= Duration::from_millis(160),
        "two directions of at least 80 ms: {rtt:?}"
    );
}
