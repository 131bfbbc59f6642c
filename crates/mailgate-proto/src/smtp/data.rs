//! The message as it goes after DATA (RFC 5321 section 4.5.2): every line end made CRLF, a dot
//! doubled at the start of a line, `.` alone to end it. Sans-I/O: [`Body`] fills a buffer a
//! chunk at a time, so a 30 MB message is not copied whole.
//!
//! A bare CR is a line end here too, not only a bare LF: a server that reads a bare CR (or LF)
//! as a line end would otherwise see `\r.\r\n` inside the message as the end of the data and
//! run what follows as commands (SMTP smuggling).

/// The message's lines, without their line ends (CRLF, a bare LF or a bare CR).
#[derive(Debug, Clone)]
pub(crate) struct Lines<'a> {
    rest: &'a [u8],
}

pub(crate) fn lines(message: &[u8]) -> Lines<'_> {
    Lines { rest: message }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        let Some(end) = rest.iter().position(|&b| b == b'\r' || b == b'\n') else {
            self.rest = &[];
            return Some(rest);
        };
        let skip = if rest[end..].starts_with(b"\r\n") {
            2
        } else {
            1
        };
        self.rest = &rest[end + skip..];
        Some(&rest[..end])
    }
}

/// The message's size with CRLF line ends, as RFC 1870 `SIZE=` counts it (without the
/// stuffed dots and the final `.`).
pub(crate) fn wire_size(message: &[u8]) -> u64 {
    lines(message).map(|l| l.len() as u64 + 2).sum()
}

/// True when the message has bytes over 127 (it needs `BODY=8BITMIME`).
pub(crate) fn is_8bit(message: &[u8]) -> bool {
    !message.is_ascii()
}

/// The DATA content of a message, produced a chunk at a time.
#[derive(Debug)]
pub(crate) struct Body<'a> {
    lines: Lines<'a>,
    done: bool,
}

impl<'a> Body<'a> {
    pub fn new(message: &'a [u8]) -> Self {
        Self {
            lines: lines(message),
            done: false,
        }
    }

    /// Appends whole lines to `buf` (cleared first) until it holds at least `chunk` bytes or
    /// the message ends; the last chunk ends with `.` and CRLF. `None` once everything was
    /// given. Every chunk ends with CRLF; a line longer than `chunk` is one chunk.
    pub fn next_chunk<'b>(&mut self, buf: &'b mut Vec<u8>, chunk: usize) -> Option<&'b [u8]> {
        if self.done {
            return None;
        }
        buf.clear();
        while buf.len() < chunk {
            let Some(line) = self.lines.next() else {
                buf.extend_from_slice(b".\r\n");
                self.done = true;
                break;
            };
            if line.starts_with(b".") {
                buf.push(b'.');
            }
            buf.extend_from_slice(line);
            buf.extend_from_slice(b"\r\n");
        }
        Some(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(message: &[u8], chunk: usize) -> Vec<Vec<u8>> {
        let mut body = Body::new(message);
        let mut buf = Vec::new();
        let mut chunks = Vec::new();
        while let Some(c) = body.next_chunk(&mut buf, chunk) {
            chunks.push(c.to_vec());
        }
        chunks
    }

    #[test]
    fn line_ends_become_crlf_and_leading_dots_are_doubled() {
        #[rustfmt::skip]
        let table: &[(&[u8], &[u8])] = &[
            (b"", b".\r\n"),
            (b"a", b"a\r\n.\r\n"),
            (b"a\r\n", b"a\r\n.\r\n"),
            (b"a\nb\n", b"a\r\nb\r\n.\r\n"),
            (b"a\rb", b"a\r\nb\r\n.\r\n"),
            (b"\r\n\r\n", b"\r\n\r\n.\r\n"),
            (b"\n\n", b"\r\n\r\n.\r\n"),
            (b".\r\n", b"..\r\n.\r\n"),
            (b".", b"..\r\n.\r\n"),
            (b"..two\r\n", b"...two\r\n.\r\n"),
            (b"x\r\n.\r\ny", b"x\r\n..\r\ny\r\n.\r\n"),
            (b"x\n.\ny", b"x\r\n..\r\ny\r\n.\r\n"),
            // Smuggling attempts end up as stuffed lines.
            (b"x\r.\r\nMAIL FROM:<evil>", b"x\r\n..\r\nMAIL FROM:<evil>\r\n.\r\n"),
            (b"x\n.\r\nRCPT", b"x\r\n..\r\nRCPT\r\n.\r\n"),
            (b"not. a dot\r\n", b"not. a dot\r\n.\r\n"),
        ];
        for (message, wire) in table {
            assert_eq!(encode(message, 1 << 16).concat(), *wire, "{message:?}");
            // Chunk by chunk, the same bytes.
            assert_eq!(encode(message, 1).concat(), *wire, "{message:?}");
            let content = &wire[..wire.len() - 3];
            assert_eq!(
                wire_size(message),
                content.len() as u64
                    - lines(message).filter(|l| l.starts_with(b".")).count() as u64,
                "{message:?}"
            );
        }
    }

    #[test]
    fn chunks_end_on_line_ends_and_stay_near_the_chunk_size() {
        let line = [b'x'; 99];
        let message: Vec<u8> = (0..1000)
            .flat_map(|_| [&line[..], b"\n"].concat())
            .collect();
        let chunks = encode(&message, 4096);
        assert!(chunks.len() > 20);
        for c in &chunks {
            assert!(c.ends_with(b"\r\n"));
            assert!(c.len() < 4096 + 103, "{}", c.len());
        }
        assert_eq!(chunks.concat().len(), 1000 * 101 + 3);
        assert!(is_8bit("é".as_bytes()) && !is_8bit(b"plain"));
    }
}
