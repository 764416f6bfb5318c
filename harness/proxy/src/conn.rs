//! One proxied connection: dial the upstream, run the two pumps, and end the connection the way the
//! pumps ask (half-closes pass through; a close or reset takes both sockets down).

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::board::Board;
use crate::chain::Scope;
use crate::proxy::Counters;
use crate::pump::{self, Ending, Pump};
use crate::Direction;

/// Longest wait for the upstream to accept; a dead upstream should not hold the client for minutes
/// of SYN retries.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a connection needs from its proxy.
pub(crate) struct Link<'a> {
    pub proxy: &'a str,
    pub seed: u64,
    pub index: u64,
    pub board: &'a Board,
    pub counters: &'a Counters,
}

/// Serves `client` until both directions finish or a pump ends the connection.
pub(crate) async fn serve(link: Link<'_>, mut client: TcpStream, upstream: &str) {
    let mut server = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(upstream)).await
    {
        Ok(Ok(server)) => server,
        Ok(Err(err)) => return refuse(&link, upstream, err),
        Err(_) => return refuse(&link, upstream, io::ErrorKind::TimedOut.into()),
    };
    // Kafka and Postgres speak small request/response frames: never let Nagle hold one back.
    for socket in [&client, &server] {
        if let Err(err) = socket.set_nodelay(true) {
            tracing::debug!(proxy = link.proxy, %err, "cannot set TCP_NODELAY");
        }
    }
    let pump_for = |stream| {
        let bytes = match stream {
            Direction::Upstream => &link.counters.bytes_upstream,
            _ => &link.counters.bytes_downstream,
        };
        Pump {
            board: link.board,
            scope: Scope {
                seed: link.seed,
                conn: link.index,
                stream,
            },
            bytes,
        }
    };
    let ending = {
        let (client_read, client_write) = client.split();
        let (server_read, server_write) = server.split();
        let up = pump::run(pump_for(Direction::Upstream), client_read, server_write);
        let down = pump::run(pump_for(Direction::Downstream), server_read, client_write);
        both(up, down).await
    };
    tracing::debug!(
        proxy = link.proxy,
        conn = link.index,
        ?ending,
        "connection ends"
    );
    match ending {
        Ending::Finished => {}
        Ending::Close => {
            // FIN both ways; the sockets close when dropped below.
            let _ = client.shutdown().await;
            let _ = server.shutdown().await;
        }
        Ending::Reset => {
            for socket in [&client, &server] {
                let _ = socket.set_zero_linger();
            }
        }
    }
}

fn refuse(link: &Link<'_>, upstream: &str, err: io::Error) {
    // Expected while a broker or Postgres is down on purpose; the fault timeline says so.
    tracing::info!(
        proxy = link.proxy,
        conn = link.index,
        "cannot reach upstream {upstream}: {err}; closing the client"
    );
}

/// Runs both pumps; a finished pump leaves the other running (a half-close), any other ending stops
/// both.
async fn both(up: impl Future<Output = Ending>, down: impl Future<Output = Ending>) -> Ending {
    tokio::pin!(up, down);
    let (mut up_done, mut down_done) = (false, false);
    while !(up_done && down_done) {
        let (ending, done) = tokio::select! {
            ending = &mut up, if !up_done => (ending, &mut up_done),
            ending = &mut down, if !down_done => (ending, &mut down_done),
        };
        if ending != Ending::Finished {
            return ending;
        }
        *done = true;
    }
    Ending::Finished
}
