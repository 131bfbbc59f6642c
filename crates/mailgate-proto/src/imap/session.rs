//! The logged-in IMAP session: its state, CAPABILITY, NOOP, LOGOUT, and the command loop the
//! other commands run through ([`ImapSession::run`]). Commands go out through async-imap; their
//! answers are read here, so that every tagged `NO` / `BAD` becomes an error with the server's
//! words. SELECT and the changes are in `folder`, listings and FETCH in `listing`.

use super::failure::{imap_error, io_error};
use super::guard::Guarded;
use super::options::{Capabilities, ImapOptions};
use super::words::status_words;
use crate::busy::Busy;
use crate::dial::{MailStream, Timed};
use crate::error::{Peer, ProtoError};
use async_imap::imap_proto::{Capability, MailboxDatum, Response, Status};
use mailgate_domain::troubleshoot::MailProtocol;
use std::fmt::Debug;
use tokio::io::{AsyncRead, AsyncWrite};

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
    pub(super) busy: Busy,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Debug> Debug for ImapSession<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSession")
            .field("host", &self.peer.host)
            .field("port", &self.peer.port)
            .field("selected", &self.selected)
            .field("usable", &!self.busy.is_set())
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
            busy: Busy::ready(),
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

    /// NOOP: keeps the session alive and collects news (an EXISTS makes the next IDLE return
    /// at once).
    pub async fn noop(&mut self) -> Result<(), ProtoError> {
        self.run("NOOP", "NOOP", ignore).await
    }

    /// LOGOUT. Errors only say the goodbye was not clean; the connection is closed anyway.
    pub async fn logout(mut self) -> Result<(), ProtoError> {
        self.run("LOGOUT", "LOGOUT", ignore).await
    }

    /// Runs one command; a failure that leaves the answer half read keeps the session marked
    /// busy (unusable). `name` names the command in errors (no secrets in commands here).
    pub(super) async fn run(
        &mut self,
        command: &str,
        name: &str,
        on_data: impl FnMut(&Response<'_>),
    ) -> Result<(), ProtoError> {
        self.busy.begin()?;
        let result = self.exec(command, name, on_data).await;
        self.busy
            .settle(&result, |e| matches!(e, ProtoError::Rejected { .. }));
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

/// For commands whose untagged answers do not matter.
pub(super) fn ignore(_: &Response<'_>) {}
