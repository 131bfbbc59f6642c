//! Plain text: from HTML bodies (for messages without a text part) and cleaned for storage.

/// Elements whose content is never text (and whose closing tag we skip to).
const SKIPPED: &[&str] = &["script", "style", "title", "template"];
/// Elements that stand apart from the text around them by an empty line.
const PARAGRAPHS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "dl",
    "blockquote",
    "pre",
    "table",
    "form",
    "fieldset",
    "figure",
    "address",
];
/// Elements that start on a line of their own.
const LINES: &[&str] = &[
    "div", "li", "tr", "dt", "dd", "hr", "section", "article", "header", "footer", "nav", "aside",
    "main", "center", "caption", "body", "html",
];

/// Named character references worth knowing in mail; others are kept as written.
const ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("copy", '©'),
    ("reg", '®'),
    ("trade", '™'),
    ("hellip", '…'),
    ("mdash", '—'),
    ("ndash", '–'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("sbquo", '‚'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("bdquo", '„'),
    ("laquo", '«'),
    ("raquo", '»'),
    ("euro", '€'),
    ("pound", '£'),
    ("yen", '¥'),
    ("cent", '¢'),
    ("sect", '§'),
    ("para", '¶'),
    ("deg", '°'),
    ("middot", '·'),
    ("bull", '•'),
    ("times", '×'),
    ("divide", '÷'),
    ("plusmn", '±'),
    ("iexcl", '¡'),
    ("iquest", '¿'),
    ("szlig", 'ß'),
    ("auml", 'ä'),
    ("ouml", 'ö'),
    ("uuml", 'ü'),
    ("Auml", 'Ä'),
    ("Ouml", 'Ö'),
    ("Uuml", 'Ü'),
    ("aacute", 'á'),
    ("eacute", 'é'),
    ("iacute", 'í'),
    ("oacute", 'ó'),
    ("uacute", 'ú'),
    ("agrave", 'à'),
    ("egrave", 'è'),
    ("ograve", 'ò'),
    ("acirc", 'â'),
    ("ecirc", 'ê'),
    ("ocirc", 'ô'),
    ("ccedil", 'ç'),
    ("ntilde", 'ñ'),
    ("Eacute", 'É'),
    ("zwnj", '\u{200c}'),
    ("zwj", '\u{200d}'),
    ("shy", '\u{ad}'),
];

/// The text a person reads in an HTML body: tags stripped, character references decoded,
/// block elements as line breaks (paragraphs as an empty line), whitespace collapsed as a
/// browser does (kept inside `<pre>`), scripts, styles and comments dropped. Linear in the
/// input, total on any string.
pub fn html_to_text(html: &str) -> String {
    let mut out = Out::default();
    let mut pre = 0usize;
    let mut pos = 0;
    let mut unclosed: Vec<String> = Vec::new();
    while pos < html.len() {
        let Some(next) = html[pos..].find(['<', '&']).map(|i| pos + i) else {
            out.text(&html[pos..], pre > 0);
            break;
        };
        out.text(&html[pos..next], pre > 0);
        let rest = &html[next..];
        if rest.starts_with('&') {
            match entity(rest) {
                Some((c, len)) => {
                    out.text(c.encode_utf8(&mut [0; 4]), pre > 0);
                    pos = next + len;
                }
                None => {
                    out.text("&", pre > 0);
                    pos = next + 1;
                }
            }
            continue;
        }
        if let Some(comment) = rest.strip_prefix("<!--") {
            pos = comment.find("-->").map_or(html.len(), |i| next + 4 + i + 3);
            continue;
        }
        let Some(tag) = Tag::parse(rest) else {
            out.text("<", pre > 0);
            pos = next + 1;
            continue;
        };
        pos = next + tag.len;
        let name = tag.name.as_str();
        if !tag.closing && !tag.self_closing && SKIPPED.contains(&name) {
            // Without a closing tag only the tag itself goes, not the rest of the body; and
            // that is remembered, or "<script>" repeated would make this quadratic.
            let closing = (!unclosed.contains(&tag.name))
                .then(|| find_ascii_ci(&html[pos..], &format!("</{name}")))
                .flatten();
            match closing {
                Some(end) => {
                    let after = pos + end;
                    pos = html[after..]
                        .find('>')
                        .map_or(html.len(), |i| after + i + 1);
                }
                None => unclosed.push(tag.name),
            }
            continue;
        }
        match name {
            "br" => out.line_break(),
            "td" | "th" if !tag.closing => out.space = true,
            "pre" if tag.closing => pre = pre.saturating_sub(1),
            "pre" if !tag.self_closing => pre += 1,
            _ => {}
        }
        if PARAGRAPHS.contains(&name) {
            out.block(2);
        } else if LINES.contains(&name) {
            out.block(1);
        }
    }
    out.finish()
}

#[derive(Default)]
struct Out {
    s: String,
    /// Line breaks owed before the next character.
    pending: u8,
    /// A collapsed space owed before the next character.
    space: bool,
}

impl Out {
    fn text(&mut self, segment: &str, pre: bool) {
        for c in segment.chars() {
            match c {
                '\n' if pre => self.line_break(),
                '\r' if pre => {}
                ' ' | '\t' | '\n' | '\r' | '\x0c' if !pre => self.space = true,
                '\u{a0}' => self.push(' '),
                c => self.push(c),
            }
        }
    }

    fn push(&mut self, c: char) {
        if !self.s.is_empty() {
            if self.pending > 0 {
                self.trim_line_end();
                for _ in 0..self.pending {
                    self.s.push('\n');
                }
            } else if self.space {
                self.s.push(' ');
            }
        }
        self.pending = 0;
        self.space = false;
        self.s.push(c);
    }

    fn block(&mut self, lines: u8) {
        self.pending = self.pending.max(lines);
        self.space = false;
    }

    fn line_break(&mut self) {
        self.pending = (self.pending + 1).min(2);
        self.space = false;
    }

    fn trim_line_end(&mut self) {
        let kept = self.s.trim_end_matches([' ', '\t']).len();
        self.s.truncate(kept);
    }

    fn finish(mut self) -> String {
        self.trim_line_end();
        self.s
    }
}

struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
    /// Bytes from `<` to `>` inclusive (to the end of the input when `>` is missing).
    len: usize,
}

impl Tag {
    /// `None` when `<` does not start a tag (`a < b`), which is then text.
    fn parse(s: &str) -> Option<Tag> {
        let bytes = s.as_bytes();
        let mut i = 1;
        let closing = bytes.get(1) == Some(&b'/');
        if closing {
            i += 1;
        }
        let declaration = !closing && matches!(bytes.get(1), Some(b'!' | b'?'));
        let name_start = i;
        while bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric()) {
            i += 1;
        }
        if i == name_start && !declaration {
            return None;
        }
        let name = s[name_start..i].to_ascii_lowercase();
        // Find the `>` that ends the tag, skipping quoted attribute values.
        let mut quote = None;
        let mut end = None;
        for (j, &b) in bytes.iter().enumerate().skip(i) {
            match (quote, b) {
                (None, b'"' | b'\'') => quote = Some(b),
                (Some(q), b) if b == q => quote = None,
                (None, b'>') => {
                    end = Some(j);
                    break;
                }
                _ => {}
            }
        }
        let len = end.map_or(s.len(), |e| e + 1);
        let self_closing = end.is_some_and(|e| e > 0 && bytes[e - 1] == b'/');
        Some(Tag {
            name,
            closing,
            self_closing,
            len,
        })
    }
}

/// A character reference at the start of `s` (`&amp;`, `&#8211;`, `&#x20;`) and its length.
fn entity(s: &str) -> Option<(char, usize)> {
    // `;` is ASCII, so its index is a char boundary whatever the text around it.
    let end = s.bytes().take(34).position(|b| b == b';')?;
    let body = &s[1..end];
    let c = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        match code {
            0 => '\u{fffd}',
            c => char::from_u32(c).unwrap_or('\u{fffd}'),
        }
    } else {
        ENTITIES.iter().find(|(n, _)| *n == body)?.1
    };
    Some((c, end + 1))
}

/// Case-insensitive ASCII search.
fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// A body for storage: `\n` line ends, no control characters but tab and newline (PostgreSQL
/// refuses NUL in text), no leading empty lines and no trailing whitespace.
pub(crate) fn clean_body(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let cleaned: String = text
        .chars()
        .filter_map(|c| match c {
            '\r' => Some('\n'),
            '\n' | '\t' => Some(c),
            '\u{feff}' => None,
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    cleaned.trim_end().trim_start_matches('\n').to_owned()
}

/// A header value on one line: control characters become spaces, then trimmed.
pub(crate) fn clean_line(value: &str) -> String {
    let line: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    line.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_to_text_known_answers() {
        let cases = [
            ("", ""),
            ("plain", "plain"),
            ("<p>a</p><p>b</p>", "a\n\nb"),
            ("a<br>b<br/><br />c", "a\nb\n\nc"),
            ("  a \n\t b  ", "a b"),
            ("<div>a</div><div>b</div>", "a\nb"),
            ("<ul><li>x</li><li>y</li></ul>after", "x\ny\n\nafter"),
            (
                "&lt;tag&gt; &amp;amp; &quot;q&quot; &#8364; &#x41; &bogus; &amp",
                "<tag> &amp; \"q\" € A &bogus; &amp",
            ),
            ("HP&nbsp;&nbsp;4050", "HP  4050"),
            (
                "&#0; &#xD800; &#99999999; &#999999999999;",
                "\u{fffd} \u{fffd} \u{fffd} &#999999999999;",
            ),
            (
                "&amp;ééééééééééééééééééééééééééééé",
                "&ééééééééééééééééééééééééééééé",
            ),
            ("<script>var a = '<p>';</script>x<style>p{}</style>y", "xy"),
            ("<SCRIPT type=x>hidden</Script >shown", "shown"),
            ("<script>never closed", "never closed"),
            ("a<!-- <p>hidden</p> -->b<!-- unterminated", "ab"),
            ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
            ("<a href=\"x>y\" title='>'>link</a>", "link"),
            (
                "<pre>  keep\n    this</pre>after",
                "  keep\n    this\n\nafter",
            ),
            (
                "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
                "a b\nc",
            ),
            (
                "<!DOCTYPE html><html><head><title>T</title></head><body>x</body></html>",
                "x",
            ),
            ("<p>unclosed <b>bold", "unclosed bold"),
            ("<", "<"),
            ("<p", ""),
            ("é<br>ü", "é\nü"),
        ];
        for (html, want) in cases {
            assert_eq!(html_to_text(html), want, "{html:?}");
        }
    }

    #[test]
    fn clean_known_answers() {
        assert_eq!(clean_body("\r\n\r\nA\r\nB\rC\0D\u{7}\t \n\n"), "A\nB\nCD");
        assert_eq!(clean_body("\u{feff}x"), "x");
        assert_eq!(clean_line(" a\tb\r\nc\0 "), "a b  c");
    }
}
