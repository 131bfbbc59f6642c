//! A bad link, for fault injection: a TCP proxy on 127.0.0.1 in front of one of the stack's
//! ports that limits how fast the server's bytes reach the client, and cuts every connection a
//! fixed time after it opened (as a flaky mobile or satellite link, or a NAT that forgets
//! connections, would).

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the link behaves.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    /// Bytes per second from the server to the client (the client's bytes pass unthrottled).
    pub bytes_per_sec: u64,
    /// Each connection is cut (both sides closed) this long after it was accepted.
    pub cut_after: Option<Duration>,
}

/// A running proxy; it stops (and cuts its connections) when dropped.
pub struct Proxy {
    pub port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr, link: Link) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy listens");
        let port = listener.local_addr().expect("a local address").port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                connections.spawn(forward(client, upstream, link));
                while connections.try_join_next().is_some() {}
            }
        });
        Proxy {
            port,
            accepted,
            task,
        }
    }

    /// How many connections it accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // The JoinSet of connections is dropped with the task: every connection is cut.
        self.task.abort();
    }
}

async fn forward(client: TcpStream, upstream: SocketAddr, link: Link) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = async {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
    };
    let down = async {
        // Paced against the connection's start: after n bytes, no earlier than n / rate.
        let started = tokio::time::Instant::now();
        let mut sent: u64 = 0;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if client_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
            sent += n as u64;
            let due = Duration::from_secs_f64(sent as f64 / link.bytes_per_sec as f64);
            tokio::time::sleep_until(started + due).await;
        }
        let _ = client_write.shutdown().await;
    };
    let both = async { tokio::join!(up, down) };
    match link.cut_after {
        // Dropping the halves closes both connections.
        Some(cut) => {
            let _ = tokio::time::timeout(cut, both).await;
        }
        None => {
            both.await;
        }
    }
}
