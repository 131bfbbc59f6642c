//! async-imap's errors after login as [`ProtoError`]s.

use super::guard;
use super::words;
use crate::error::{Peer, ProtoError};
use mailgate_domain::troubleshoot::MailProtocol;
use std::io;

/// An I/O error from async-imap's stream: its parse failures come as `Other` errors that
/// quote the unparsable input.
pub(super) fn io_error(peer: &Peer, what: &str, e: io::Error) -> ProtoError {
    let text = e.to_string();
    if e.kind() == io::ErrorKind::Other && text.contains("during parsing of") {
        let input = text
            .split_once("during parsing of ")
            .map(|(_, input)| input)
            .unwrap_or(&text);
        return peer.protocol_error(
            format!("an answer that does not parse in {what}"),
            input.as_bytes(),
        );
    }
    if let Some(over) = guard::exceeded(&e) {
        return peer.over_limit(format!("{} in {what}", over.what), over.size, over.limit);
    }
    if e.kind() == io::ErrorKind::Other && text.contains("incoming data too large") {
        return peer.protocol_error(format!("an answer over 512 MiB in {what}"), b"");
    }
    peer.io(what, e)
}

/// Any async-imap error outside login.
pub(super) fn imap_error(peer: &Peer, what: &str, e: async_imap::error::Error) -> ProtoError {
    use async_imap::error::Error;
    match e {
        Error::Io(e) => io_error(peer, what, e),
        Error::ConnectionLost => peer.closed(what),
        Error::No(rendered) => ProtoError::Rejected {
            protocol: MailProtocol::Imap,
            command: what.trim_start_matches("the answer to ").to_owned(),
            reply: words::from_async_imap("NO", &rendered),
        },
        Error::Bad(rendered) => ProtoError::Rejected {
            protocol: MailProtocol::Imap,
            command: what.trim_start_matches("the answer to ").to_owned(),
            reply: words::from_async_imap("BAD", &rendered),
        },
        Error::Validate(v) => {
            ProtoError::InvalidInput(format!("a character IMAP cannot carry: {:?}", v.0))
        }
        other => peer.protocol_error(
            format!("an answer async-imap could not read in {what}"),
            other.to_string().as_bytes(),
        ),
    }
}
