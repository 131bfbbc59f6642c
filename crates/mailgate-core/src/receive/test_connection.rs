//! Test Connection for an incoming server: each step (credential, connect with TLS,
//! authenticate, open the folder) reported in order, with the fix for the one that fails.

use super::watch::{self, WatchError, load_mailbox};
use crate::Core;
use crate::objects::ServiceError;
use mailgate_domain::Id;
use mailgate_domain::incoming::IncomingProtocol;
use mailgate_proto::sasl::Credentials;
use mailgate_proto::{imap, pop3};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

use crate::probe::Steps;
pub use crate::probe::{Step, TestReport};

pub async fn run(core: &Core, id: &str) -> Result<TestReport, ServiceError> {
    let server_id = Id::parse("id", id).map_err(|_| ServiceError::NotFound {
        what: "incoming server",
        id: id.to_owned(),
    })?;
    let mailbox = load_mailbox(core, server_id)
        .await
        .map_err(|_| ServiceError::NotFound {
            what: "incoming server",
            id: id.to_owned(),
        })?;
    let spec = &mailbox.spec;
    let mut steps = Steps(Vec::new());

    // The same credential, endpoint and TLS setup the mailbox watcher uses.
    let t = Instant::now();
    let creds = match watch::credentials(core, &mailbox).await {
        Ok((creds, _)) => creds,
        Err(e) => return Ok(steps.fail("credential", t, e.diagnosis())),
    };
    let detail = match &creds {
        Credentials::Plain { user, .. } => format!("the password of {user}"),
        other => format!("an access token for {}", other.user()),
    };
    steps.pass("credential", t, detail);
    let t = Instant::now();
    let tls = match watch::tls(core) {
        Ok(tls) => tls,
        Err(e) => return Ok(steps.fail("connect", t, e.diagnosis())),
    };
    let ep = watch::endpoint(&mailbox);
    let security = serde_json::to_value(spec.security)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let fail = |e: mailgate_proto::error::ProtoError| WatchError::Proto(e).diagnosis();
    match spec.protocol {
        IncomingProtocol::Imap => {
            let client = match imap::connect(&ep, tls, TIMEOUT).await {
                Ok(c) => c,
                Err(e) => return Ok(steps.fail("connect", t, fail(e))),
            };
            steps.pass(
                "connect",
                t,
                format!("{}:{} ({security}) answered", spec.host, spec.port),
            );
            let t = Instant::now();
            let mut session = match client.login(&creds).await {
                Ok(s) => s,
                Err(e) => return Ok(steps.fail("authenticate", t, fail(e))),
            };
            steps.pass("authenticate", t, format!("signed in as {}", creds.user()));
            let t = Instant::now();
            match session.select(&spec.folder).await {
                Ok(folder) => steps.pass(
                    "select",
                    t,
                    format!("{} holds {} messages", spec.folder, folder.exists),
                ),
                Err(e) => return Ok(steps.fail("select", t, fail(e))),
            }
            let _ = session.logout().await;
        }
        IncomingProtocol::Pop3 => {
            let mut client = match pop3::connect(&ep, tls, TIMEOUT).await {
                Ok(c) => c,
                Err(e) => return Ok(steps.fail("connect", t, fail(e))),
            };
            steps.pass(
                "connect",
                t,
                format!("{}:{} ({security}) answered", spec.host, spec.port),
            );
            let t = Instant::now();
            if let Err(e) = client.login(&creds).await {
                return Ok(steps.fail("authenticate", t, fail(e)));
            }
            steps.pass("authenticate", t, format!("signed in as {}", creds.user()));
            let t = Instant::now();
            match client.stat().await {
                Ok(stat) => steps.pass(
                    "stat",
                    t,
                    format!("{} messages, {} bytes", stat.count, stat.size),
                ),
                Err(e) => return Ok(steps.fail("stat", t, fail(e))),
            }
            let _ = client.quit().await;
        }
    }
    Ok(steps.done())
}
