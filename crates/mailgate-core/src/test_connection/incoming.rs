//! Test Connection for an incoming server: each step (credential, connect, TLS, authenticate,
//! open the folder or STAT) timed and reported in order, with the fix for the one that fails.
//! The credential, the endpoint, the TLS setup and the login (a refused access token replaced
//! once) are the mailbox watcher's own.

use super::{Steps, TestReport};
use crate::Core;
use crate::objects::ServiceError;
use crate::receive::after_import;
use crate::receive::connect::{self, load_mailbox};
use mailgate_domain::Id;
use mailgate_domain::incoming::{AfterImport, IncomingProtocol};
use mailgate_proto::error::ProtoError;
use mailgate_proto::imap::{ImapClient, ImapOptions};
use mailgate_proto::pop3::{Pop3Client, Pop3Options};
use mailgate_proto::sasl::Credentials;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

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
    let provider = crate::oauth::provider::of_server(core, &spec.auth, &spec.host).await;
    let diagnose = |e: ProtoError| e.diagnosis(provider);
    let mut steps = Steps(Vec::new());

    let t = Instant::now();
    let mut login = match connect::mailbox_login(core, &mailbox).await {
        Ok(login) => login,
        Err(e) => return Ok(steps.fail("credential", t, e.diagnosis())),
    };
    let detail = match &login.credentials {
        Credentials::Plain { user, .. } => format!("the password of {user}"),
        other => format!("an access token for {}", other.user()),
    };
    steps.pass("credential", t, detail);
    let t = Instant::now();
    let tls = match connect::tls(core) {
        Ok(tls) => tls,
        Err(e) => return Ok(steps.fail("tls", t, e.diagnosis())),
    };
    let ep = connect::endpoint(&mailbox);
    let (host, port) = (ep.host.clone(), ep.port);
    match spec.protocol {
        IncomingProtocol::Imap => {
            let options = ImapOptions::new(TIMEOUT);
            let client = super::connect_mailbox(
                &mut steps,
                &ep,
                tls.clone(),
                TIMEOUT,
                diagnose,
                async |stream| {
                    let mut client = ImapClient::greet(stream, &host, port, options).await?;
                    if client.capabilities().is_empty() {
                        client.capability().await?;
                    }
                    Ok(client)
                },
                async |client, tls| client.starttls(tls).await,
            )
            .await;
            let client = match client {
                Ok(c) => c,
                Err(failed) => return Ok(steps.failed(failed)),
            };
            let t = Instant::now();
            let (mut session, renewed) = match client.login(&login.credentials).await {
                Ok(s) => (s, false),
                Err(e) => match connect::imap_login_again(core, &mailbox, &mut login, e, tls).await
                {
                    Ok(s) => (s, true),
                    Err(e) => return Ok(steps.fail("authenticate", t, e.diagnosis_for(provider))),
                },
            };
            steps.pass("authenticate", t, signed_in(&login.credentials, renewed));
            let t = Instant::now();
            match session.select(&spec.folder).await {
                Ok(folder) => steps.pass(
                    "select",
                    t,
                    format!("{} holds {} messages", spec.folder, folder.exists),
                ),
                Err(e) => return Ok(steps.fail("select", t, diagnose(e))),
            }
            let wanted = spec.after_import;
            if after_import::possible_action(wanted, session.capabilities()) != wanted {
                let t = Instant::now();
                if let Err(e) = session.removes_only_ours(wanted == AfterImport::Move) {
                    return Ok(steps.fail("after_import", t, diagnose(e)));
                }
            }
            let _ = session.logout().await;
        }
        IncomingProtocol::Pop3 => {
            let options = Pop3Options::new(TIMEOUT);
            let client = super::connect_mailbox(
                &mut steps,
                &ep,
                tls.clone(),
                TIMEOUT,
                diagnose,
                async |stream| {
                    let mut client = Pop3Client::greet(stream, &host, port, options).await?;
                    client.capa().await?;
                    Ok(client)
                },
                async |client, tls| client.stls(tls).await,
            )
            .await;
            let mut client = match client {
                Ok(c) => c,
                Err(failed) => return Ok(steps.failed(failed)),
            };
            let t = Instant::now();
            let mut renewed = false;
            if let Err(e) = client.login(&login.credentials).await {
                client = match connect::pop3_login_again(core, &mailbox, &mut login, e, tls).await {
                    Ok(c) => c,
                    Err(e) => return Ok(steps.fail("authenticate", t, e.diagnosis_for(provider))),
                };
                renewed = true;
            }
            steps.pass("authenticate", t, signed_in(&login.credentials, renewed));
            let t = Instant::now();
            match client.stat().await {
                Ok(stat) => steps.pass(
                    "stat",
                    t,
                    format!("{} messages, {} bytes", stat.count, stat.size),
                ),
                Err(e) => return Ok(steps.fail("stat", t, diagnose(e))),
            }
            let _ = client.quit().await;
        }
    }
    Ok(steps.done())
}

fn signed_in(creds: &Credentials, renewed: bool) -> String {
    if renewed {
        format!(
            "signed in as {} with a new access token (the server refused the one in store)",
            creds.user()
        )
    } else {
        format!("signed in as {}", creds.user())
    }
}
