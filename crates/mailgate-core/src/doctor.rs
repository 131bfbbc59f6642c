//! `mailgate doctor`: checks every server's credential end to end (token obtainable, scopes
//! cover the protocol, redirect URI form, clock skew against the provider) and says how to fix
//! each failure.

use crate::Core;
use crate::objects::{IncomingServers, OAuthApps, Objects, OutgoingServers, ServiceAccounts};
use crate::tokens::{self, CredentialKey, SCOPE_GMAIL_SEND, SCOPE_MAIL};
use mailgate_domain::oauth_app::Provider;
use mailgate_domain::outgoing::OutgoingProtocol;
use mailgate_domain::server::Auth;
use mailgate_domain::troubleshoot::Diagnosis;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
    Skip,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Check {
    pub server_id: String,
    pub server: String,
    /// `incoming` or `outgoing`.
    pub direction: &'static str,
    /// `credential`, `scopes`, `redirect_uri` or `clock`.
    pub check: &'static str,
    pub outcome: Outcome,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// False when any check failed.
    pub ok: bool,
    pub checks: Vec<Check>,
}

/// A configured server of either direction, as doctor checks it.
struct CheckedServer {
    id: String,
    name: String,
    direction: &'static str,
    enabled: bool,
    mailbox: String,
    auth: Auth,
    gmail_api: bool,
}

pub async fn run(core: &Core) -> anyhow::Result<Report> {
    let mut servers = Vec::new();
    for (row, spec) in Objects::<IncomingServers>::specs(core).await? {
        servers.push(CheckedServer {
            id: row.id.to_string(),
            name: spec.name,
            direction: "incoming",
            enabled: spec.enabled,
            mailbox: spec.email.to_string(),
            auth: spec.auth,
            gmail_api: false,
        });
    }
    for (row, spec) in Objects::<OutgoingServers>::specs(core).await? {
        let gmail_api = spec.protocol() == OutgoingProtocol::GmailApi;
        servers.push(CheckedServer {
            id: row.id.to_string(),
            name: spec.name,
            direction: "outgoing",
            enabled: spec.enabled,
            mailbox: spec.email.to_string(),
            auth: spec.auth,
            gmail_api,
        });
    }
    let mut checks = Vec::new();
    for server in &servers {
        check_server(core, server, &mut checks).await?;
    }
    Ok(Report {
        ok: checks.iter().all(|c| c.outcome != Outcome::Fail),
        checks,
    })
}

async fn check_server(
    core: &Core,
    server: &CheckedServer,
    checks: &mut Vec<Check>,
) -> anyhow::Result<()> {
    let mut push = |check: &'static str,
                    outcome: Outcome,
                    message: String,
                    code: Option<&'static str>,
                    hint: Option<String>| {
        checks.push(Check {
            server_id: server.id.clone(),
            server: server.name.clone(),
            direction: server.direction,
            check,
            outcome,
            message,
            code,
            hint,
        });
    };
    if !server.enabled {
        push(
            "credential",
            Outcome::Skip,
            "the server is disabled".into(),
            None,
            None,
        );
        return Ok(());
    }
    let Some(key) = CredentialKey::for_server(&server.auth, &server.mailbox, server.gmail_api)
    else {
        push(
            "credential",
            Outcome::Skip,
            "password or no authentication: nothing to check without connecting".into(),
            None,
            None,
        );
        return Ok(());
    };
    // The provider's token URL, for the clock check, and the app's provider, for the scope check.
    let (token_url, provider) = match &server.auth {
        Auth::Oauth {
            oauth_app_id: Some(app),
            ..
        } => {
            let (_, spec, _) = Objects::<OAuthApps>::load(core, *app).await?;
            push_redirect(core, &mut push);
            (spec.token_url, spec.provider)
        }
        Auth::Oauth {
            service_account_id: Some(account),
            ..
        } => {
            let (_, spec, _) = Objects::<ServiceAccounts>::load(core, *account).await?;
            (spec.token_uri, Provider::Google)
        }
        _ => return Ok(()),
    };
    match tokens::access_token(core, &key).await {
        Ok(token) => {
            let left = (token.expires_at_ms - core.clock.now_ms()) / 60_000;
            push(
                "credential",
                Outcome::Pass,
                format!(
                    "an access token for {} is available ({left} min left)",
                    server.mailbox
                ),
                None,
                None,
            );
        }
        Err(e) => push_diagnosis(&mut push, "credential", e.diagnosis()),
    }
    let granted = core
        .store
        .find_credential(key.kind, key.owner_id, &key.subject, &key.scope)
        .await?
        .map(|c| c.granted_scope);
    match granted {
        Some(granted) => {
            let needed: &[&str] = if server.gmail_api {
                &[
                    SCOPE_GMAIL_SEND,
                    SCOPE_MAIL,
                    "https://www.googleapis.com/auth/gmail.compose",
                    "https://www.googleapis.com/auth/gmail.modify",
                ]
            } else {
                &[SCOPE_MAIL]
            };
            let covered = provider != Provider::Google
                || granted.split_whitespace().any(|s| needed.contains(&s));
            if covered {
                push(
                    "scopes",
                    Outcome::Pass,
                    format!("granted scopes cover {}: {granted}", use_of(server)),
                    None,
                    None,
                );
            } else {
                push(
                    "scopes",
                    Outcome::Fail,
                    format!(
                        "the granted scopes ({granted}) do not allow {}",
                        use_of(server)
                    ),
                    Some("scope_insufficient"),
                    Some(format!(
                        "add {} to the OAuth app's scopes (and to the consent screen's Data Access in Google Cloud Console), then authorize again",
                        needed[0]
                    )),
                );
            }
        }
        None => push("scopes", Outcome::Skip, "no grant yet".into(), None, None),
    }
    clock_check(core, &token_url, &mut push).await;
    Ok(())
}

fn use_of(server: &CheckedServer) -> &'static str {
    match (server.direction, server.gmail_api) {
        (_, true) => "sending through the Gmail API",
        ("incoming", _) => "reading mail over IMAP/POP3",
        _ => "sending over SMTP",
    }
}

type Push<'a> =
    dyn FnMut(&'static str, Outcome, String, Option<&'static str>, Option<String>) + Send + 'a;

fn push_diagnosis(push: &mut Push<'_>, check: &'static str, d: &Diagnosis) {
    push(
        check,
        Outcome::Fail,
        d.message.clone(),
        Some(d.code.as_str()),
        Some(d.hint.clone()),
    );
}

fn push_redirect(core: &Core, push: &mut Push<'_>) {
    let uri = core.settings.redirect_uri();
    let loopback = url::Url::parse(&uri)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| mailgate_domain::server::is_loopback_host(h.trim_matches(['[', ']'])))
        })
        .unwrap_or(false);
    if uri.starts_with("https://") || loopback {
        push(
            "redirect_uri",
            Outcome::Pass,
            format!("register exactly {uri} at the provider"),
            None,
            None,
        );
    } else {
        push(
            "redirect_uri",
            Outcome::Fail,
            format!("{uri} is plain http on a public host"),
            Some("redirect_uri_insecure"),
            Some("set server.base_url to the https URL mailgate is reached at".into()),
        );
    }
}

/// Compares this machine's clock with the provider's `Date` header: signed assertions and token
/// lifetimes go wrong when they drift apart by minutes.
async fn clock_check(core: &Core, token_url: &str, push: &mut Push<'_>) {
    let Ok(response) = core.http.head(token_url).send().await else {
        push(
            "clock",
            Outcome::Skip,
            format!("could not reach {token_url} to read its clock"),
            None,
            None,
        );
        return;
    };
    let date = response
        .headers()
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok());
    let Some(date) = date else {
        push(
            "clock",
            Outcome::Skip,
            "the provider sent no Date header".into(),
            None,
            None,
        );
        return;
    };
    let skew_secs = (core.clock.now_ms() - date.timestamp_millis()) / 1000;
    let hint =
        Some("synchronise this machine's clock (NTP, e.g. `timedatectl set-ntp true`)".to_owned());
    match skew_secs.abs() {
        0..=30 => push(
            "clock",
            Outcome::Pass,
            format!(
                "this clock is within {}s of the provider's",
                skew_secs.abs().max(1)
            ),
            None,
            None,
        ),
        31..=299 => push(
            "clock",
            Outcome::Warn,
            format!("this clock is {skew_secs}s off the provider's"),
            Some("clock_skew"),
            hint,
        ),
        _ => push(
            "clock",
            Outcome::Fail,
            format!("this clock is {skew_secs}s off the provider's: signed tokens will be refused"),
            Some("clock_skew"),
            hint,
        ),
    }
}
