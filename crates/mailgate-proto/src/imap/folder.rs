//! SELECT and the changes to a folder's messages: flags, MOVE / COPY, UID EXPUNGE.

use super::listing::uid_set;
use super::mutf7;
use super::session::{ImapSession, ignore};
use crate::error::ProtoError;
use async_imap::imap_proto::{MailboxDatum, Response, ResponseCode, Status};
use std::fmt::Debug;
use tokio::io::{AsyncRead, AsyncWrite};

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

impl<S: AsyncRead + AsyncWrite + Unpin + Debug + Send> ImapSession<S> {
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
}

/// What [`ImapSession::removes_only_ours`] names as missing for a delete.
pub const REMOVAL_NEEDS_UIDPLUS: &str = "UIDPLUS (UID EXPUNGE), which deleting only mailgate's messages needs: a plain EXPUNGE would also remove messages other mail programs flagged \\Deleted";
/// What [`ImapSession::removes_only_ours`] names as missing for a move.
pub const REMOVAL_NEEDS_MOVE: &str = "MOVE or UIDPLUS (UID EXPUNGE), which moving only mailgate's messages needs: a plain EXPUNGE would also remove messages other mail programs flagged \\Deleted";

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
