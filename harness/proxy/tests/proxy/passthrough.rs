//! With no toxic, the proxy is invisible: same bytes, same half-closes, counted.

use std::time::Duration;

use faultline_proxy::{Proxy, ProxyError};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

/// Writes `payload` in the given chunk sizes while reading the echo concurrently.
async fn echo_in_chunks(proxy: &Proxy, payload: &[u8], chunks: &[usize]) -> Vec<u8> {
    let mut stream = connect(proxy).await;
    let (mut read, mut write) = stream.split();
    let writer = async {
        let mut rest = payload;
        for &size in chunks.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at(size.min(rest.len()));
            write.write_all(chunk).await.expect("write chunk");
            rest = tail;
        }
        write.shutdown().await.expect("half-close");
    };
    let mut echoed = Vec::new();
    let reader = read.read_to_end(&mut echoed);
    let (_, read) = within("echo", async { tokio::join!(writer, reader) }).await;
    read.expect("read echo");
    echoed
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn bytes_pass_through_unchanged(
        payload in proptest::collection::vec(any::<u8>(), 0..200_000),
        chunks in proptest::collection::vec(1usize..70_000, 1..8),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let echoed = rt.block_on(async {
            let proxy = proxy_to("prop", echo_server().await, 1).await;
            echo_in_chunks(&proxy, &payload, &chunks).await
        });
        prop_assert_eq!(echoed, payload);
    }
}

#[tokio::test]
async fn half_close_reaches_upstream_and_replies_still_arrive() {
    let proxy = proxy_to("half", echo_server().await, 1).await;
    let payload = pattern(300_000);
    let echoed = echo_in_chunks(&proxy, &payload, &[4096]).await;
    assert_eq!(
        echoed, payload,
        "the echo of everything sent before our FIN arrives, then EOF"
    );
}

#[tokio::test]
async fn stats_count_connections_and_bytes_per_direction() {
    let payload = pattern(50_000);
    let proxy = proxy_to("stats", source_server(payload.clone()).await, 1).await;
    for _ in 0..3 {
        let mut stream = connect(&proxy).await;
        stream.write_all(b"hello").await.unwrap();
        stream.shutdown().await.unwrap();
        let (received, end) = read_all(&mut stream).await;
        end.unwrap();
        assert_eq!(received, payload);
    }
    eventually("connections close", || proxy.stats().connections_open == 0).await;
    let stats = proxy.stats();
    assert_eq!(stats.connections_accepted, 3);
    assert_eq!(stats.connections_refused, 0);
    assert_eq!(stats.bytes_upstream, 15);
    assert_eq!(stats.bytes_downstream, 150_000);
}

#[tokio::test]
async fn clients_arriving_before_the_upstream_wait_for_it() {
    let proxy = Proxy::bind("no-upstream-yet", "127.0.0.1:0", 1)
        .await
        .unwrap();
    let mut early = connect(&proxy).await;
    early.write_all(b"anyone?").await.unwrap();
    assert!(silent_for(&mut early, Duration::from_millis(200)).await);
    assert_eq!(
        proxy.stats().connections_accepted,
        0,
        "not forwarded while there is nowhere to go"
    );

    proxy.set_upstream(&echo_server().await.to_string());
    assert_eq!(
        read_n(&mut early, 7).await,
        b"anyone?",
        "the early client is forwarded once the upstream is set"
    );
    assert_eq!(round_trip(&mut early, b"now").await.0, b"now");
    assert_eq!(proxy.stats().connections_accepted, 1);
    assert_eq!(proxy.stats().connections_refused, 0);
}

#[tokio::test]
async fn bind_error_names_the_proxy_and_the_address() {
    let first = Proxy::bind("kafka-1", "127.0.0.1:0", 1).await.unwrap();
    let addr = first.listen_addr().to_string();
    let err = Proxy::bind("kafka-1", &addr, 1)
        .await
        .err()
        .expect("the port is taken");
    assert!(matches!(err, ProxyError::Bind { .. }));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("proxy kafka-1: cannot bind {addr}: ")),
        "{message}"
    );
    assert!(message.to_lowercase().contains("in use"), "{message}");
    assert_eq!(first.name(), "kafka-1");
}
