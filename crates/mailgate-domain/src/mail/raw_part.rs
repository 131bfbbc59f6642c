//! Where an attachment's bytes stand in the raw message, and how to decode them from there:
//! a store keeps the raw message anyway, so it need not keep a second, decoded copy of every
//! large attachment. The decoder is ours (not mail-parser's, whose rules may change with its
//! versions), and a [`RawPart`] is only handed out when decoding it gives the attachment's
//! bytes exactly.

/// How the bytes of a part are encoded in the raw message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartEncoding {
    /// As they are (7bit, 8bit, binary).
    Identity,
    Base64,
}

impl PartEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            PartEncoding::Identity => "identity",
            PartEncoding::Base64 => "base64",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Identity, Self::Base64]
            .into_iter()
            .find(|e| e.as_str() == text)
    }

    /// The part's bytes from its encoded form; `None` when that is not valid.
    pub fn decode(self, encoded: &[u8]) -> Option<Vec<u8>> {
        match self {
            PartEncoding::Identity => Some(encoded.to_vec()),
            PartEncoding::Base64 => base64(encoded),
        }
    }

    /// Whether `encoded` decodes to exactly `content`.
    pub(crate) fn decodes_to(self, encoded: &[u8], content: &[u8]) -> bool {
        match self {
            PartEncoding::Identity => encoded == content,
            PartEncoding::Base64 => base64(encoded).is_some_and(|d| d == content),
        }
    }
}

/// Bytes `offset..offset + length` of the raw message, in `encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPart {
    pub offset: usize,
    pub length: usize,
    pub encoding: PartEncoding,
}

impl RawPart {
    /// The part's bytes, read from the raw message it came from; `None` when `raw` is too
    /// short or the bytes there do not decode.
    pub fn read(&self, raw: &[u8]) -> Option<Vec<u8>> {
        let encoded = raw.get(self.offset..self.offset.checked_add(self.length)?)?;
        self.encoding.decode(encoded)
    }
}

const INVALID: u8 = 0xff;
const SKIP: u8 = 0xfe;

static BASE64: [u8; 256] = {
    let mut table = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table[b'\r' as usize] = SKIP;
    table[b'\n' as usize] = SKIP;
    table[b' ' as usize] = SKIP;
    table[b'\t' as usize] = SKIP;
    table
};

/// MIME base64: line breaks and blanks skipped, `=` padding only at the end, anything else
/// invalid; a final group of two or three characters gives its one or two bytes.
fn base64(encoded: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded.len() / 4 * 3);
    let (mut group, mut count) = (0u32, 0);
    let mut padded = false;
    for &byte in encoded {
        match BASE64[usize::from(byte)] {
            SKIP => {}
            INVALID if byte == b'=' => padded = true,
            INVALID => return None,
            _ if padded => return None,
            value => {
                group = group << 6 | u32::from(value);
                count += 1;
                if count == 4 {
                    out.extend_from_slice(&group.to_be_bytes()[1..]);
                    (group, count) = (0, 0);
                }
            }
        }
    }
    match count {
        0 => {}
        2 => out.push((group >> 4) as u8),
        3 => out.extend_from_slice(&[(group >> 10) as u8, (group >> 2) as u8]),
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known_answers() {
        for (encoded, want) in [
            (&b"aGVsbG8gd29ybGQ="[..], Some(&b"hello world"[..])),
            (b"aGVs\r\nbG8g\r\nd29y bGQ", Some(b"hello world")),
            (b"", Some(b"")),
            (b"YQ==", Some(b"a")),
            (b"YWI=", Some(b"ab")),
            (b"YQ==YQ==", None),
            (b"Y", None),
            (b"aGVs*bG8=", None),
        ] {
            assert_eq!(base64(encoded).as_deref(), want, "{encoded:?}");
        }
        let bytes: Vec<u8> = (0..=255).cycle().take(10_000).collect();
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let lines: Vec<&[u8]> = encoded.as_bytes().chunks(76).collect();
        assert_eq!(base64(&lines.join(&b"\r\n"[..])), Some(bytes));
    }

    #[test]
    fn a_raw_part_reads_its_range_and_names_round_trip() {
        let raw = b"Subject: x\r\n\r\naGVsbG8=\r\n";
        let part = RawPart {
            offset: 14,
            length: 8,
            encoding: PartEncoding::Base64,
        };
        assert_eq!(part.read(raw).as_deref(), Some(&b"hello"[..]));
        assert_eq!(part.read(&raw[..20]), None, "too short");
        for e in [PartEncoding::Identity, PartEncoding::Base64] {
            assert_eq!(PartEncoding::parse(e.as_str()), Some(e));
        }
        assert_eq!(PartEncoding::parse("quoted-printable"), None);
    }
}
