//! A thin IMAP client for reading a mailbox, generic over the byte stream.
//!
//! Before login the client speaks itself (greeting, CAPABILITY, STARTTLS: [`ImapClient`]), so
//! that the greeting is read before anything is sent (Gmail hangs otherwise), capabilities are
//! known before choosing a mechanism, and no byte is buffered across the TLS upgrade. Login goes
//! through async-imap 0.12 (`AUTHENTICATE` with the failure challenge kept for the diagnosis,
//! `LOGIN`), which then owns the framing and parsing of every answer ([`ImapSession`]). The
//! session sends its commands with async-imap's `run_command` and reads the answers itself:
//! async-imap's own SEARCH and FETCH helpers end at the tagged answer without checking it, so a
//! `NO` would look like "nothing found".
//!
//! async-imap types do not leave this module. Every read and write has the inactivity timeout
//! of [`ImapOptions::timeout`]; a command that fails half-way or is cancelled leaves the
//! session unusable ([`ProtoError::Unusable`]).

mod auth;
mod guard;
mod idle;
mod mutf7;
mod preauth;
mod session;
#[cfg(test)]
mod tests;
mod words;

pub use guard::{LITERAL_MARGIN, Limits, MAX_LITERAL, MAX_RESPONSE_TEXT};
pub use idle::{IdleOutcome, MAX_IDLE};
pub use session::{
    ImapSession, MAX_LISTED_UIDS, REMOVAL_NEEDS_MOVE, REMOVAL_NEEDS_UIDPLUS, Search,
};

use crate::dial::{self, Endpoint, MailStream, Security, Timed};
use crate::error::{Peer, ProtoError};
use crate::lines::{LineReader, Tolerances};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// How the client treats the server.
#[derive(Debug, Clone)]
pub struct ImapOptions {
    /// Inactivity timeout of every read and write (IDLE waits under its own deadline).
    pub timeout: Duration,
    /// Tolerances for the answers read before login (after login async-imap parses).
    pub tolerances: Tolerances,
    /// List new UIDs with `UID FETCH n:* (UID)` instead of `UID SEARCH UID n:*`, for servers
    /// whose SEARCH is missing or slow.
    pub list_uids_with_fetch: bool,
    /// What one answer after login may carry (a FETCH of bodies raises the literal bound to
    /// the bytes asked for plus [`LITERAL_MARGIN`]).
    pub limits: Limits,
}

impl ImapOptions {
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            tolerances: Tolerances::default(),
            list_uids_with_fetch: false,
            limits: Limits::default(),
        }
    }
}

/// What SELECT says about a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectedFolder {
    /// Changes when the server renumbers the folder's UIDs: then every stored UID is void.
    pub uid_validity: u32,
    /// The UID the next message will get, if the server said.
    pub uid_next: Option<u32>,
    /// Number of messages.
    pub exists: u32,
}

/// The server's capabilities, upper-cased (`IMAP4REV1`, `AUTH=XOAUTH2`, `IDLE`, `MOVE`...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities(BTreeSet<String>);

impl Capabilities {
    pub fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        Self(words.into_iter().map(str::to_ascii_uppercase).collect())
    }

    /// True when the server listed `name` (case-insensitive).
    pub fn has(&self, name: &str) -> bool {
        self.0.contains(&name.to_ascii_uppercase())
    }

    /// True when messages can be removed from a folder without touching other clients'
    /// \\Deleted mail: UID EXPUNGE (UIDPLUS), or for a move (`moving`) also MOVE.
    pub fn removes_only_ours(&self, moving: bool) -> bool {
        self.has("UIDPLUS") || (moving && self.has("MOVE"))
    }

    /// True when the server listed `AUTH=<mechanism>`.
    pub fn has_auth(&self, mechanism: &str) -> bool {
        self.has(&format!("AUTH={mechanism}"))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// A connection before login: greeting read, capabilities known, TLS done if asked.
pub struct ImapClient<S> {
    io: LineReader<Timed<S>>,
    peer: Peer,
    options: ImapOptions,
    greeting: String,
    capabilities: Capabilities,
    next_tag: u32,
    busy: bool,
}

impl<S> std::fmt::Debug for ImapClient<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapClient")
            .field("host", &self.peer.host)
            .field("port", &self.peer.port)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

/// Dials `ep`, reads the greeting and the capabilities, and for [`Security::Starttls`] runs
/// STARTTLS (then asks for the capabilities again).
pub async fn connect(
    ep: &Endpoint,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<ImapClient<MailStream>, ProtoError> {
    connect_with(ep, tls, ImapOptions::new(timeout)).await
}

/// [`connect`] with options.
pub async fn connect_with(
    ep: &Endpoint,
    tls: Arc<rustls::ClientConfig>,
    options: ImapOptions,
) -> Result<ImapClient<MailStream>, ProtoError> {
    let stream = dial::connect(ep, tls.clone(), options.timeout).await?;
    let mut client = ImapClient::greet(stream, &ep.host, ep.port, options).await?;
    if ep.security == Security::Starttls {
        client = client.starttls(tls).await?;
    } else if client.capabilities.is_empty() {
        client.capability().await?;
    }
    Ok(client)
}

impl ImapSession<MailStream> {
    /// Same as [`connect`]: the unauthenticated client, to [`ImapClient::login`] with.
    pub async fn connect(
        ep: &Endpoint,
        tls: Arc<rustls::ClientConfig>,
        timeout: Duration,
    ) -> Result<ImapClient<MailStream>, ProtoError> {
        connect(ep, tls, timeout).await
    }
}
