//! Overhead of the fault proxy with no toxic, against a direct connection measured in the same run:
//! bulk throughput (64 MiB into a sink) and request/response latency (64-byte ping-pong with an echo
//! server). Targets: <= 5% throughput loss and <= 100 µs added median round trip.
//!
//! When a `toxiproxy-server` binary is found (`FAULTLINE_TOXIPROXY_BIN`, else where
//! `ci/toxiproxy.sh` installs it), Toxiproxy is measured side by side; otherwise a note says it was
//! skipped.
//!
//! A third reference is the simplest possible user-space proxy, a blocking thread per direction
//! copying through a buffer: whatever loss it shows is the cost of any user-space hop on this
//! machine (the bytes cross the loopback TCP stack twice), not of faultline's design.
//!
//! Servers and the client are plain blocking threads, so the proxies are the only async code. After
//! criterion's groups, the ratios come from rounds that interleave the targets, so drift in the
//! machine's load hits all of them alike.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use faultline_benches::{median, report_ratio};
use faultline_proxy::Proxy;

const BULK_BYTES: usize = 64 * 1024 * 1024;
const WRITE_SIZE: usize = 256 * 1024;
const PING_BYTES: usize = 64;
/// Interleaved rounds behind the printed ratios.
const ROUNDS: usize = 15;
const PINGS_PER_ROUND: usize = 400;

/// Spawns a blocking server thread per connection.
fn serve(handle: fn(TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind bench server");
    let addr = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        for socket in listener.incoming().flatten() {
            let _ = socket.set_nodelay(true);
            thread::spawn(move || handle(socket));
        }
    });
    addr
}

/// Reads a length, then that many bytes, then answers with the count. No half-close: Toxiproxy
/// closes both directions when one ends.
fn sink(mut socket: TcpStream) {
    let mut len = [0u8; 8];
    if socket.read_exact(&mut len).is_err() {
        return;
    }
    let (want, mut total) = (u64::from_le_bytes(len), 0u64);
    let mut buf = vec![0u8; WRITE_SIZE];
    while total < want {
        match socket.read(&mut buf) {
            Ok(n @ 1..) => total += n as u64,
            _ => break,
        }
    }
    let _ = socket.write_all(&total.to_le_bytes());
}

fn echo(mut socket: TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = socket.read(&mut buf) {
        if socket.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

/// Sends `BULK_BYTES` to a sink through `addr`; the time until the sink confirms every byte.
fn bulk(addr: SocketAddr, payload: &[u8]) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connect for bulk");
    stream.set_nodelay(true).expect("nodelay");
    stream
        .write_all(&(payload.len() as u64).to_le_bytes())
        .expect("bulk length");
    for chunk in payload.chunks(WRITE_SIZE) {
        stream.write_all(chunk).expect("bulk write");
    }
    let mut count = [0u8; 8];
    stream.read_exact(&mut count).expect("sink's count");
    assert_eq!(
        u64::from_le_bytes(count),
        BULK_BYTES as u64,
        "every byte arrived"
    );
    started.elapsed()
}

/// `n` ping-pong round trips on one connection, each timed.
fn ping_pong(addr: SocketAddr, n: usize) -> Vec<Duration> {
    let mut stream = TcpStream::connect(addr).expect("connect for ping-pong");
    stream.set_nodelay(true).expect("nodelay");
    let ping = [7u8; PING_BYTES];
    let mut pong = [0u8; PING_BYTES];
    (0..n)
        .map(|_| {
            let started = Instant::now();
            stream.write_all(&ping).expect("ping");
            stream.read_exact(&mut pong).expect("pong");
            started.elapsed()
        })
        .collect()
}

/// The floor reference: a blocking proxy to `upstream`, one thread per direction.
fn threaded_copy_proxy(upstream: SocketAddr) -> SocketAddr {
    fn pipe(mut from: TcpStream, mut to: TcpStream) {
        let mut buf = vec![0u8; WRITE_SIZE];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind reference proxy");
    let addr = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(upstream) else {
                continue;
            };
            let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
                continue;
            };
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            thread::spawn(move || pipe(client, server));
            thread::spawn(move || pipe(server2, client2));
        }
    });
    addr
}

/// One way of reaching the sink and the echo server.
struct Target {
    name: &'static str,
    sink: SocketAddr,
    echo: SocketAddr,
}

/// A running toxiproxy-server child with a sink and an echo proxy; killed on drop.
struct Toxiproxy {
    child: Child,
    config: PathBuf,
}

impl Drop for Toxiproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

/// `FAULTLINE_TOXIPROXY_BIN`, else where `ci/toxiproxy.sh` installs it (`$FAULTLINE_CACHE/bin`,
/// `~/.cache/faultline/bin` by default).
fn toxiproxy_bin() -> Option<PathBuf> {
    let env = |name| std::env::var_os(name).map(PathBuf::from);
    let bin = env("FAULTLINE_TOXIPROXY_BIN").or_else(|| {
        let cache =
            env("FAULTLINE_CACHE").or_else(|| Some(env("HOME")?.join(".cache/faultline")))?;
        Some(cache.join("bin/toxiproxy-server"))
    })?;
    bin.is_file().then_some(bin)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Starts Toxiproxy with proxies to `sink` and `echo`, or says why not.
fn start_toxiproxy(sink: SocketAddr, echo: SocketAddr) -> Option<(Toxiproxy, Target)> {
    let Some(bin) = toxiproxy_bin() else {
        println!("NOTE toxiproxy-server not found (set FAULTLINE_TOXIPROXY_BIN or run ci/toxiproxy.sh): skipped");
        return None;
    };
    let (sink_port, echo_port, api_port) = (free_port(), free_port(), free_port());
    let config =
        std::env::temp_dir().join(format!("faultline-toxiproxy-{}.json", std::process::id()));
    let proxy = |name, port, upstream| {
        format!(
            r#"{{"name":"{name}","listen":"127.0.0.1:{port}","upstream":"{upstream}","enabled":true}}"#
        )
    };
    let json = format!(
        "[{},{}]",
        proxy("sink", sink_port, sink),
        proxy("echo", echo_port, echo)
    );
    std::fs::write(&config, json).expect("write toxiproxy config");
    let child = Command::new(&bin)
        .args([
            "-host",
            "127.0.0.1",
            "-port",
            &api_port.to_string(),
            "-config",
        ])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", bin.display()));
    let running = Toxiproxy { child, config };
    let target = Target {
        name: "toxiproxy",
        sink: SocketAddr::from(([127, 0, 0, 1], sink_port)),
        echo: SocketAddr::from(([127, 0, 0, 1], echo_port)),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(target.echo).is_err() {
        assert!(
            Instant::now() < deadline,
            "toxiproxy did not open its proxies within 10 s"
        );
        thread::sleep(Duration::from_millis(20));
    }
    println!("NOTE toxiproxy measured from {}", bin.display());
    Some((running, target))
}

fn bench_overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (sink_addr, echo_addr) = (serve(sink), serve(echo));
    let bind = |name, upstream: SocketAddr| {
        let proxy = rt
            .block_on(Proxy::bind(name, "127.0.0.1:0", 1))
            .expect("bind proxy");
        proxy.set_upstream(&upstream.to_string());
        proxy
    };
    let (proxy_sink, proxy_echo) = (bind("bench-sink", sink_addr), bind("bench-echo", echo_addr));
    let mut targets = vec![
        Target {
            name: "direct",
            sink: sink_addr,
            echo: echo_addr,
        },
        Target {
            name: "faultline",
            sink: proxy_sink.listen_addr(),
            echo: proxy_echo.listen_addr(),
        },
    ];
    targets.push(Target {
        name: "threaded-copy",
        sink: threaded_copy_proxy(sink_addr),
        echo: threaded_copy_proxy(echo_addr),
    });
    let toxiproxy = start_toxiproxy(sink_addr, echo_addr).map(|(running, target)| {
        targets.push(target);
        running
    });
    let payload = vec![0x5a; BULK_BYTES];

    let mut group = c.benchmark_group("proxy_overhead_bulk_64MiB");
    group
        .sample_size(10)
        .throughput(Throughput::Bytes(BULK_BYTES as u64));
    for target in &targets {
        group.bench_function(target.name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| bulk(target.sink, &payload)).sum())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("proxy_overhead_ping_pong_64B");
    for target in &targets {
        group.bench_function(target.name, |b| {
            b.iter_custom(|iters| ping_pong(target.echo, iters as usize).into_iter().sum())
        });
    }
    group.finish();

    report(&targets, &payload);
    drop(toxiproxy);
    rt.block_on(async {
        proxy_sink.shutdown().await;
        proxy_echo.shutdown().await;
    });
}

/// Interleaved rounds, then one line per proxy: throughput loss and added median round trip.
fn report(targets: &[Target], payload: &[u8]) {
    let mut bulks = vec![Vec::new(); targets.len()];
    let mut rtts = vec![Vec::new(); targets.len()];
    for _ in 0..ROUNDS {
        for (i, target) in targets.iter().enumerate() {
            bulks[i].push(bulk(target.sink, payload));
            rtts[i].extend(ping_pong(target.echo, PINGS_PER_ROUND));
        }
    }
    let bulk_direct = median(bulks[0].clone());
    let rtt_direct = median(rtts[0].clone());
    let mib_per_s = |d: Duration| BULK_BYTES as f64 / (1024.0 * 1024.0) / d.as_secs_f64();
    println!(
        "direct: {:.0} MiB/s, median round trip {:.1} µs",
        mib_per_s(bulk_direct),
        micros(rtt_direct)
    );
    for (i, target) in targets.iter().enumerate().skip(1) {
        let bulk = median(bulks[i].clone());
        let rtt = median(rtts[i].clone());
        report_ratio(
            &format!("proxy_overhead bulk 64 MiB, {}", target.name),
            bulk,
            bulk_direct,
        );
        println!(
            "OVERHEAD {}: {:.0} MiB/s = {:.1}% throughput loss; median round trip {:.1} µs = +{:.1} µs",
            target.name,
            mib_per_s(bulk),
            100.0 * (1.0 - mib_per_s(bulk) / mib_per_s(bulk_direct)),
            micros(rtt),
            micros(rtt) - micros(rtt_direct),
        );
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

criterion_group!(benches, bench_overhead);
criterion_main!(benches);
