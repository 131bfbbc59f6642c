//! An inactivity timeout on a byte stream: a read or a write that makes no progress for the
//! configured time fails with `io::ErrorKind::TimedOut`. A slow but moving transfer (a large
//! message) never times out; a silent server always does, whichever command is waiting.
//!
//! The protocol clients wrap their stream in it, so every read has a timeout without each call
//! site remembering one (async-imap has none of its own).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

#[derive(Debug)]
pub struct Timed<S> {
    inner: S,
    timeout: Option<Duration>,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl<S> Timed<S> {
    pub fn new(inner: S, timeout: Duration) -> Self {
        Self {
            inner,
            timeout: Some(timeout),
            read_timer: None,
            write_timer: None,
        }
    }

    /// Changes the timeout (`None`: wait forever, for IDLE under an outer deadline). Applies
    /// from the next operation that has to wait.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
        self.read_timer = None;
        self.write_timer = None;
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// Polls the timer of a pending operation, starting it on the first wait.
fn expired(
    timer: &mut Option<Pin<Box<Sleep>>>,
    timeout: Option<Duration>,
    cx: &mut Context<'_>,
) -> bool {
    let Some(timeout) = timeout else {
        return false;
    };
    let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
    if sleep.as_mut().poll(cx).is_ready() {
        *timer = None;
        return true;
    }
    false
}

fn timed_out(what: &str, timeout: Option<Duration>) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!(
            "no {what} progress for {:?}",
            timeout.unwrap_or(Duration::ZERO)
        ),
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for Timed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.read_timer = None;
                Poll::Ready(result)
            }
            Poll::Pending if expired(&mut this.read_timer, this.timeout, cx) => {
                Poll::Ready(Err(timed_out("read", this.timeout)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Timed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(result) => {
                this.write_timer = None;
                Poll::Ready(result)
            }
            Poll::Pending if expired(&mut this.write_timer, this.timeout, cx) => {
                Poll::Ready(Err(timed_out("write", this.timeout)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(result) => {
                this.write_timer = None;
                Poll::Ready(result)
            }
            Poll::Pending if expired(&mut this.write_timer, this.timeout, cx) => {
                Poll::Ready(Err(timed_out("write", this.timeout)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_times_out_and_a_slow_one_does_not() {
        let (client, mut server) = tokio::io::duplex(64);
        let mut timed = Timed::new(client, Duration::from_secs(10));
        let feeder = tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_secs(8)).await;
                server.write_all(b"x").await.unwrap();
            }
            // Then silence, with the connection still open.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            drop(server);
        });
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        for _ in 0..5 {
            timed.read_exact(&mut byte).await.unwrap();
            got.push(byte[0]);
        }
        assert_eq!(got, b"xxxxx");
        let started = tokio::time::Instant::now();
        let e = timed.read_exact(&mut byte).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        feeder.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_times_out_writes() {
        let (client, _server) = tokio::io::duplex(16);
        let mut timed = Timed::new(client, Duration::from_secs(5));
        let e = timed.write_all(&[0u8; 64]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        // Without a timeout the write just waits.
        timed.set_timeout(None);
        let waiting =
            tokio::time::timeout(Duration::from_secs(3600), timed.write_all(&[0u8; 64])).await;
        assert!(waiting.is_err());
    }
}
