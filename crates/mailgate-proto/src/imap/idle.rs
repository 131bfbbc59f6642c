//! Waiting for new mail: IDLE (RFC 2177) through async-imap, or NOOP polling when the server
//! has no IDLE.
//!
//! async-imap's `wait_with_timeout` restarts its timeout at every response, and Dovecot sends
//! `* OK Still here` every couple of minutes, so the wait here runs under an outer deadline
//! too. Its "manual interrupt" outcome also means "the connection ended" (the stream returned
//! nothing): with no interrupt ever sent here, it is reported as a closed connection.

use super::failure::imap_error;
use super::session::ImapSession;
use crate::busy::Busy;
use crate::error::ProtoError;
use async_imap::extensions::idle::IdleResponse;
use async_imap::imap_proto::{MailboxDatum, Response};
use async_imap::types::UnsolicitedResponse;
use std::fmt::Debug;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

/// The longest single IDLE: servers drop idle clients after 30 minutes (Gmail wants a renewal
/// within 29), so a longer wait is cut here and reported as a timeout; call again.
pub const MAX_IDLE: Duration = Duration::from_secs(28 * 60);

/// How often the IDLE-less fallback asks the server for news.
const POLL_EVERY: Duration = Duration::from_secs(30);

/// Why the wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleOutcome {
    /// New messages arrived (an `* n EXISTS`): list UIDs again.
    NewData,
    /// Nothing arrived before the timeout.
    Timeout,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Debug + Send> ImapSession<S> {
    /// Waits up to `timeout` (at most [`MAX_IDLE`]) for new mail in the selected folder. Returns
    /// at once when new mail was announced during earlier commands. Without IDLE it polls with
    /// NOOP every 30 seconds.
    pub async fn idle(mut self, timeout: Duration) -> Result<(Self, IdleOutcome), ProtoError> {
        if self.busy.is_set() {
            return Err(ProtoError::Unusable);
        }
        if std::mem::take(&mut self.new_mail) {
            return Ok((self, IdleOutcome::NewData));
        }
        if self.selected.is_none() {
            return Err(ProtoError::InvalidInput(
                "IDLE needs a selected folder: call select first".into(),
            ));
        }
        let timeout = timeout.min(MAX_IDLE);
        if !self.supports_idle() {
            let outcome = self.poll(timeout).await?;
            return Ok((self, outcome));
        }
        let ImapSession {
            session,
            peer,
            options,
            capabilities,
            selected,
            ..
        } = self;
        let unsolicited = session.unsolicited_responses.clone();
        let mut handle = session.idle();
        handle.init().await.map_err(|e| match e {
            // async-imap reports a refused IDLE (`BAD`) as a "connection refused" I/O error
            // carrying the server's text.
            async_imap::error::Error::Io(io)
                if io.kind() == std::io::ErrorKind::ConnectionRefused =>
            {
                ProtoError::Rejected {
                    protocol: mailgate_domain::troubleshoot::MailProtocol::Imap,
                    command: "IDLE".into(),
                    reply: format!("BAD {io}"),
                }
            }
            other => imap_error(&peer, "the answer to IDLE", other),
        })?;
        let deadline = Instant::now() + timeout;
        // The deadline bounds the wait; the stream's inactivity timeout would cut it short.
        handle.as_mut().get_mut().set_timeout(None);
        let announced = || exists_in(std::iter::from_fn(|| unsolicited.try_recv().ok()));
        let outcome = loop {
            // An EXISTS sent before the server's `+ idling` went to async-imap's side channel.
            if announced() {
                break Ok(IdleOutcome::NewData);
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break Ok(IdleOutcome::Timeout);
            }
            let (wait, _interrupt) = handle.wait_with_timeout(remaining);
            match tokio::time::timeout(remaining, wait).await {
                Err(_) | Ok(Ok(IdleResponse::Timeout)) => break Ok(IdleOutcome::Timeout),
                Ok(Ok(IdleResponse::NewData(resp))) => {
                    if matches!(
                        resp.parsed(),
                        Response::MailboxData(MailboxDatum::Exists(_))
                    ) {
                        break Ok(IdleOutcome::NewData);
                    }
                    // EXPUNGE, flag changes, BYE: not new mail; keep waiting (a BYE is
                    // followed by the end of the stream).
                }
                Ok(Ok(IdleResponse::ManualInterrupt)) => {
                    break Err(peer.closed("new mail during IDLE"));
                }
                Ok(Err(e)) => break Err(imap_error(&peer, "new mail during IDLE", e)),
            }
        };
        let outcome = outcome?;
        handle.as_mut().get_mut().set_timeout(Some(options.timeout));
        let session = handle
            .done()
            .await
            .map_err(|e| imap_error(&peer, "the answer to DONE", e))?;
        let mut this = ImapSession {
            session,
            peer,
            options,
            capabilities,
            selected,
            new_mail: false,
            busy: Busy::ready(),
        };
        // An EXISTS that came between DONE and its OK: the next wait returns at once.
        this.new_mail = announced_after(&this);
        Ok((this, outcome))
    }

    /// The IDLE-less wait: NOOP every [`POLL_EVERY`] until an EXISTS or the deadline.
    async fn poll(&mut self, timeout: Duration) -> Result<IdleOutcome, ProtoError> {
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Ok(IdleOutcome::Timeout);
            }
            tokio::time::sleep(remaining.min(POLL_EVERY)).await;
            self.noop().await?;
            if std::mem::take(&mut self.new_mail) {
                return Ok(IdleOutcome::NewData);
            }
        }
    }
}

fn announced_after<S: AsyncRead + AsyncWrite + Unpin + Debug + Send>(
    session: &ImapSession<S>,
) -> bool {
    exists_in(std::iter::from_fn(|| {
        session.session.unsolicited_responses.try_recv().ok()
    }))
}

/// Drains the side channel; true if it held an EXISTS.
fn exists_in(responses: impl Iterator<Item = UnsolicitedResponse>) -> bool {
    responses.fold(false, |seen, r| {
        seen | matches!(r, UnsolicitedResponse::Exists(_))
    })
}
