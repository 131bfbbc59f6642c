//! Watching one mailbox: sessions back to back (IMAP: [`super::imap::imap_session`], POP3:
//! [`super::pop3::pop3_session`]), each of which connects, authenticates, imports what is new and runs
//! the after-import action once the import is committed; a pause after a failed session. Each
//! mailbox runs in its own task: a slow, broken or unauthorised mailbox never delays another.

use super::connect::{Ended, load_mailbox, stopped};
use super::imap::imap_pass;
use super::pop3::pop3_pass;
use crate::Core;
use crate::events;
use mailgate_domain::Id;
use mailgate_domain::incoming::IncomingProtocol;
use std::time::Duration;
use tokio::sync::watch;

/// An IMAP session that ends by itself (its token nears its end) is not followed by the next
/// within this long of its start; failed sessions back off instead ([`BACKOFF_FIRST`]).
const RECONNECT_FLOOR: Duration = Duration::from_secs(30);

/// The first pause after a failed session; it doubles with each failure that follows, up to
/// [`BACKOFF_MAX`], and starts again once a session connects.
const BACKOFF_FIRST: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Runs one mailbox until `stop`: sessions back to back, the first at once; after a failed
/// session a pause (see [`BACKOFF_FIRST`]) that a change of servers or credentials cuts short
/// ([`crate::receive::supervisor::Wake::poke`]); an event when authentication fails; polling
/// for POP3 every `poll`.
pub async fn watch_mailbox(
    core: std::sync::Arc<Core>,
    server_id: Id,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = BACKOFF_FIRST;
    let mut reported_auth = false;
    let mut retries = core.mailbox_wake.retries();
    let mut cut_short = false;
    while !stopped(&stop) {
        let mailbox = match load_mailbox(&core, server_id).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(server = %server_id, error = %e, "cannot load the mailbox's configuration");
                return;
            }
        };
        let started = tokio::time::Instant::now();
        let mut connected = false;
        let result = match mailbox.spec.protocol {
            IncomingProtocol::Imap => imap_pass(&core, &mailbox, &mut stop, &mut connected).await,
            IncomingProtocol::Pop3 => pop3_pass(&core, &mailbox, &stop, &mut connected).await,
        };
        if connected {
            backoff = BACKOFF_FIRST;
            reported_auth = false;
        }
        let pause = match result {
            Ok(Ended::Stopped) => return,
            Ok(Ended::Again) => {
                if mailbox.spec.protocol == IncomingProtocol::Pop3 {
                    poll
                } else {
                    RECONNECT_FLOOR.saturating_sub(started.elapsed())
                }
            }
            Err(e) => {
                let provider = crate::oauth::provider::of_server(
                    &core,
                    &mailbox.spec.auth,
                    &mailbox.spec.host,
                )
                .await;
                let diagnosis = e.diagnosis_for(provider);
                tracing::warn!(server = %mailbox.server_id, code = diagnosis.code.as_str(), error = %e, "mailbox session failed; retrying in {backoff:?}");
                metrics::counter!("mailgate_mailbox_errors_total", "code" => diagnosis.code.as_str())
                    .increment(1);
                if e.is_auth() && !reported_auth {
                    reported_auth = true;
                    events::record(&core, crate::events::EventKind::ServerAuthFailed, Some(&server_id.to_string()), serde_json::json!({"server": mailbox.name, "mailbox": mailbox.spec.email, "diagnosis": diagnosis})).await;
                }
                let pause = backoff;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                // A change since the watcher last tried (a consent just completed) may be what
                // it lacked: try again at once. Not twice in a row, so that a session whose own
                // token renewal pokes cannot loop without pause.
                let retry = async {
                    if cut_short {
                        std::future::pending::<()>().await;
                    }
                    let _ = retries.changed().await;
                };
                cut_short = tokio::select! {
                    _ = tokio::time::sleep(pause) => false,
                    _ = retry => true,
                    _ = stop.changed() => return,
                };
                continue;
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
    }
}
