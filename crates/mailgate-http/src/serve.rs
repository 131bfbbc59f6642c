//! The connection loop: axum's router on hyper's HTTP/1 connections, with the protections that
//! `axum::serve` lacks. A slow client cannot hold a connection open: its request line and
//! headers must arrive within `header_read_timeout` (hyper's timer, which also closes a
//! kept-alive connection waiting that long for its next request), and a connection with no
//! request under way and no byte moving for `idle_timeout` is closed (a client that stops
//! reading its answer). At most `max_connections` are served at once: the loop accepts no more
//! until one ends, so further clients wait in the kernel's listen queue instead of taking file
//! descriptors. (Refusing them would need accepting them first, which is what exhausts them.)

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use mailgate_core::config::HttpSettings;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

/// More headers than this answer hyper's own (empty) 431; up to it, the router answers the
/// limit in the error contract (see `limits`).
const HYPER_MAX_HEADERS: usize = 1_000;

/// Serves `router` on `listener` until `shutdown` completes, then lets the requests under way
/// finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpSettings,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            router.clone(),
            limits.clone(),
            stopping.clone(),
            slot,
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    // Each connection holds its slot until it ends: all slots back means all drained.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

async fn connection(
    stream: TcpStream,
    router: Router,
    limits: HttpSettings,
    mut stopping: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let under_way = requests.begin();
        let router = router.clone();
        async move {
            let response = router.oneshot(request.map(axum::body::Body::new)).await;
            drop(under_way);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(HYPER_MAX_HEADERS);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            changed = stopping.changed(), if !draining => {
                draining = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
            () = activity.idle_for(limits.idle_timeout) => {
                tracing::debug!("closing a connection idle for {:?}", limits.idle_timeout);
                return;
            }
        }
    }
}

/// When bytes last moved on a connection, and how many of its requests are being handled.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    under_way: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            under_way: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn begin(self: &Arc<Self>) -> UnderWay {
        self.under_way.fetch_add(1, Ordering::SeqCst);
        UnderWay(self.clone())
    }

    /// Completes once no request has been under way and no byte has moved for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let last = self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let quiet = last.elapsed();
            let busy = self.under_way.load(Ordering::SeqCst) > 0;
            if !busy && quiet >= limit {
                return;
            }
            // A handler at work is not idle: look again a whole period later.
            let wait = if busy {
                limit
            } else {
                limit.saturating_sub(quiet)
            };
            tokio::time::sleep(wait.max(Duration::from_millis(100))).await;
        }
    }
}

/// A request being handled; the connection is not idle while one exists.
struct UnderWay(Arc<Activity>);

impl Drop for UnderWay {
    fn drop(&mut self) {
        self.0.touch();
        self.0.under_way.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The TCP stream, noting each read or write that moves bytes.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
