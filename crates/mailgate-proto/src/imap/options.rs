//! What the client is told (its options) and what the server offers (its capabilities).

use super::guard::Limits;
use crate::lines::Tolerances;
use std::collections::BTreeSet;
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
