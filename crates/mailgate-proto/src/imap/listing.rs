//! Listing a folder's messages (new UIDs, UIDs by criterion, sizes) and fetching them.

use super::guard::{self, Limits};
use super::session::ImapSession;
use crate::error::{Peer, ProtoError};
use async_imap::imap_proto::{AttributeValue, MailboxDatum, Response};
use std::collections::HashMap;
use std::fmt::Debug;
use tokio::io::{AsyncRead, AsyncWrite};

/// What [`ImapSession::uids_matching`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// Messages without `\\Seen`.
    Unseen,
    /// Messages received on or after this day (their internal date).
    ReceivedSince(chrono::NaiveDate),
}

impl<S: AsyncRead + AsyncWrite + Unpin + Debug + Send> ImapSession<S> {
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
}

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
