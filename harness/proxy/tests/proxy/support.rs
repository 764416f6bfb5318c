//! In-process servers and client helpers: an echo server, a source that sends a fixed payload, and a
//! proxy in front of either.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use faultline_proxy::Proxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Liveness bound for every wait in these tests; generous, since it only stops a hung test.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Fails the test if `fut` does not finish within [`PATIENCE`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(PATIENCE, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {PATIENCE:?}"))
}

async fn serve<F, Fut>(handle: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind test server");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(handle(socket));
        }
    });
    addr
}

/// Echoes every byte back; half-closes after the client does.
pub async fn echo_server() -> SocketAddr {
    serve(|mut socket| async move {
        let (mut read, mut write) = socket.split();
        if tokio::io::copy(&mut read, &mut write).await.is_ok() {
            let _ = write.shutdown().await;
        }
    })
    .await
}

/// Sends `payload` to every client, half-closes, then drains until the client closes.
pub async fn source_server(payload: Vec<u8>) -> SocketAddr {
    serve(move |mut socket| {
        let payload = payload.clone();
        async move {
            if socket.write_all(&payload).await.is_ok() && socket.shutdown().await.is_ok() {
                let _ = tokio::io::copy(&mut socket, &mut tokio::io::sink()).await;
            }
        }
    })
    .await
}

/// A proxy on any local port forwarding to `upstream`.
pub async fn proxy_to(name: &str, upstream: SocketAddr, seed: u64) -> Proxy {
    let proxy = Proxy::bind(name, "127.0.0.1:0", seed)
        .await
        .expect("bind proxy");
    proxy.set_upstream(&upstream.to_string());
    proxy
}

/// A proxy in front of an echo server and one connection through it, checked to flow.
pub async fn open_echo(name: &str) -> (Proxy, TcpStream) {
    let proxy = proxy_to(name, echo_server().await, 1).await;
    let mut stream = connect(&proxy).await;
    assert_eq!(round_trip(&mut stream, b"warm").await.0, b"warm");
    (proxy, stream)
}

pub async fn connect(proxy: &Proxy) -> TcpStream {
    let stream = within("connect", TcpStream::connect(proxy.listen_addr()))
        .await
        .expect("connect to proxy");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// Everything the stream delivers until it ends, and how it ended.
pub async fn read_all(stream: &mut TcpStream) -> (Vec<u8>, io::Result<()>) {
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match within("read", stream.read(&mut buf)).await {
            Ok(0) => return (received, Ok(())),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(err) => return (received, Err(err)),
        }
    }
}

/// Sends `message` and reads back as many bytes; returns the reply and the round-trip time.
pub async fn round_trip(stream: &mut TcpStream, message: &[u8]) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    stream.write_all(message).await.expect("write");
    let reply = read_n(stream, message.len()).await;
    (reply, started.elapsed())
}

/// Exactly the next `n` bytes.
pub async fn read_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    within("read", stream.read_exact(&mut bytes))
        .await
        .expect("read bytes");
    bytes
}

/// Whether any byte arrives within `wait` (a lower-bound check: "nothing for at least this long").
pub async fn silent_for(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut byte = [0u8; 1];
    tokio::time::timeout(wait, stream.read(&mut byte))
        .await
        .is_err()
}

/// `n` bytes of a fixed pattern that shows reordering or loss.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

/// Waits until `check` holds, polling; panics after [`PATIENCE`].
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    within(what, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}
