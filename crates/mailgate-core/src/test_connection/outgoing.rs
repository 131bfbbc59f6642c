//! Test Connection for an outgoing server, each step timed and reported in order with the fix
//! for the one that fails. SMTP: the credential, connect (TCP, through the proxy if any), tls
//! (the handshake, or STARTTLS), ehlo (the greeting and the capabilities), authenticate, as
//! delivery signs in (OAUTHBEARER when it is the only OAuth mechanism offered, a refused token
//! replaced once). The Gmail API: the credential (which proves the grant or the delegation) and
//! a profile call when the granted scopes allow it. Nothing is sent.

use super::{Steps, TestReport};
use crate::Core;
use crate::login::{self, Login};
use crate::objects::{Objects, OutgoingServers, ServiceError};
use crate::send::channel;
use crate::send::pool::{self, IO_TIMEOUT, ehlo_name, endpoint};
use crate::send::route::{self, RouteServer};
use crate::tokens::{SCOPE_GMAIL_SEND, SCOPE_MAIL};
use mailgate_domain::Id;
use mailgate_domain::outgoing::OutgoingTransport;
use mailgate_domain::troubleshoot;
use mailgate_proto::dial::{self, Security};
use mailgate_proto::error::ProtoError;
use mailgate_proto::gmail::GmailClient;
use mailgate_proto::sasl::Credentials;
use mailgate_proto::smtp::{SmtpClient, SmtpOptions};
use std::time::Instant;

const GMAIL_COMPOSE: &str = "https://www.googleapis.com/auth/gmail.compose";
const GMAIL_MODIFY: &str = "https://www.googleapis.com/auth/gmail.modify";
/// The scopes `users.messages.send` accepts.
const SEND_SCOPES: &[&str] = &[SCOPE_MAIL, SCOPE_GMAIL_SEND, GMAIL_COMPOSE, GMAIL_MODIFY];
/// The scopes `users.getProfile` accepts (`gmail.send` alone is refused with a 403).
const PROFILE_SCOPES: &[&str] = &[
    SCOPE_MAIL,
    GMAIL_MODIFY,
    GMAIL_COMPOSE,
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.metadata",
];

pub async fn run(core: &Core, id: &str) -> Result<TestReport, ServiceError> {
    let not_found = || ServiceError::NotFound {
        what: "outgoing server",
        id: id.to_owned(),
    };
    let server_id = Id::parse("id", id).map_err(|_| not_found())?;
    let (row, spec, _) = Objects::<OutgoingServers>::load(core, server_id)
        .await
        .map_err(|_| not_found())?;
    let server = RouteServer {
        id: row.id,
        name: row.name,
        updated_at_ms: row.updated_at_ms,
        provider: route::provider_of(core, &spec).await,
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
        Err(e) => return Ok(steps.fail("credential", t, e.into())),
    };
    let granted = granted_scope(core, login.as_ref()).await;
    let detail = match login.as_ref().map(|l| &l.credentials) {
        None => "no authentication".to_owned(),
        Some(Credentials::Plain { user, .. }) => format!("the password of {user}"),
        Some(other) => match &granted {
            Some(scope) => format!("an access token for {} (scopes: {scope})", other.user()),
            None => format!("an access token for {}", other.user()),
        },
    };
    steps.pass("credential", t, detail);

    Ok(match &server.spec.transport {
        OutgoingTransport::GmailApi { api_base_url } => {
            gmail(core, steps, login, granted.as_deref(), api_base_url).await
        }
        OutgoingTransport::Smtp { .. } => smtp(core, &server, steps, login).await,
    })
}

/// The scopes the provider granted to the login's credential, as recorded with its token.
async fn granted_scope(core: &Core, login: Option<&Login>) -> Option<String> {
    let key = login?.key.as_ref()?;
    let row = core
        .store
        .find_credential(key.kind, key.owner_id, &key.subject, &key.scope)
        .await
        .ok()??;
    Some(row.granted_scope).filter(|s| !s.trim().is_empty())
}

/// The Gmail API's `profile` step: `users.getProfile` when the granted scopes allow it (the
/// token is replaced once if refused, as delivery does); skipped for a send-only grant or
/// delegation (`gmail.send`), whose token the credential step already obtained; failed when no
/// granted scope may send.
async fn gmail(
    core: &Core,
    mut steps: Steps,
    login: Option<Login>,
    granted: Option<&str>,
    api_base_url: &str,
) -> TestReport {
    let t = Instant::now();
    let (token, key) = match channel::gmail_token(login) {
        Ok(found) => found,
        Err(d) => return steps.fail("profile", t, d),
    };
    if let Some(granted) = granted {
        let has_any = |wanted: &[&str]| granted.split_whitespace().any(|s| wanted.contains(&s));
        if !has_any(SEND_SCOPES) {
            return steps.fail(
                "profile",
                t,
                troubleshoot::gmail_send_scope_missing(granted),
            );
        }
        if !has_any(PROFILE_SCOPES) {
            steps.skip(
                "profile",
                &format!(
                    "the granted scopes ({granted}) may send but not read the mailbox's profile, which users.getProfile needs; the token was issued, which is what sending needs"
                ),
            );
            return steps.done();
        }
    }
    let client = GmailClient::new(core.http.clone(), api_base_url);
    let client = &client;
    let answer = channel::gmail_call(core, token, key.as_ref(), |token| async move {
        client.profile(&token, "me").await
    })
    .await;
    match answer {
        Err(failure) => steps.fail("profile", t, failure.diagnosis()),
        Ok(Ok(profile)) => {
            steps.pass(
                "profile",
                t,
                format!("the Gmail API answers for {}", profile.email_address),
            );
            steps.done()
        }
        Ok(Err(e)) => steps.fail("profile", t, e.diagnosis()),
    }
}

/// The SMTP steps after the credential.
async fn smtp(
    core: &Core,
    server: &RouteServer,
    mut steps: Steps,
    login: Option<Login>,
) -> TestReport {
    let t = Instant::now();
    let tls =
        match mailgate_proto::tls::client_config(core.settings.tls_extra_ca_file.as_deref(), &[]) {
            Ok(tls) => tls,
            Err(e) => return steps.fail("tls", t, login::config(&e.to_string())),
        };
    let Some(ep) = endpoint(server) else {
        return steps.fail("connect", t, login::config("not an SMTP server"));
    };
    let diagnose = |e: ProtoError| e.diagnosis(server.provider);
    let options = || SmtpOptions::new(IO_TIMEOUT, ehlo_name(core));

    let tcp = match dial::connect_tcp(&ep, IO_TIMEOUT).await {
        Ok(tcp) => tcp,
        Err(e) => return steps.fail("connect", t, diagnose(e)),
    };
    steps.pass("connect", t, super::connected(&ep));
    let t = Instant::now();
    let greet = async |stream| SmtpClient::greet(stream, &ep.host, ep.port, options()).await;
    let mut client = if ep.security == Security::Starttls {
        // The greeting and a first EHLO in clear come before STARTTLS: a refusal there is the
        // ehlo step's.
        let client = match greet(tcp).await {
            Ok(c) => c,
            Err(e) => return steps.fail("ehlo", t, diagnose(e)),
        };
        let mut client = match client.starttls_without_ehlo(tls.clone()).await {
            Ok(c) => c,
            Err(e) => return steps.fail("tls", t, diagnose(e)),
        };
        steps.pass("tls", t, super::starttls(&ep.host));
        let t = Instant::now();
        if let Err(e) = client.ehlo_again().await {
            return steps.fail("ehlo", t, diagnose(e));
        }
        steps.pass("ehlo", t, ehlo_detail(&client));
        client
    } else {
        let stream = if ep.security == Security::Ssl {
            match dial::secure(tcp, &ep, tls.clone(), IO_TIMEOUT).await {
                Ok(s) => {
                    steps.pass("tls", t, super::implicit_tls(&ep.host));
                    s
                }
                Err(e) => return steps.fail("tls", t, diagnose(e)),
            }
        } else {
            steps.skip("tls", super::NO_TLS);
            tcp
        };
        let t = Instant::now();
        match greet(stream).await {
            Ok(c) => {
                steps.pass("ehlo", t, ehlo_detail(&c));
                c
            }
            Err(e) => return steps.fail("ehlo", t, diagnose(e)),
        }
    };

    let Some(mut login) = login else {
        steps.skip(
            "authenticate",
            "the server is set to send without authentication",
        );
        let _ = client.quit().await;
        return steps.done();
    };
    let t = Instant::now();
    // As delivery signs in (send/pool.rs): the client picks the mechanism the server offers for
    // the token, and a refused token is replaced once, on a new connection.
    let mut replaced = "";
    if let Err(refused) = client.authenticate(&login.credentials).await {
        client = match pool::sign_in_again(core, server, &mut login, refused, &ep, tls).await {
            Ok(c) => c,
            Err(failure) => return steps.fail("authenticate", t, failure.diagnosis()),
        };
        replaced = "; the first token was refused, a fresh one was accepted";
    }
    steps.pass(
        "authenticate",
        t,
        format!(
            "signed in as {} ({}){replaced}",
            login.credentials.user(),
            mechanism(&login.credentials, &client)
        ),
    );
    let _ = client.quit().await;
    steps.done()
}

/// What the ehlo step saw: the greeting and the capabilities.
fn ehlo_detail<S>(client: &SmtpClient<S>) -> String {
    let mechanisms = client.auth_mechanisms();
    let auth = if mechanisms.is_empty() {
        "no AUTH".to_owned()
    } else {
        format!("AUTH {}", mechanisms.join(" "))
    };
    let size = client
        .max_size()
        .map(|s| format!(", messages up to {s} bytes"))
        .unwrap_or_default();
    let listed = if client.capabilities().is_empty() {
        "no extension (the server only knows HELO)".to_owned()
    } else {
        client.capabilities().join(", ")
    };
    format!(
        "the server greets `{}` and offers {auth}{size} (EHLO lists {listed})",
        client.greeting()
    )
}

/// The SASL mechanism the login used: the one the client picks among those offered.
fn mechanism<S>(credentials: &Credentials, client: &SmtpClient<S>) -> &'static str {
    mailgate_proto::sasl::choose(credentials, &client.auth_mechanisms())
        .unwrap_or(credentials.mechanism())
        .name()
}
