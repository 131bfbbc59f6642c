//! Test Connection for an outgoing server: SMTP reports the credential, connect (with TLS),
//! EHLO and authenticate; the Gmail API reports the credential and a profile call. Nothing is
//! sent.

use super::deliver::{Failure, Server};
use super::pool::{IO_TIMEOUT, ehlo_name, endpoint};
use crate::Core;
use crate::login;
use crate::objects::{Objects, OutgoingServers, ServiceError};
use crate::probe::{Steps, TestReport};
use mailgate_domain::Id;
use mailgate_domain::outgoing::OutgoingTransport;
use mailgate_proto::gmail::GmailClient;
use mailgate_proto::sasl::Credentials;
use mailgate_proto::smtp::{self, SmtpOptions};
use std::time::Instant;

pub async fn run(core: &Core, id: &str) -> Result<TestReport, ServiceError> {
    let not_found = || ServiceError::NotFound {
        what: "outgoing server",
        id: id.to_owned(),
    };
    let server_id = Id::parse("id", id).map_err(|_| not_found())?;
    let (row, spec, _) = Objects::<OutgoingServers>::load(core, server_id)
        .await
        .map_err(|_| not_found())?;
    let server = Server {
        id: row.id,
        name: row.name,
        updated_at_ms: row.updated_at_ms,
        spec,
    };
    let gmail_api = matches!(server.spec.transport, OutgoingTransport::GmailApi { .. });
    let mut steps = Steps(Vec::new());

    let t = Instant::now();
    let login = match login::login::<OutgoingServers>(
        core,
        server.id,
        &server.spec.auth,
        server.spec.email.as_str(),
        gmail_api,
    )
    .await
    {
        Ok(login) => login,
        Err(d) => return Ok(steps.fail("credential", t, d)),
    };
    let detail = match login.as_ref().map(|l| &l.credentials) {
        None => "no authentication".to_owned(),
        Some(Credentials::Plain { user, .. }) => format!("the password of {user}"),
        Some(other) => format!("an access token for {}", other.user()),
    };
    steps.pass("credential", t, detail);

    match &server.spec.transport {
        OutgoingTransport::GmailApi { api_base_url } => {
            let t = Instant::now();
            let Some(Credentials::XOAuth2 { token, .. }) = login.map(|l| l.credentials) else {
                let d = login::config("the Gmail API needs an OAuth app or a service account");
                return Ok(steps.fail("profile", t, d));
            };
            match GmailClient::new(core.http.clone(), api_base_url)
                .profile(&token, "me")
                .await
            {
                Ok(profile) => steps.pass(
                    "profile",
                    t,
                    format!("the Gmail API answers for {}", profile.email_address),
                ),
                Err(e) => return Ok(steps.fail("profile", t, Failure::gmail(&e).diagnosis)),
            }
        }
        OutgoingTransport::Smtp {
            host,
            port,
            security,
        } => {
            let t = Instant::now();
            let tls = match mailgate_proto::tls::client_config(
                core.settings.tls_extra_ca_file.as_deref(),
                &[],
            ) {
                Ok(tls) => tls,
                Err(e) => return Ok(steps.fail("connect", t, login::config(&e.to_string()))),
            };
            let Some(ep) = endpoint(&server) else {
                return Ok(steps.fail("connect", t, login::config("not an SMTP server")));
            };
            let fail = |e| Failure::connection(&server, e).diagnosis;
            let mut client = match smtp::connect(
                &ep,
                tls,
                SmtpOptions::new(IO_TIMEOUT, ehlo_name(core)),
            )
            .await
            {
                Ok(c) => c,
                Err(e) => return Ok(steps.fail("connect", t, fail(e))),
            };
            let security = serde_json::to_value(security)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            steps.pass("connect", t, format!("{host}:{port} ({security}) answered"));
            let t = Instant::now();
            let mechanisms = client.auth_mechanisms();
            let size = client
                .max_size()
                .map(|s| format!(", messages up to {s} bytes"))
                .unwrap_or_default();
            steps.pass(
                "ehlo",
                t,
                format!(
                    "the server offers AUTH {}{size}",
                    if mechanisms.is_empty() {
                        "(none)".to_owned()
                    } else {
                        mechanisms.join(" ")
                    }
                ),
            );
            if let Some(login) = login {
                let t = Instant::now();
                if let Err(e) = client.authenticate(&login.credentials).await {
                    return Ok(steps.fail("authenticate", t, fail(e)));
                }
                steps.pass(
                    "authenticate",
                    t,
                    format!("signed in as {}", login.credentials.user()),
                );
            }
            let _ = client.quit().await;
        }
    }
    Ok(steps.done())
}
