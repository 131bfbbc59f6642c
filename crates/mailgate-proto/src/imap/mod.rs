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
mod failure;
mod folder;
mod guard;
mod idle;
mod listing;
mod mutf7;
mod options;
mod preauth;
mod session;
#[cfg(test)]
mod tests;
mod words;

pub use folder::{REMOVAL_NEEDS_MOVE, REMOVAL_NEEDS_UIDPLUS, SelectedFolder};
pub use guard::{LITERAL_MARGIN, Limits, MAX_LITERAL, MAX_RESPONSE_TEXT};
pub use idle::{IdleOutcome, MAX_IDLE};
pub use listing::{MAX_LISTED_UIDS, Search};
pub use options::{Capabilities, ImapOptions};
pub use preauth::ImapClient;
pub use session::ImapSession;

use crate::dial::{self, Endpoint, MailStream, Security};
use crate::error::ProtoError;
use std::sync::Arc;
use std::time::Duration;

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
