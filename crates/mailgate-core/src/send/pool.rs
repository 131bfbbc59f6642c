//! SMTP connections kept open per outgoing server and reused: a message after the first skips
//! the TCP and TLS handshakes, EHLO and AUTH. A connection is not reused after the server's
//! configuration changed, when its token is about to expire (it is rebuilt with a fresh one),
//! or when it failed; one idle for a while is checked with NOOP first.

use super::failure::Failure;
use super::route::RouteServer;
use crate::Core;
use crate::login::{self, Login};
use crate::objects::OutgoingServers;
use mailgate_domain::Id;
use mailgate_domain::outgoing::OutgoingTransport;
use mailgate_proto::dial::{Endpoint, MailStream};
use mailgate_proto::error::ProtoError;
use mailgate_proto::smtp::{self, SmtpClient, SmtpOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Network operations give up after this long.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// A delivery waits at most this long for one of the server's connections (the others busy
/// with other messages), so that a round (two servers at most) ends well within its lease (see
/// `worker::LEASE_MS`); it is then retried later.
pub(super) const PERMIT_WAIT: Duration = Duration::from_secs(120);
/// An idle connection is checked with NOOP before reuse after this long...
const CHECK_AFTER: Duration = Duration::from_secs(10);
/// ...and dropped after this long (servers close idle connections after a few minutes).
const IDLE_MAX: Duration = Duration::from_secs(120);
/// A connection signed in with a token is not reused when the token has less than this left.
const TOKEN_MARGIN_MS: i64 = 2 * 60_000;

struct Idle {
    client: SmtpClient<MailStream>,
    /// The server's `updated_at` when the connection was opened.
    version: i64,
    token_expires_at_ms: Option<i64>,
    since: Instant,
}

struct PerServer {
    idle: Vec<Idle>,
    permits: Arc<Semaphore>,
}

/// The connections of every SMTP server.
#[derive(Default)]
pub struct SmtpPools {
    servers: Mutex<HashMap<Id, PerServer>>,
}

/// A connection lent to one delivery; give it back with [`SmtpPools::give_back`].
pub(super) struct Lease {
    pub client: SmtpClient<MailStream>,
    /// Whether the connection served an earlier message.
    pub reused: bool,
    server_id: Id,
    version: i64,
    token_expires_at_ms: Option<i64>,
    _permit: OwnedSemaphorePermit,
}

impl SmtpPools {
    fn permits(&self, server: Id, size: usize) -> Arc<Semaphore> {
        let mut servers = self.servers.lock().unwrap_or_else(|p| p.into_inner());
        servers
            .entry(server)
            .or_insert_with(|| PerServer {
                idle: Vec::new(),
                permits: Arc::new(Semaphore::new(size.max(1))),
            })
            .permits
            .clone()
    }

    fn take_idle(&self, server: Id) -> Vec<Idle> {
        let mut servers = self.servers.lock().unwrap_or_else(|p| p.into_inner());
        servers
            .get_mut(&server)
            .map(|s| std::mem::take(&mut s.idle))
            .unwrap_or_default()
    }

    fn put_idle(&self, server: Id, idle: Idle, keep: usize) {
        let mut servers = self.servers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = servers.get_mut(&server)
            && s.idle.len() < keep
        {
            s.idle.push(idle);
        }
    }

    /// A signed-in connection to `server`: a pooled one when one is still good (and `reuse`),
    /// else a new one. At most `send.connections_per_server` are lent at once per server.
    pub(super) async fn lend(
        &self,
        core: &Core,
        server: &RouteServer,
        reuse: bool,
    ) -> Result<Lease, Failure> {
        let size = core.settings.send.connections_per_server;
        let permit = acquire(self.permits(server.id, size), PERMIT_WAIT)
            .await
            .map_err(|()| Failure::pool_busy(server, size, PERMIT_WAIT))?;
        let now = core.clock.now_ms();
        let mut candidates = if reuse {
            self.take_idle(server.id)
        } else {
            Vec::new()
        };
        while let Some(mut idle) = candidates.pop() {
            let fresh = idle.version == server.updated_at_ms
                && idle.since.elapsed() < IDLE_MAX
                && idle
                    .token_expires_at_ms
                    .is_none_or(|t| t - TOKEN_MARGIN_MS > now)
                && idle.client.is_usable();
            let alive =
                fresh && (idle.since.elapsed() < CHECK_AFTER || idle.client.noop().await.is_ok());
            if alive {
                // The others go back for the next deliveries.
                for other in candidates {
                    self.put_idle(server.id, other, size);
                }
                return Ok(Lease {
                    client: idle.client,
                    reused: true,
                    server_id: server.id,
                    version: idle.version,
                    token_expires_at_ms: idle.token_expires_at_ms,
                    _permit: permit,
                });
            }
            tokio::spawn(async move {
                let _ = idle.client.quit().await;
            });
        }
        let (client, token_expires_at_ms) = connect(core, server).await?;
        Ok(Lease {
            client,
            reused: false,
            server_id: server.id,
            version: server.updated_at_ms,
            token_expires_at_ms,
            _permit: permit,
        })
    }

    /// Keeps the connection for the next delivery when it is still usable.
    pub(super) fn give_back(&self, core: &Core, lease: Lease) {
        if lease.client.is_usable() {
            self.put_idle(
                lease.server_id,
                Idle {
                    client: lease.client,
                    version: lease.version,
                    token_expires_at_ms: lease.token_expires_at_ms,
                    since: Instant::now(),
                },
                core.settings.send.connections_per_server,
            );
        }
    }
}

/// A permit of `permits`, waiting at most `wait`.
async fn acquire(permits: Arc<Semaphore>, wait: Duration) -> Result<OwnedSemaphorePermit, ()> {
    match tokio::time::timeout(wait, permits.acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        // Timed out, or closed (never: the pools live as long as the process).
        _ => Err(()),
    }
}

/// The endpoint of an SMTP server.
pub(crate) fn endpoint(server: &RouteServer) -> Option<Endpoint> {
    match &server.spec.transport {
        OutgoingTransport::Smtp {
            host,
            port,
            security,
        } => Some(
            Endpoint::new(host.clone(), *port, *security).with_proxy(server.spec.proxy.clone()),
        ),
        OutgoingTransport::GmailApi { .. } => None,
    }
}

/// The name we greet SMTP servers with: the host of our public URL.
pub(crate) fn ehlo_name(core: &Core) -> String {
    url::Url::parse(&core.settings.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .filter(|h| h.contains('.') && h.parse::<std::net::IpAddr>().is_err())
        .unwrap_or_else(|| "localhost".into())
}

/// After the server refused the login (`refused`): a new access token when that was one, and
/// one more login on a new connection (the refused attempt may have left the old one unusable).
/// Delivery and Test Connection sign in the same way through this.
pub(crate) async fn sign_in_again(
    core: &Core,
    server: &RouteServer,
    login: &mut Login,
    refused: ProtoError,
    ep: &Endpoint,
    tls: Arc<rustls::ClientConfig>,
) -> Result<SmtpClient<MailStream>, Failure> {
    let (Some(key), Some(token)) = (
        login.key.as_ref().filter(|_| refused.is_auth()),
        login.credentials.oauth_token(),
    ) else {
        return Err(Failure::connection(server, refused));
    };
    let fresh = crate::tokens::replace_rejected(core, key, token)
        .await
        .map_err(|why| {
            Failure::token_not_replaced(Failure::connection(server, refused), why.into())
        })?;
    login.expires_at_ms = Some(fresh.expires_at_ms);
    // The client picks the mechanism the server offers for it (XOAUTH2, else OAUTHBEARER).
    login.credentials = login.credentials.clone().with_token(fresh.token);
    let options = SmtpOptions::new(IO_TIMEOUT, ehlo_name(core));
    let mut client = smtp::connect(ep, tls, options)
        .await
        .map_err(|e| Failure::connection(server, e))?;
    client
        .authenticate(&login.credentials)
        .await
        .map_err(|e| Failure::connection(server, e))?;
    Ok(client)
}

/// Opens and signs in a new connection. A token the server refuses is replaced once (it may
/// have been revoked and granted again since it was issued).
async fn connect(
    core: &Core,
    server: &RouteServer,
) -> Result<(SmtpClient<MailStream>, Option<i64>), Failure> {
    let ep = endpoint(server)
        .ok_or_else(|| Failure::unavailable(login::config("not an SMTP server")))?;
    let tls = mailgate_proto::tls::client_config(core.settings.tls_extra_ca_file.as_deref(), &[])
        .map_err(|e| Failure::unavailable(login::config(&e.to_string())))?;
    let login = login::login::<OutgoingServers>(
        core,
        server.id,
        &server.spec.auth,
        server.spec.email.as_str(),
        false,
    )
    .await
    .map_err(|e| Failure::unavailable(e.into()))?;
    let options = || SmtpOptions::new(IO_TIMEOUT, ehlo_name(core));
    let mut client = smtp::connect(&ep, tls.clone(), options())
        .await
        .map_err(|e| Failure::connection(server, e))?;
    let Some(mut login) = login else {
        return Ok((client, None));
    };
    if let Err(refused) = client.authenticate(&login.credentials).await {
        client = sign_in_again(core, server, &mut login, refused, &ep, tls).await?;
    }
    Ok((client, login.expires_at_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_wait_for_a_busy_servers_connection_ends() {
        let permits = Arc::new(Semaphore::new(1));
        let held = acquire(permits.clone(), PERMIT_WAIT).await.unwrap();
        // The one connection stays busy: the wait gives up instead of outliving the lease.
        assert!(
            acquire(permits.clone(), Duration::from_millis(20))
                .await
                .is_err()
        );
        drop(held);
        assert!(acquire(permits, Duration::from_millis(20)).await.is_ok());
    }
}
