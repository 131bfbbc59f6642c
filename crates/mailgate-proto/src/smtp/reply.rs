//! SMTP replies (RFC 5321 section 4.2): one or more lines `250-text` ... `250 text`, with the
//! RFC 3463 enhanced status code (`5.1.1`) after the reply code when the server sends one
//! (RFC 2034 ENHANCEDSTATUSCODES). Parsing is sans-I/O: [`ReplyBuilder`] takes the lines as the
//! client reads them.

use serde::Serialize;
use std::fmt;

/// A server's reply: its code, the enhanced status code if any, and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmtpReply {
    pub code: u16,
    /// RFC 3463 `class.subject.detail`, e.g. `"5.1.1"`.
    pub enhanced: Option<String>,
    /// Every line's text joined with `\n`, without the reply code or the enhanced code.
    pub text: String,
}

impl SmtpReply {
    /// 2xx: the command succeeded.
    pub fn is_positive(&self) -> bool {
        self.code / 100 == 2
    }

    /// 3xx: the server waits for more (354 after DATA, 334 during AUTH).
    pub fn is_intermediate(&self) -> bool {
        self.code / 100 == 3
    }

    /// 4xx: try again later.
    pub fn is_transient(&self) -> bool {
        self.code / 100 == 4
    }

    /// 5xx: the same command will fail the same way.
    pub fn is_permanent(&self) -> bool {
        self.code / 100 == 5
    }

    /// The text's lines (an EHLO reply: the server's name, then one capability per line).
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.text.split('\n')
    }
}

/// `550 5.1.1 text`, the lines of a multi-line reply joined with a space so that the reply
/// stays on one line in errors and logs.
impl fmt::Display for SmtpReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(enhanced) = &self.enhanced {
            write!(f, " {enhanced}")?;
        }
        for line in self.lines().filter(|l| !l.is_empty()) {
            write!(f, " {line}")?;
        }
        Ok(())
    }
}

/// The longest reply accepted, all lines together: an EHLO reply is a few hundred bytes; a
/// server that keeps sending `250-` lines is cut off instead of filling memory.
pub(crate) const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Collects the lines of one reply.
#[derive(Debug, Default)]
pub(crate) struct ReplyBuilder {
    code: Option<u16>,
    enhanced: Option<String>,
    lines: Vec<String>,
    bytes: usize,
}

impl ReplyBuilder {
    /// Adds a line (without its line end). Returns the reply after its last line; the error
    /// says what is wrong with the line.
    pub fn push(&mut self, line: &[u8]) -> Result<Option<SmtpReply>, String> {
        self.bytes += line.len();
        if self.bytes > MAX_REPLY_BYTES {
            return Err(format!("a reply longer than {MAX_REPLY_BYTES} bytes"));
        }
        let (code, last, text) = parse_line(line)?;
        match self.code {
            None => {
                self.code = Some(code);
                self.enhanced = enhanced_code(code, &text).map(str::to_owned);
            }
            Some(first) if first != code => {
                return Err(format!(
                    "a multi-line reply whose lines have different codes ({first}, then {code})"
                ));
            }
            Some(_) => {}
        }
        let text = match &self.enhanced {
            Some(e) => strip_enhanced(&text, e).to_owned(),
            None => text,
        };
        self.lines.push(text);
        if !last {
            return Ok(None);
        }
        Ok(Some(SmtpReply {
            code,
            enhanced: self.enhanced.take(),
            text: std::mem::take(&mut self.lines).join("\n"),
        }))
    }
}

/// `Reply-code [SP text]` (the last line) or `Reply-code "-" [text]`: the code, whether the
/// line is the last one, and the text (lossy UTF-8: servers may send 8-bit text).
fn parse_line(line: &[u8]) -> Result<(u16, bool, String), String> {
    let digits = line
        .get(..3)
        .filter(|d| (b'2'..=b'5').contains(&d[0]) && d[1..].iter().all(u8::is_ascii_digit));
    let Some(digits) = digits else {
        return Err("expected a reply code from 200 to 599".into());
    };
    let code = digits
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    let (last, rest) = match line.get(3) {
        None => (true, &[][..]),
        Some(b' ') => (true, &line[4..]),
        Some(b'-') => (false, &line[4..]),
        Some(_) => {
            return Err("expected a space or `-` after the reply code".into());
        }
    };
    Ok((code, last, String::from_utf8_lossy(rest).into_owned()))
}

/// The enhanced status code at the start of `text`, if it has one whose class matches the
/// reply code's (`5.1.1` in a 550 reply, never in a 250 one).
fn enhanced_code(code: u16, text: &str) -> Option<&str> {
    let word = text.split(' ').next()?;
    let mut parts = word.split('.');
    let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
    let number = |p: &str, max: usize| {
        !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
    };
    let ok = parts.next().is_none()
        && class == (code / 100).to_string()
        && number(subject, 3)
        && number(detail, 3);
    ok.then_some(word)
}

/// `text` without a leading `enhanced` code (servers repeat it on every line).
fn strip_enhanced<'a>(text: &'a str, enhanced: &str) -> &'a str {
    match text.strip_prefix(enhanced) {
        Some("") => "",
        Some(rest) if rest.starts_with(' ') => &rest[1..],
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&[u8]]) -> Result<SmtpReply, String> {
        let mut builder = ReplyBuilder::default();
        for (i, line) in lines.iter().enumerate() {
            match builder.push(line)? {
                Some(reply) if i + 1 == lines.len() => return Ok(reply),
                Some(reply) => return Err(format!("ended early: {reply:?}")),
                None => {}
            }
        }
        Err("unfinished".into())
    }

    fn reply(code: u16, enhanced: Option<&str>, text: &str) -> SmtpReply {
        SmtpReply {
            code,
            enhanced: enhanced.map(str::to_owned),
            text: text.to_owned(),
        }
    }

    /// The lines of a reply, and what they parse to (or words of the error).
    type Case = (&'static [&'static [u8]], Result<SmtpReply, &'static str>);

    #[test]
    fn replies_known_answers() {
        #[rustfmt::skip]
        let table: &[Case] = &[
            (&[b"220 mail.example.test ESMTP Postfix"], Ok(reply(220, None, "mail.example.test ESMTP Postfix"))),
            (&[b"250"], Ok(reply(250, None, ""))),
            (&[b"250 2.0.0 Ok: queued as 4F1D2"], Ok(reply(250, Some("2.0.0"), "Ok: queued as 4F1D2"))),
            (&[b"354 End data with <CR><LF>.<CR><LF>"], Ok(reply(354, None, "End data with <CR><LF>.<CR><LF>"))),
            (&[b"334 "], Ok(reply(334, None, ""))),
            (&[b"250-mail.example.test", b"250-PIPELINING", b"250-SIZE 10240000", b"250 8BITMIME"],
                Ok(reply(250, None, "mail.example.test\nPIPELINING\nSIZE 10240000\n8BITMIME"))),
            (&[b"550-5.1.1 The email account that you tried to reach does not exist.", b"550 5.1.1  https://support.google.com/mail/?p=NoSuchUser"],
                Ok(reply(550, Some("5.1.1"), "The email account that you tried to reach does not exist.\n https://support.google.com/mail/?p=NoSuchUser"))),
            (&[b"535 5.7.8"], Ok(reply(535, Some("5.7.8"), ""))),
            // The class must match the code; otherwise it is text.
            (&[b"250 5.1.1 odd"], Ok(reply(250, None, "5.1.1 odd"))),
            (&[b"451 4.3.0.1 odd"], Ok(reply(451, None, "4.3.0.1 odd"))),
            (&[b"452 4.2.2 Mailbox full \xff"], Ok(reply(452, Some("4.2.2"), "Mailbox full \u{fffd}"))),
            (&[b"250-one", b"251 two"], Err("different codes")),
            (&[b"25O ok"], Err("reply code")),
            (&[b"600 no"], Err("reply code")),
            (&[b"150 no"], Err("reply code")),
            (&[b"250_ok"], Err("after the reply code")),
            (&[b"+OK POP3 ready"], Err("reply code")),
            (&[b"* OK IMAP4rev1"], Err("reply code")),
            (&[b""], Err("reply code")),
            (&[b"25"], Err("reply code")),
        ];
        for (lines, want) in table {
            let got = parse(lines);
            match (want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(w, g, "{lines:?}"),
                (Err(w), Err(g)) => assert!(g.contains(w), "{lines:?}: {g}"),
                _ => panic!("{lines:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn display_is_one_line_and_classes_follow_the_code() {
        let r = reply(550, Some("5.1.1"), "No such user\nsee the help page");
        assert_eq!(r.to_string(), "550 5.1.1 No such user see the help page");
        assert!(r.is_permanent() && !r.is_transient() && !r.is_positive());
        assert_eq!(reply(250, None, "").to_string(), "250");
        assert!(reply(421, None, "bye").is_transient());
        assert!(reply(354, None, "go").is_intermediate());
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"code":550,"enhanced":"5.1.1","text":"No such user\nsee the help page"}"#
        );
    }

    #[test]
    fn endless_replies_are_cut_off() {
        let mut builder = ReplyBuilder::default();
        let line = [b"250-".as_slice(), &[b'x'; 1000]].concat();
        let result = (0..100).try_for_each(|_| builder.push(&line).map(drop));
        assert!(result.unwrap_err().contains("longer than"));
    }

    /// Random bytes never panic the parser (a poor man's fuzz target, run in every test run).
    #[test]
    fn the_parser_survives_arbitrary_input() {
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"0123456789 -.\xff\rabc";
        for _ in 0..5000 {
            let mut builder = ReplyBuilder::default();
            for _ in 0..3 {
                let len = (next() % 20) as usize;
                let line: Vec<u8> = (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                if builder.push(&line).is_err() {
                    break;
                }
            }
        }
    }
}
