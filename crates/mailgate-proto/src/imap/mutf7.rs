//! Folder names on the wire: IMAP's modified UTF-7 (RFC 3501 section 5.1.3), so that
//! `Entrée` or `[Gmail]/Корзина` can be selected and moved to.

use base64::Engine as _;
use base64::alphabet::IMAP_MUTF7;
use base64::engine::{GeneralPurpose, general_purpose::NO_PAD};

const ENGINE: GeneralPurpose = GeneralPurpose::new(&IMAP_MUTF7, NO_PAD);

/// Encodes a folder name: printable ASCII as is (`&` as `&-`), everything else as `&<base64 of
/// UTF-16BE>-`.
pub(crate) fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&ENGINE.encode(bytes));
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        for (name, wire) in [
            ("INBOX", "INBOX"),
            ("Archive", "Archive"),
            ("Tom & Jerry", "Tom &- Jerry"),
            ("Entrée", "Entr&AOk-e"),
            ("台北/日本語", "&U,BTFw-/&ZeVnLIqe-"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("\u{1f600}", "&2D3eAA-"),
        ] {
            assert_eq!(encode(name), wire, "{name}");
        }
    }
}
