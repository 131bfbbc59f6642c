//! Line-oriented reading of server answers (POP3, and IMAP before login), with the tolerances
//! for non-conforming servers as named switches.
//!
//! The reader buffers, so the bytes it read past the last line are handed back with
//! [`LineReader::into_parts`]: before a TLS upgrade they must be empty (anything the server sent
//! before the handshake would otherwise be trusted as if it came over TLS, the STARTTLS
//! injection of CVE-2011-0411), and before async-imap takes over they must be empty too.

use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Accepting what a strict client would refuse. Every switch is off by default: a server that
/// needs one fails with an error naming it, and the admin (or a provider preset) turns it on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tolerances {
    /// Lines ending in a bare LF instead of CRLF (status lines and multi-line answers; inside
    /// a message, the line ends are then kept as the server sent them).
    pub bare_lf: bool,
    /// POP3 `+ok` / `-err` in lower case.
    pub lowercase_status: bool,
    /// A SASL continuation `+` with no space after it (an empty challenge).
    pub continuation_without_space: bool,
    /// More than one space between the fields of STAT / LIST / UIDL lines, or spaces at the end.
    pub loose_spacing: bool,
}

impl Tolerances {
    /// Every switch on, for servers known to be sloppy.
    pub fn lenient() -> Self {
        Self {
            bare_lf: true,
            lowercase_status: true,
            continuation_without_space: true,
            loose_spacing: true,
        }
    }
}

/// Why a line could not be read.
#[derive(Debug)]
pub(crate) enum LineError {
    Io(io::Error),
    /// The connection ended (`partial` holds what came of an unfinished line).
    Eof {
        #[cfg_attr(not(test), allow(dead_code))]
        partial: Vec<u8>,
    },
    /// No line end within `limit` bytes.
    TooLong {
        start: Vec<u8>,
    },
    /// A line ended in a bare LF and [`Tolerances::bare_lf`] is off.
    BareLf {
        line: Vec<u8>,
    },
}

impl From<io::Error> for LineError {
    fn from(e: io::Error) -> Self {
        LineError::Io(e)
    }
}

#[derive(Debug)]
pub(crate) struct LineReader<S> {
    stream: S,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    pos: usize,
}

const READ_CHUNK: usize = 16 * 1024;

impl<S: AsyncRead + AsyncWrite + Unpin> LineReader<S> {
    pub fn new(stream: S) -> Self {
        Self {
            stream,
            buf: Vec::with_capacity(READ_CHUNK),
            pos: 0,
        }
    }

    /// The stream and the bytes read but not consumed.
    pub fn into_parts(self) -> (S, Vec<u8>) {
        let rest = self.buf[self.pos..].to_vec();
        (self.stream, rest)
    }

    #[cfg(test)]
    pub fn has_buffered(&self) -> bool {
        self.pos < self.buf.len()
    }

    /// Writes `line` and CRLF in one write, then flushes. One write is one TLS record and one
    /// TCP segment: a line end sent apart leaves the server waiting for it, and its answer
    /// then waits behind Nagle's algorithm for our delayed ACK (about 40 ms per command).
    pub async fn send(&mut self, line: &[u8]) -> io::Result<()> {
        let mut buf = Vec::with_capacity(line.len() + 2);
        buf.extend_from_slice(line);
        buf.extend_from_slice(b"\r\n");
        self.send_raw(&buf).await
    }

    /// Writes `bytes` as they are in one write, then flushes.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Appends the next line, with its line end, to `out`; returns its length. A line longer
    /// than `limit` fails (with `out` holding its start).
    pub async fn read_line_into(
        &mut self,
        out: &mut Vec<u8>,
        limit: usize,
        tolerances: &Tolerances,
    ) -> Result<usize, LineError> {
        let start = out.len();
        loop {
            let unread = &self.buf[self.pos..];
            if let Some(i) = unread.iter().position(|&b| b == b'\n') {
                let line = &unread[..=i];
                if line.len() > limit {
                    out.extend_from_slice(&line[..limit.min(line.len())]);
                    return Err(LineError::TooLong {
                        start: out[start..].to_vec(),
                    });
                }
                out.extend_from_slice(line);
                self.pos += i + 1;
                let line = &out[start..];
                if !line.ends_with(b"\r\n") && !tolerances.bare_lf {
                    return Err(LineError::BareLf {
                        line: line.to_vec(),
                    });
                }
                return Ok(line.len());
            }
            if unread.len() > limit {
                return Err(LineError::TooLong {
                    start: unread[..limit.min(200)].to_vec(),
                });
            }
            self.fill().await.map_err(|e| match e {
                LineError::Eof { .. } => LineError::Eof {
                    partial: self.buf[self.pos..].to_vec(),
                },
                other => other,
            })?;
        }
    }

    /// The next line, without its line end.
    pub async fn read_line(
        &mut self,
        limit: usize,
        tolerances: &Tolerances,
    ) -> Result<Vec<u8>, LineError> {
        let mut line = Vec::new();
        self.read_line_into(&mut line, limit, tolerances).await?;
        strip_line_end(&mut line);
        Ok(line)
    }

    /// Reads more bytes into the buffer, compacting it first.
    async fn fill(&mut self) -> Result<(), LineError> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + READ_CHUNK, 0);
        let n = self.stream.read(&mut self.buf[len..]).await;
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                self.buf.truncate(len);
                return Err(LineError::Io(e));
            }
        };
        self.buf.truncate(len + n);
        if n == 0 {
            return Err(LineError::Eof {
                partial: Vec::new(),
            });
        }
        Ok(())
    }
}

/// Removes a trailing CRLF or LF.
pub(crate) fn strip_line_end(line: &mut Vec<u8>) {
    if line.ends_with(b"\n") {
        line.pop();
        if line.ends_with(b"\r") {
            line.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_split_across_reads_and_leftovers_are_handed_back() {
        let (client, mut server) = tokio::io::duplex(64);
        let mut reader = LineReader::new(client);
        let strict = Tolerances::default();
        let feeder = tokio::spawn(async move {
            server.write_all(b"+OK hel").await.unwrap();
            tokio::task::yield_now().await;
            server.write_all(b"lo\r\n+OK two\r\nextra").await.unwrap();
            server
        });
        assert_eq!(reader.read_line(512, &strict).await.unwrap(), b"+OK hello");
        assert_eq!(reader.read_line(512, &strict).await.unwrap(), b"+OK two");
        let _server = feeder.await.unwrap();
        // Give the reader the chance to have buffered "extra".
        assert!(reader.has_buffered());
        let (_, rest) = reader.into_parts();
        assert_eq!(rest, b"extra");
    }

    #[tokio::test]
    async fn bare_lf_is_refused_unless_tolerated_and_long_lines_are_cut() {
        let (client, mut server) = tokio::io::duplex(4096);
        server.write_all(b"+OK bare\n+OK bare\n").await.unwrap();
        server.write_all(&[b'x'; 1000]).await.unwrap();
        drop(server);
        let mut reader = LineReader::new(client);
        let e = reader.read_line(512, &Tolerances::default()).await;
        assert!(matches!(e, Err(LineError::BareLf { .. })), "{e:?}");
        let lenient = Tolerances {
            bare_lf: true,
            ..Tolerances::default()
        };
        assert_eq!(reader.read_line(512, &lenient).await.unwrap(), b"+OK bare");
        let e = reader.read_line(512, &lenient).await;
        assert!(matches!(e, Err(LineError::TooLong { .. })), "{e:?}");
    }

    #[tokio::test]
    async fn the_end_of_the_stream_keeps_the_partial_line() {
        let (client, mut server) = tokio::io::duplex(64);
        server.write_all(b"+OK cut").await.unwrap();
        drop(server);
        let mut reader = LineReader::new(client);
        match reader.read_line(512, &Tolerances::default()).await {
            Err(LineError::Eof { partial }) => assert_eq!(partial, b"+OK cut"),
            other => panic!("{other:?}"),
        }
    }
}
