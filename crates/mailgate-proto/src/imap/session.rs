//! The logged-in IMAP session: SELECT, listing new UIDs, FETCH, flags, MOVE / COPY, EXPUNGE,
//! NOOP, LOGOUT. Commands go out through async-imap; their answers are read here, so that every
//! tagged `NO` / `BAD` becomes an error with the server's words.

use super::guard::{self, Guarded, Limits};
use super::words::status_words;
use super::{Capabilities, ImapOptions, SelectedFolder, mutf7};
use crate::dial::{MailStream, Timed};
use crate::error::{Peer, ProtoError};
use async_imap::imap_proto::{
    AttributeValue, Capability, MailboxDatum, Response, ResponseCode, Status,
};
use mailgate_domain::troubleshoot::MailProtocol;
use std::collections::HashMap;
use std::fmt::Debug;
use std::io;
use tokio::io::{AsyncRead, AsyncWrite};

/// What [`ImapSession::uids_matching`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// Messages without `\\Seen`.
    Unseen,
    /// Messages received on or after this day (their internal date).
    ReceivedSince(chrono::NaiveDate),
}

/// A logged-in IMAP connection.
pub struct ImapSession<S = MailStream>
where
    S: AsyncRead + AsyncWrite + Unpin + Debug,
{
    pub(super) session: async_imap::Session<Guarded<Timed<S>>>,
    pub(super) peer: Peer,
    pub(super) options: ImapOptions,
    pub(super) capabilities: Capabilities,
    pub(super) selected: Option<String>,
    /// An `* n EXISTS` arrived since the last IDLE: new mail may be waiting.
    pub(super) new_mail: bool,
    pub(super) busy: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Debug> Debug for ImapSession<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSession")
            .field("host", &self.peer.host)
            .field("port", &self.peer.port)
            .field("selected", &self.selected)
            .field("usable", &!self.busy)
            .finish_non_exhaustive()
    }
}

/// What the answer loop does with one response.
enum Seen {
    Ours(Result<(), String>),
    Stale,
    Bye(String),
    Exists,
    Continue,
    Data,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Debug + Send> ImapSession<S> {
    /// Wraps a session async-imap just logged in, and asks for the capabilities after login
    /// (servers list more then: MOVE, UIDPLUS, IDLE...).
    pub(super) async fn start(
        session: async_imap::Session<Guarded<Timed<S>>>,
        peer: Peer,
        options: ImapOptions,
    ) -> Result<Self, ProtoError> {
        let mut this = Self {
            session,
            peer,
            options,
            capabilities: Capabilities::default(),
            selected: None,
            new_mail: false,
            busy: false,
        };
        this.refresh_capabilities().await?;
        Ok(this)
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// True when the server offers IDLE (without it, [`ImapSession::idle`] polls with NOOP).
    pub fn supports_idle(&self) -> bool {
        self.capabilities.has("IDLE")
    }

    /// The folder last selected.
    pub fn selected(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    /// Asks for the capabilities again.
    pub async fn refresh_capabilities(&mut self) -> Result<&Capabilities, ProtoError> {
        let mut words = Vec::new();
        self.run("CAPABILITY", "CAPABILITY", |resp| {
            if let Response::Capabilities(caps) = resp {
                for cap in caps {
                    words.push(match cap {
                        Capability::Imap4rev1 => "IMAP4REV1".to_owned(),
                        Capability::Auth(m) => format!("AUTH={m}"),
                        Capability::Atom(a) => a.to_string(),
                    });
                }
            }
        })
        .await?;
        self.capabilities = Capabilities::from_words(words.iter().map(String::as_str));
        Ok(&self.capabilities)
    }

    /// SELECT: opens `folder` (UTF-8; sent in modified UTF-7) read-write.
    pub async fn select(&mut self, folder: &str) -> Result<SelectedFolder, ProtoError> {
        let command = format!("SELECT {}", quoted(&mutf7::encode(folder))?);
        let (mut uid_validity, mut uid_next, mut exists) = (None, None, 0);
        self.run(&command, &format!("SELECT {folder}"), |resp| match resp {
            Response::Data {
                status: Status::Ok,
                outcome,
            } => match &outcome.code {
                Some(ResponseCode::UidValidity(v)) => uid_validity = Some(*v),
                Some(ResponseCode::UidNext(n)) => uid_next = Some(*n),
                _ => {}
            },
            Response::MailboxData(MailboxDatum::Exists(n)) => exists = *n,
            _ => {}
        })
        .await?;
        // The EXISTS of SELECT is the folder's size, not new mail.
        self.new_mail = false;
        self.selected = Some(folder.to_owned());
        let uid_validity = uid_validity.ok_or_else(|| {
            self.peer.protocol_error(
                "an answer to SELECT without UIDVALIDITY",
                command.as_bytes(),
            )
        })?;
        Ok(SelectedFolder {
            uid_validity,
            uid_next,
            exists,
        })
    }

    /// The UIDs above `after` in the selected folder, ascending. `n:*` also matches the last
    /// message when `n` is above every UID (RFC 3501 reads it as `*:n`), so the answer is
    /// filtered, not trusted.
    pub async fn uids_since(&mut self, after: u32) -> Result<Vec<u32>, ProtoError> {
        let Some(first) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        let mut uids = Listing::default();
        if self.options.list_uids_with_fetch {
            self.run(&format!("UID FETCH {first}:* (UID)"), "UID FETCH", |resp| {
                if let Response::Fetch(_, attrs) = resp {
                    uids.extend(attrs.iter().find_map(|a| match a {
                        AttributeValue::Uid(u) => Some(*u),
                        _ => None,
                    }));
                }
            })
            .await?;
        } else {
            self.run(&format!("UID SEARCH UID {first}:*"), "UID SEARCH", |resp| {
                if let Response::MailboxData(MailboxDatum::Search(found)) = resp {
                    uids.extend(found.iter().copied());
                }
            })
            .await?;
        }
        let mut uids = uids.into_vec(&self.peer)?;
        uids.retain(|&u| u > after);
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }

    /// The UIDs up to `last` in the selected folder, ascending; only those without `\\Seen`
    /// when `unseen_only` (what a mark-as-seen left undone would find).
    pub async fn uids_up_to(
        &mut self,
        last: u32,
        unseen_only: bool,
    ) -> Result<Vec<u32>, ProtoError> {
        if last == 0 {
            return Ok(Vec::new());
        }
        let unseen = if unseen_only { " UNSEEN" } else { "" };
        let mut uids = Listing::default();
        self.run(
            &format!("UID SEARCH UID 1:{last}{unseen}"),
            "UID SEARCH",
            |resp| {
                if let Response::MailboxData(MailboxDatum::Search(found)) = resp {
                    uids.extend(found.iter().copied());
                }
            },
        )
        .await?;
        let mut uids = uids.into_vec(&self.peer)?;
        uids.retain(|&u| u <= last);
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }

    /// The UIDs of the selected folder that match `search`, ascending.
    pub async fn uids_matching(&mut self, search: Search) -> Result<Vec<u32>, ProtoError> {
        let criterion = match search {
            Search::Unseen => "UNSEEN".to_owned(),
            // RFC 9051 date: 1-Feb-1994; SINCE compares the internal (received) date.
            Search::ReceivedSince(day) => format!("SINCE {}", day.format("%-d-%b-%Y")),
        };
        let mut uids: Vec<u32> = Vec::new();
        self.run(&format!("UID SEARCH {criterion}"), "UID SEARCH", |resp| {
            if let Response::MailboxData(MailboxDatum::Search(found)) = resp {
                uids.extend_from_slice(found);
            }
        })
        .await?;
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }

    /// The UIDs above `after` with their sizes (RFC822.SIZE), ascending: what is new and how
    /// large, so that it can be fetched in batches of bounded size. Filtered like
    /// [`ImapSession::uids_since`].
    pub async fn sizes_since(&mut self, after: u32) -> Result<Vec<(u32, u64)>, ProtoError> {
        let Some(first) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        let mut found = Listing::default();
        let command = format!("UID FETCH {first}:* (UID RFC822.SIZE)");
        self.run(&command, "UID FETCH", |resp| {
            if let Response::Fetch(_, attrs) = resp {
                let uid = attrs.iter().find_map(|a| match a {
                    AttributeValue::Uid(u) => Some(*u),
                    _ => None,
                });
                let size = attrs.iter().find_map(|a| match a {
                    AttributeValue::Rfc822Size(s) => Some(u64::from(*s)),
                    _ => None,
                });
                // Flag changes of other messages may come in between, without a size.
                if let (Some(uid), Some(size)) = (uid, size) {
                    found.extend([(uid, size)]);
                }
            }
        })
        .await?;
        let mut found = found.into_vec(&self.peer)?;
        found.retain(|&(u, _)| u > after);
        found.sort_unstable();
        found.dedup_by_key(|(u, _)| *u);
        Ok(found)
    }

    /// The raw message with UID `uid`: [`ImapSession::fetch_many`] for one.
    pub async fn fetch(&mut self, uid: u32, max_bytes: usize) -> Result<Vec<u8>, ProtoError> {
        let mut fetched = self.fetch_many(&[uid], max_bytes).await?;
        match fetched.pop() {
            Some((_, body)) => body,
            None => Err(ProtoError::NoSuchMessage {
                id: format!("UID {uid}"),
            }),
        }
    }

    /// The raw messages with these UIDs, in one command (`BODY.PEEK[]`: the \Seen flag is left
    /// alone), in the order asked. At most `max_bytes + 1` bytes of each are asked for (a
    /// partial fetch), so a message over the cap costs no more than the cap and comes back as
    /// [`ProtoError::TooLarge`]; one the server did not return (expunged meanwhile) as
    /// [`ProtoError::NoSuchMessage`]. Either way the session stays usable.
    pub async fn fetch_many(
        &mut self,
        uids: &[u32],
        max_bytes: usize,
    ) -> Result<Vec<(u32, Result<Vec<u8>, ProtoError>)>, ProtoError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let ask = (max_bytes as u64)
            .saturating_add(1)
            .min(u64::from(u32::MAX));
        let mut found: HashMap<u32, (Option<u64>, Option<Vec<u8>>)> =
            uids.iter().map(|&u| (u, (None, None))).collect();
        let command = format!(
            "UID FETCH {} (UID RFC822.SIZE BODY.PEEK[]<0.{ask}>)",
            uid_set(uids)
        );
        // Each answer carries one body of at most `ask` bytes: a larger literal fails the
        // connection before it is allocated (see `guard`).
        let limits = self.options.limits;
        self.session.get_mut().set_limits(Limits {
            literal: ask.saturating_add(guard::LITERAL_MARGIN),
            ..limits
        });
        let result = self
            .run(&command, "UID FETCH", |resp| {
                let Response::Fetch(_, attrs) = resp else {
                    return;
                };
                // Other messages' FETCH (flag changes) may come in between: only ours count.
                let uid = attrs.iter().find_map(|a| match a {
                    AttributeValue::Uid(u) => Some(*u),
                    _ => None,
                });
                let Some(entry) = uid.and_then(|u| found.get_mut(&u)) else {
                    return;
                };
                for attr in attrs {
                    match attr {
                        AttributeValue::Rfc822Size(s) => entry.0 = Some(u64::from(*s)),
                        AttributeValue::BodySection {
                            section: None,
                            data: Some(data),
                            ..
                        } => entry.1 = Some(data.to_vec()),
                        _ => {}
                    }
                }
            })
            .await;
        self.session.get_mut().set_limits(limits);
        result?;
        let mut answer = |uid: u32| {
            let (size, body) = found.remove(&uid).unwrap_or_default();
            match body {
                None => Err(ProtoError::NoSuchMessage {
                    id: format!("UID {uid}"),
                }),
                Some(body) if body.len() > max_bytes => Err(ProtoError::TooLarge {
                    id: format!("UID {uid}"),
                    size,
                    max: max_bytes as u64,
                }),
                Some(body) => Ok(body),
            }
        };
        Ok(uids.iter().map(|&uid| (uid, answer(uid))).collect())
    }

    /// Adds the \Seen flag.
    pub async fn mark_seen(&mut self, uids: &[u32]) -> Result<(), ProtoError> {
        self.store(uids, "\\Seen").await
    }

    /// Moves the messages to `folder`: MOVE (RFC 6851) when offered, else COPY, \Deleted and
    /// UID EXPUNGE (UIDPLUS). Without either it is refused before anything is sent (see
    /// [`ImapSession::removes_only_ours`]).
    pub async fn move_to(&mut self, uids: &[u32], folder: &str) -> Result<(), ProtoError> {
        if uids.is_empty() {
            return Ok(());
        }
        self.removes_only_ours(true)?;
        let target = quoted(&mutf7::encode(folder))?;
        let set = uid_set(uids);
        if self.capabilities.has("MOVE") {
            return self
                .run(
                    &format!("UID MOVE {set} {target}"),
                    &format!("MOVE to {folder}"),
                    ignore,
                )
                .await;
        }
        self.run(
            &format!("UID COPY {set} {target}"),
            &format!("COPY to {folder}"),
            ignore,
        )
        .await?;
        self.store(uids, "\\Deleted").await?;
        self.expunge(uids).await
    }

    /// Deletes the messages: \Deleted, then UID EXPUNGE. Refused without UIDPLUS before
    /// anything is sent (see [`ImapSession::removes_only_ours`]).
    pub async fn delete(&mut self, uids: &[u32]) -> Result<(), ProtoError> {
        if uids.is_empty() {
            return Ok(());
        }
        self.removes_only_ours(false)?;
        self.store(uids, "\\Deleted").await?;
        self.expunge(uids).await
    }

    /// Whether this server can remove mailgate's messages from the folder without touching
    /// anyone else's: a plain EXPUNGE removes every message flagged \Deleted in the folder,
    /// also those another client (a person's mail program) flagged and meant to keep until
    /// it expunges itself, so only UID EXPUNGE (UIDPLUS, RFC 4315) or, for a move, MOVE
    /// (RFC 6851) will do. `Err` is [`ProtoError::NotOffered`] naming what is missing.
    pub fn removes_only_ours(&self, moving: bool) -> Result<(), ProtoError> {
        if self.capabilities.removes_only_ours(moving) {
            return Ok(());
        }
        Err(self.peer.not_offered(if moving {
            REMOVAL_NEEDS_MOVE
        } else {
            REMOVAL_NEEDS_UIDPLUS
        }))
    }

    /// NOOP: keeps the session alive and collects news (an EXISTS makes the next IDLE return
    /// at once).
    pub async fn noop(&mut self) -> Result<(), ProtoError> {
        self.run("NOOP", "NOOP", ignore).await
    }

    /// LOGOUT. Errors only say the goodbye was not clean; the connection is closed anyway.
    pub async fn logout(mut self) -> Result<(), ProtoError> {
        self.run("LOGOUT", "LOGOUT", ignore).await
    }

    async fn store(&mut self, uids: &[u32], flag: &str) -> Result<(), ProtoError> {
        if uids.is_empty() {
            return Ok(());
        }
        self.run(
            &format!("UID STORE {} +FLAGS.SILENT ({flag})", uid_set(uids)),
            &format!("STORE {flag}"),
            ignore,
        )
        .await
    }

    async fn expunge(&mut self, uids: &[u32]) -> Result<(), ProtoError> {
        if uids.is_empty() {
            return Ok(());
        }
        // Callers checked `removes_only_ours`: never a plain EXPUNGE.
        self.run(
            &format!("UID EXPUNGE {}", uid_set(uids)),
            "UID EXPUNGE",
            ignore,
        )
        .await
    }

    /// Runs one command; a failure that leaves the answer half read keeps the session marked
    /// busy (unusable). `name` names the command in errors (no secrets in commands here).
    pub(super) async fn run(
        &mut self,
        command: &str,
        name: &str,
        on_data: impl FnMut(&Response<'_>),
    ) -> Result<(), ProtoError> {
        if self.busy {
            return Err(ProtoError::Unusable);
        }
        self.busy = true;
        let result = self.exec(command, name, on_data).await;
        if matches!(result, Ok(_) | Err(ProtoError::Rejected { .. })) {
            self.busy = false;
        }
        result
    }

    /// Sends `command` and reads until its tagged answer, showing every untagged response to
    /// `on_data`.
    async fn exec(
        &mut self,
        command: &str,
        name: &str,
        mut on_data: impl FnMut(&Response<'_>),
    ) -> Result<(), ProtoError> {
        let what = format!("the answer to {name}");
        let id = self
            .session
            .run_command(command)
            .await
            .map_err(|e| imap_error(&self.peer, &what, e))?;
        let mut bye = None;
        loop {
            let resp = match self.session.read_response().await {
                Ok(Some(resp)) => resp,
                Ok(None) => {
                    let what = match bye {
                        Some(words) => format!("{what} (it said \"{words}\")"),
                        None => what,
                    };
                    return Err(self.peer.closed(&what));
                }
                Err(e) => return Err(io_error(&self.peer, &what, e)),
            };
            let seen = match resp.parsed() {
                Response::Done {
                    tag,
                    status,
                    outcome,
                } if *tag == id => Seen::Ours(match status {
                    Status::Ok => Ok(()),
                    other => Err(status_words(other, outcome)),
                }),
                Response::Done { .. } => Seen::Stale,
                Response::Data {
                    status: Status::Bye,
                    outcome,
                } => Seen::Bye(status_words(&Status::Bye, outcome)),
                Response::MailboxData(MailboxDatum::Exists(_)) => Seen::Exists,
                Response::Continue(_) => Seen::Continue,
                _ => Seen::Data,
            };
            match seen {
                Seen::Ours(Ok(())) => return Ok(()),
                Seen::Ours(Err(words)) => {
                    return Err(ProtoError::Rejected {
                        protocol: MailProtocol::Imap,
                        command: name.to_owned(),
                        reply: words,
                    });
                }
                Seen::Stale => {}
                Seen::Bye(words) => bye = Some(words),
                Seen::Continue => {
                    return Err(self
                        .peer
                        .protocol_error(format!("a continuation request in {what}"), b"+"));
                }
                Seen::Exists => {
                    self.new_mail = true;
                    on_data(resp.parsed());
                }
                Seen::Data => on_data(resp.parsed()),
            }
        }
    }
}

/// What [`ImapSession::removes_only_ours`] names as missing for a delete.
pub const REMOVAL_NEEDS_UIDPLUS: &str = "UIDPLUS (UID EXPUNGE), which deleting only mailgate's messages needs: a plain EXPUNGE would also remove messages other mail programs flagged \\Deleted";
/// What [`ImapSession::removes_only_ours`] names as missing for a move.
pub const REMOVAL_NEEDS_MOVE: &str = "MOVE or UIDPLUS (UID EXPUNGE), which moving only mailgate's messages needs: a plain EXPUNGE would also remove messages other mail programs flagged \\Deleted";

/// The most UIDs one listing (SEARCH, or FETCH of UIDs and sizes) may return: more fails the
/// listing with [`ProtoError::OverLimit`] (naming the limit) instead of growing without bound.
pub const MAX_LISTED_UIDS: usize = 1_000_000;

/// A listing that stops growing at [`MAX_LISTED_UIDS`] and then fails.
struct Listing<T> {
    items: Vec<T>,
    seen: u64,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            seen: 0,
        }
    }
}

impl<T> Listing<T> {
    fn extend(&mut self, items: impl IntoIterator<Item = T>) {
        for item in items {
            self.seen += 1;
            if self.items.len() < MAX_LISTED_UIDS {
                self.items.push(item);
            }
        }
    }

    fn into_vec(self, peer: &Peer) -> Result<Vec<T>, ProtoError> {
        if self.seen > MAX_LISTED_UIDS as u64 {
            return Err(peer.over_limit("UIDs in one listing", self.seen, MAX_LISTED_UIDS as u64));
        }
        Ok(self.items)
    }
}

/// A UID set with runs folded (`5:7,9`), ascending.
pub(super) fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for uid in sorted {
        match runs.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(uid) => *end = uid,
            _ => runs.push((uid, uid)),
        }
    }
    let runs: Vec<String> = runs
        .into_iter()
        .map(|(start, end)| {
            if start == end {
                start.to_string()
            } else {
                format!("{start}:{end}")
            }
        })
        .collect();
    runs.join(",")
}

/// For commands whose untagged answers do not matter.
fn ignore(_: &Response<'_>) {}

/// A quoted IMAP string; line breaks and NUL cannot be sent.
fn quoted(text: &str) -> Result<String, ProtoError> {
    if text.contains(['\r', '\n', '\0']) {
        return Err(ProtoError::InvalidInput(format!(
            "the folder name {text:?} contains a line break"
        )));
    }
    Ok(format!(
        "\"{}\"",
        text.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

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
            reply: super::words::from_async_imap("NO", &rendered),
        },
        Error::Bad(rendered) => ProtoError::Rejected {
            protocol: MailProtocol::Imap,
            command: what.trim_start_matches("the answer to ").to_owned(),
            reply: super::words::from_async_imap("BAD", &rendered),
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
