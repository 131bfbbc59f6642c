//! A guard in the byte stream under async-imap, which bounds what one server response may make
//! the client hold in memory.
//!
//! async-imap cannot bound a literal before allocating it: when imap-proto reads `{N}\r\n` it
//! asks for N more bytes, and async-imap's buffer grows to N at once (zero-filled), capped only
//! at 512 MiB. A response without line end grows the buffer the same way, and is parsed again
//! from its start on every read. So the guard reads the bytes first: it follows the responses
//! (text, `{N}\r\n` announcements, literal bytes) and fails the read when a literal, the
//! literals of one response, or the text of one response exceed [`Limits`], before async-imap
//! sees the bytes that would make it allocate. The error is an [`Exceeded`] inside an
//! `io::Error`, turned into [`crate::error::ProtoError::OverLimit`] by the session.
//!
//! One tolerance, for imap-proto 0.17: it takes the text after a response code
//! (`A1 OK [READ-WRITE] text`) to start with a space and slices it off at byte 1, which panics
//! when the server puts a non-ASCII character there. The guard reads such a byte right after
//! `]`, outside literals, as a space ([`Scanner::scan`]); message bodies are literals and are
//! never changed.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most one literal may carry outside a FETCH of message bodies (folder names, ...).
pub const MAX_LITERAL: u64 = 1024 * 1024;
/// What a FETCH of message bodies allows above the bytes asked for (`BODY.PEEK[]<0.n>`): a
/// server that ignores the partial range may send that much more before the connection fails.
pub const LITERAL_MARGIN: u64 = 64 * 1024;
/// The most text (outside literals) one response may carry: a `* SEARCH` answer of about
/// 250,000 UIDs of seven digits.
pub const MAX_RESPONSE_TEXT: u64 = 2 * 1024 * 1024;

/// What one response may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of literals in one response (each literal, and all of them together).
    pub literal: u64,
    /// Bytes of text outside literals in one response.
    pub text: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            literal: MAX_LITERAL,
            text: MAX_RESPONSE_TEXT,
        }
    }
}

/// A response over the [`Limits`]: the connection is not read further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{size} {what}, over the limit of {limit}")]
pub struct Exceeded {
    pub what: &'static str,
    pub size: u64,
    pub limit: u64,
}

/// Where the scan is in the server's bytes.
#[derive(Debug, Clone, Copy, Default)]
enum Tail {
    /// Text, not at a possible literal announcement.
    #[default]
    Text,
    /// After `{` and these digits (`digits` counts them).
    Open { n: u64, digits: u8 },
    /// After `{n+` (LITERAL+ form).
    Plus { n: u64 },
    /// After `{n}`.
    Closed { n: u64 },
    /// After `{n}\r`.
    Cr { n: u64 },
}

/// Follows the server's responses byte by byte (sans I/O, so that it can be tested alone).
#[derive(Debug, Default)]
pub struct Scanner {
    tail: Tail,
    /// The last text byte was `]`.
    after_bracket: bool,
    /// Bytes of the literal being read that are still to come.
    literal_left: u64,
    /// Text bytes of the current response.
    text: u64,
    /// Literal bytes of the current response.
    literals: u64,
    failed: Option<Exceeded>,
}

impl Scanner {
    /// Scans bytes read from the server; the first [`Exceeded`] sticks. A non-ASCII text byte
    /// right after `]` becomes a space (see the module's doc).
    pub fn scan(&mut self, bytes: &mut [u8], limits: Limits) -> Result<(), Exceeded> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let mut at = 0;
        while at < bytes.len() {
            if self.literal_left > 0 {
                let skip = self.literal_left.min((bytes.len() - at) as u64);
                self.literal_left -= skip;
                at += skip as usize;
                self.after_bracket = false;
                continue;
            }
            if self.after_bracket && !bytes[at].is_ascii() {
                bytes[at] = b' ';
            }
            let byte = bytes[at];
            at += 1;
            self.after_bracket = byte == b']';
            self.text += 1;
            if self.text > limits.text {
                return self.fail("bytes of text in one response", self.text, limits.text);
            }
            self.tail = match (self.tail, byte) {
                (_, b'{') => Tail::Open { n: 0, digits: 0 },
                (Tail::Open { n, digits }, b'0'..=b'9') => Tail::Open {
                    n: n.saturating_mul(10).saturating_add(u64::from(byte - b'0')),
                    digits: digits.saturating_add(1),
                },
                (Tail::Open { n, digits }, b'+') if digits > 0 => Tail::Plus { n },
                (Tail::Open { n, digits }, b'}') if digits > 0 => Tail::Closed { n },
                (Tail::Plus { n }, b'}') => Tail::Closed { n },
                (Tail::Closed { n }, b'\r') => Tail::Cr { n },
                // A bare LF after `{n}` is no literal to imap-proto, but counting it as one
                // keeps the bound on the side of caution.
                (Tail::Cr { n } | Tail::Closed { n }, b'\n') => {
                    self.literals = self.literals.saturating_add(n);
                    if n > limits.literal {
                        return self.fail("bytes in one literal", n, limits.literal);
                    }
                    if self.literals > limits.literal {
                        return self.fail(
                            "bytes of literals in one response",
                            self.literals,
                            limits.literal,
                        );
                    }
                    self.literal_left = n;
                    Tail::Text
                }
                (_, b'\n') => {
                    // The end of a response.
                    self.text = 0;
                    self.literals = 0;
                    Tail::Text
                }
                _ => Tail::Text,
            };
        }
        Ok(())
    }

    fn fail(&mut self, what: &'static str, size: u64, limit: u64) -> Result<(), Exceeded> {
        let e = Exceeded { what, size, limit };
        self.failed = Some(e.clone());
        Err(e)
    }
}

/// The stream async-imap reads through: every byte read is scanned first.
pub struct Guarded<S> {
    inner: S,
    scanner: Scanner,
    limits: Limits,
}

impl<S> Guarded<S> {
    pub fn new(inner: S, limits: Limits) -> Self {
        Self {
            inner,
            scanner: Scanner::default(),
            limits,
        }
    }

    /// Changes the limits (a FETCH of bodies allows literals as large as asked for); applies
    /// to the bytes read next.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S> fmt::Debug for Guarded<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guarded")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let start = buf.filled().len();
        std::task::ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let limits = this.limits;
        match this.scanner.scan(&mut buf.filled_mut()[start..], limits) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(e) => {
                // The bytes are not handed on: async-imap must not act on them.
                buf.set_filled(start);
                Poll::Ready(Err(io::Error::other(e)))
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The [`Exceeded`] inside an I/O error from the guarded stream, if that is what it is.
pub fn exceeded(e: &io::Error) -> Option<&Exceeded> {
    e.get_ref()?.downcast_ref::<Exceeded>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(chunks: &[&[u8]], limits: Limits) -> Result<(), Exceeded> {
        let mut scanner = Scanner::default();
        chunks
            .iter()
            .try_for_each(|c| scanner.scan(&mut c.to_vec(), limits))
    }

    const SMALL: Limits = Limits {
        literal: 10,
        text: 40,
    };

    #[test]
    fn known_answers() {
        // Literals within the bound, split anywhere, their bytes not counted as text.
        let ok: &[&[u8]] = &[b"* 1 FETCH (BODY[] {1", b"0}\r", b"\n{}{}{}{}{}", b")\r\n"];
        assert_eq!(scan_all(ok, SMALL), Ok(()));
        // The text bound resets at each response's end.
        let lines = [b"* OK 0123456789012345678901234567890\r\n" as &[u8]; 5];
        assert_eq!(scan_all(&lines, SMALL), Ok(()));
        // `{n}` without a line end is text (a quoted string may hold it).
        assert_eq!(scan_all(&[b"* OK \"{99}\"\r\n"], SMALL), Ok(()));
        // LITERAL+ form and a bare LF count as announcements.
        for announced in [b"* X {11+}\r\n" as &[u8], b"* X {11}\n"] {
            assert_eq!(
                scan_all(&[announced], SMALL),
                Err(Exceeded {
                    what: "bytes in one literal",
                    size: 11,
                    limit: 10
                })
            );
        }
        // Several literals of one response add up.
        let two: &[&[u8]] = &[b"* 1 FETCH (A {6}\r\n123456 B {6}\r\n"];
        assert_eq!(
            scan_all(two, SMALL).unwrap_err().what,
            "bytes of literals in one response"
        );
        // Text without end.
        let long = [b"* SEARCH 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16" as &[u8]];
        assert_eq!(
            scan_all(&long, SMALL).unwrap_err().what,
            "bytes of text in one response"
        );
        // A size that overflows saturates (and is refused).
        let e = scan_all(&[b"* X {99999999999999999999999}\r\n"], Limits::default()).unwrap_err();
        assert_eq!(e.size, u64::MAX);
    }

    #[test]
    fn a_failure_sticks() {
        let mut scanner = Scanner::default();
        assert!(
            scanner
                .scan(&mut b"* X {536000000}\r\n".to_vec(), Limits::default())
                .is_err()
        );
        assert!(
            scanner
                .scan(&mut b"* OK\r\n".to_vec(), Limits::default())
                .is_err()
        );
    }
}
