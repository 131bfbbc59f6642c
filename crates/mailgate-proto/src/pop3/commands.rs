//! POP3 transaction commands: STAT, UIDL, LIST, RETR, DELE, RSET, NOOP, QUIT.

use super::Pop3Client;
use super::reply;
use crate::error::ProtoError;
use tokio::io::{AsyncRead, AsyncWrite};

/// `STAT`: the number of messages and their total size in octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub count: u32,
    pub size: u64,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Pop3Client<S> {
    /// Runs a command to completion; a failure that leaves the answer half read keeps the
    /// client marked busy (unusable), a plain `-ERR` does not.
    async fn run<T>(
        &mut self,
        op: impl AsyncFnOnce(&mut Self) -> Result<T, ProtoError>,
    ) -> Result<T, ProtoError> {
        self.busy.begin()?;
        let result = op(self).await;
        self.busy.settle(&result, |e| {
            matches!(
                e,
                ProtoError::Rejected { .. } | ProtoError::NoSuchMessage { .. }
            )
        });
        result
    }

    pub async fn stat(&mut self) -> Result<Stat, ProtoError> {
        self.run(async |c| {
            let text = c.simple("STAT", "STAT").await?;
            let tolerances = c.options.tolerances;
            let parse = || -> Result<Stat, String> {
                let f = reply::fields(&text, 2, &tolerances)?;
                Ok(Stat {
                    count: reply::number(f[0])?,
                    size: reply::number(f[1])?,
                })
            };
            parse().map_err(|detail| {
                c.peer
                    .protocol_error(format!("in the answer to STAT: {detail}"), text.as_bytes())
            })
        })
        .await
    }

    /// `UIDL`: every message's number and unique-id, in the server's order.
    pub async fn uidl(&mut self) -> Result<Vec<(u32, String)>, ProtoError> {
        self.run(async |c| {
            c.simple("UIDL", "UIDL").await?;
            c.listing("UIDL", |f| {
                Ok((reply::number(f[0])?, reply::unique_id(f[1])?))
            })
            .await
        })
        .await
    }

    /// `LIST`: every message's number and size in octets.
    pub async fn list(&mut self) -> Result<Vec<(u32, u64)>, ProtoError> {
        self.run(async |c| {
            c.simple("LIST", "LIST").await?;
            c.listing("LIST", |f| Ok((reply::number(f[0])?, reply::number(f[1])?)))
                .await
        })
        .await
    }

    /// `LIST n`: the size of one message.
    pub async fn list_one(&mut self, msg: u32) -> Result<u64, ProtoError> {
        self.run(async |c| {
            let text = c
                .simple(&format!("LIST {msg}"), "LIST")
                .await
                .map_err(|e| no_such(e, msg))?;
            let tolerances = c.options.tolerances;
            reply::fields(&text, 2, &tolerances)
                .and_then(|f| reply::number(f[1]))
                .map_err(|detail| {
                    c.peer
                        .protocol_error(format!("in the answer to LIST: {detail}"), text.as_bytes())
                })
        })
        .await
    }

    /// `RETR n`: the raw message, dot-unstuffed, CRLF line ends as sent. A message over
    /// `max_bytes` fails with [`ProtoError::TooLarge`] without reading the rest (the client is
    /// then unusable: check sizes with [`Pop3Client::list`] first to skip big ones cheaply).
    pub async fn retr(&mut self, msg: u32, max_bytes: usize) -> Result<Vec<u8>, ProtoError> {
        self.run(async |c| {
            c.simple(&format!("RETR {msg}"), "RETR")
                .await
                .map_err(|e| no_such(e, msg))?;
            c.multiline(max_bytes, &format!("message {msg}"), &msg.to_string())
                .await
        })
        .await
    }

    /// `DELE n`: marks a message deleted; the server removes it at [`Pop3Client::quit`].
    pub async fn dele(&mut self, msg: u32) -> Result<(), ProtoError> {
        self.run(async |c| {
            c.simple(&format!("DELE {msg}"), "DELE")
                .await
                .map_err(|e| no_such(e, msg))
                .map(drop)
        })
        .await
    }

    /// `RSET`: unmarks the messages marked deleted in this session.
    pub async fn rset(&mut self) -> Result<(), ProtoError> {
        self.run(async |c| c.simple("RSET", "RSET").await.map(drop))
            .await
    }

    /// `NOOP`: keeps the session alive and checks it still answers.
    pub async fn noop(&mut self) -> Result<(), ProtoError> {
        self.run(async |c| c.simple("NOOP", "NOOP").await.map(drop))
            .await
    }

    /// `QUIT`: ends the session; after login this commits the deletions. An error means they
    /// may not have been applied (the next session still sees those messages).
    pub async fn quit(mut self) -> Result<(), ProtoError> {
        self.run(async |c| c.simple("QUIT", "QUIT").await.map(drop))
            .await
    }

    /// Reads a multi-line listing and parses each line's first two fields with `parse`.
    async fn listing<T>(
        &mut self,
        command: &str,
        parse: impl Fn(&[&str]) -> Result<T, String>,
    ) -> Result<Vec<T>, ProtoError> {
        let max = self.options.max_listing_bytes;
        let block = self
            .multiline(max, &format!("the {command} listing"), command)
            .await?;
        let tolerances = self.options.tolerances;
        let text = String::from_utf8_lossy(&block);
        let mut items = Vec::new();
        for line in text.split_inclusive('\n') {
            let bare = line.trim_end_matches('\n').trim_end_matches('\r');
            reply::fields(bare, 2, &tolerances)
                .and_then(|f| parse(&f))
                .map(|item| items.push(item))
                .map_err(|detail| {
                    self.peer.protocol_error(
                        format!("in the {command} listing: {detail}"),
                        bare.as_bytes(),
                    )
                })?;
        }
        Ok(items)
    }
}

/// `-ERR` to a command naming a message: the message is gone, unless the server says more
/// (`[SYS/TEMP]`, `[IN-USE]`...), in which case its words are kept.
fn no_such(e: ProtoError, msg: u32) -> ProtoError {
    match e {
        ProtoError::Rejected { reply, .. } if !reply.contains('[') => ProtoError::NoSuchMessage {
            id: msg.to_string(),
        },
        other => other,
    }
}
