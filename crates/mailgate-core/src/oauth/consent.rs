//! The consent flow: `start` makes a single-use `state` (kept hashed, 10 minutes) and a PKCE
//! verifier and builds the provider's authorization URL; `callback` takes the state back, trades
//! the code for tokens, checks that the account that signed in is the server's mailbox, and
//! stores the grant sealed.

use super::scopes::{self, MailUse};
use crate::events;
use crate::objects::{
    IncomingServers, OAuthApps, Objects, OutgoingServers, SecretMap, ServiceError,
};
use crate::tokens::{self, CredentialKey};
use crate::{Core, secrets::SecretError};
use mailgate_domain::incoming::IncomingProtocol;
use mailgate_domain::oauth_app::OAuthAppSpec;
use mailgate_domain::outgoing::OutgoingProtocol;
use mailgate_domain::server::Auth;
use mailgate_domain::troubleshoot::{self, Code, Diagnosis, Grant, ProviderKind, Severity};
use mailgate_domain::{ExposeSecret, FieldError, FieldErrors, Id};
use mailgate_store::{CredentialKind, OAuthStateRow, ObjectKind, StateUse};
use serde::Serialize;

/// How long a consent may take, from `start` to the callback.
pub const STATE_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// Which kind of server a consent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Incoming,
    Outgoing,
}

/// What a server needs for consent: its mailbox and its OAuth app.
pub struct ConsentTarget {
    pub server_id: Id,
    pub server_name: String,
    pub mailbox: String,
    pub app_id: Id,
    pub app: OAuthAppSpec,
    pub app_secrets: SecretMap,
    /// What the server does with the grant: it decides which granted scopes it needs.
    pub mail_use: MailUse,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorizationStart {
    /// Send the admin's browser here to sign in as the mailbox and consent.
    pub authorization_url: String,
    /// The same, through mailgate: redirects to `authorization_url` (a link to hand to the mailbox's owner).
    pub start_url: String,
    /// The redirect URI registered at the provider must be exactly this.
    pub redirect_uri: String,
    /// The account to sign in as.
    pub mailbox: String,
    pub expires_at: String,
}

/// Loads a server that uses an OAuth app, with the app.
pub async fn target(
    core: &Core,
    kind: ServerKind,
    id: &str,
) -> Result<ConsentTarget, ServiceError> {
    let parsed = Id::parse("id", id).map_err(|_| ServiceError::NotFound {
        what: what(kind),
        id: id.to_owned(),
    })?;
    let (name, mailbox, auth, mail_use) = match kind {
        ServerKind::Incoming => {
            let (_, spec, _) = Objects::<IncomingServers>::load(core, parsed).await?;
            let mail_use = match spec.protocol {
                IncomingProtocol::Imap => MailUse::Imap,
                IncomingProtocol::Pop3 => MailUse::Pop3,
            };
            (spec.name, spec.email.to_string(), spec.auth, mail_use)
        }
        ServerKind::Outgoing => {
            let (_, spec, _) = Objects::<OutgoingServers>::load(core, parsed).await?;
            let mail_use = match spec.protocol() {
                OutgoingProtocol::Smtp => MailUse::Smtp,
                OutgoingProtocol::GmailApi => MailUse::GmailApi,
            };
            (spec.name, spec.email.to_string(), spec.auth, mail_use)
        }
    };
    let Auth::Oauth {
        oauth_app_id: Some(app_id),
        ..
    } = auth
    else {
        return Err(FieldErrors::from(
            FieldError::new("auth", "this server does not sign in through an OAuth app")
                .with_hint("only servers with `auth: oauth` and an `oauth_app_id` need consent; service accounts and passwords work without it"),
        )
        .into());
    };
    let (_, app, app_secrets) = Objects::<OAuthApps>::load(core, app_id).await?;
    Ok(ConsentTarget {
        server_id: parsed,
        server_name: name,
        mailbox,
        app_id,
        app,
        app_secrets,
        mail_use,
    })
}

fn what(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::Incoming => "incoming server",
        ServerKind::Outgoing => "outgoing server",
    }
}

fn verifier_aad(state_hash: &[u8]) -> String {
    let hex: String = state_hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("oauth_states:{hex}")
}

/// Starts a consent for a server.
pub async fn start(
    core: &Core,
    kind: ServerKind,
    id: &str,
) -> Result<AuthorizationStart, ServiceError> {
    let target = target(core, kind, id).await?;
    let state = super::random_token()?;
    let verifier = super::random_token()?;
    let state_hash = super::sha256(&state);
    let now = core.clock.now_ms();
    let row = OAuthStateRow {
        sealed_verifier: core
            .cipher
            .seal(&verifier_aad(&state_hash), verifier.as_bytes())?
            .into(),
        state_hash,
        server_id: target.server_id,
        created_at_ms: now,
        expires_at_ms: now + STATE_LIFETIME_MS,
        used_at_ms: None,
    };
    core.store.insert_oauth_state(&row).await?;
    Ok(AuthorizationStart {
        authorization_url: authorization_url(core, &target, &state, &verifier)?,
        start_url: format!("{}/oauth/start?state={state}", core.settings.base_url),
        redirect_uri: core.settings.redirect_uri(),
        mailbox: target.mailbox,
        expires_at: crate::objects::rfc3339(row.expires_at_ms),
    })
}

fn authorization_url(
    core: &Core,
    target: &ConsentTarget,
    state: &str,
    verifier: &str,
) -> Result<String, ServiceError> {
    let mut url = url::Url::parse(&target.app.authorization_url).map_err(|e| {
        FieldErrors::from(FieldError::new(
            "authorization_url",
            format!("the OAuth app's authorization URL is not a URL: {e}"),
        ))
    })?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &target.app.client_id)
        .append_pair("redirect_uri", &core.settings.redirect_uri())
        .append_pair("scope", &target.app.scopes.join(" "))
        .append_pair("state", state)
        .append_pair("code_challenge", &super::pkce::challenge(verifier))
        .append_pair("code_challenge_method", "S256")
        // Offline access with a fresh consent: without both, a repeat consent returns no refresh token.
        .append_pair("access_type", "offline")
        .append_pair("prompt", "consent")
        .append_pair("login_hint", &target.mailbox);
    Ok(url.into())
}

/// The provider URL for a `start_url`, while its state is unused and fresh.
pub async fn start_redirect(core: &Core, state: &str) -> Result<String, Diagnosis> {
    let hash = super::sha256(state);
    let row = core.store.find_oauth_state(&hash).await.map_err(internal)?;
    let row = match row {
        None => return Err(state_problem(StateUse::Unknown)),
        Some(r) if r.used_at_ms.is_some() => return Err(state_problem(StateUse::AlreadyUsed)),
        Some(r) if r.expires_at_ms <= core.clock.now_ms() => {
            return Err(state_problem(StateUse::Expired));
        }
        Some(r) => r,
    };
    let verifier = open_verifier(core, &row).map_err(internal)?;
    let kind = server_kind(core, row.server_id)
        .await
        .map_err(internal)?
        .ok_or_else(server_gone)?;
    let target = target(core, kind, &row.server_id.to_string())
        .await
        .map_err(|_| server_gone())?;
    authorization_url(core, &target, state, &verifier).map_err(|_| server_gone())
}

fn open_verifier(core: &Core, row: &OAuthStateRow) -> Result<String, SecretError> {
    let bytes = core
        .cipher
        .open(&verifier_aad(&row.state_hash), &row.sealed_verifier)?;
    String::from_utf8(bytes).map_err(|_| SecretError::Open)
}

async fn server_kind(
    core: &Core,
    id: Id,
) -> Result<Option<ServerKind>, mailgate_store::StoreError> {
    if core
        .store
        .get_object(ObjectKind::IncomingServer, id)
        .await?
        .is_some()
    {
        return Ok(Some(ServerKind::Incoming));
    }
    Ok(core
        .store
        .get_object(ObjectKind::OutgoingServer, id)
        .await?
        .map(|_| ServerKind::Outgoing))
}

/// What the provider sent back to `/oauth/callback`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// How a consent ended, for the page the browser lands on.
#[derive(Debug)]
pub enum CallbackOutcome {
    Connected {
        server_name: String,
        mailbox: String,
        granted_scope: String,
    },
    Failed {
        server_name: Option<String>,
        diagnosis: Diagnosis,
    },
}

pub async fn callback(core: &Core, params: CallbackParams) -> CallbackOutcome {
    match callback_inner(core, params).await {
        CallbackOutcome::Failed {
            server_name,
            diagnosis,
        } => {
            // Hints about the redirect URI name the exact one to register.
            CallbackOutcome::Failed {
                server_name,
                diagnosis: diagnosis.with_redirect_uri(&core.settings.redirect_uri()),
            }
        }
        connected => connected,
    }
}

async fn callback_inner(core: &Core, params: CallbackParams) -> CallbackOutcome {
    let failed = |server_name: Option<String>, diagnosis: Diagnosis| CallbackOutcome::Failed {
        server_name,
        diagnosis,
    };
    let Some(state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
        return failed(None, state_problem(StateUse::Unknown));
    };
    let row = match core
        .store
        .take_oauth_state(&super::sha256(state), core.clock.now_ms())
        .await
    {
        Ok(StateUse::Taken(row)) => row,
        Ok(other) => return failed(None, state_problem(other)),
        Err(e) => return failed(None, internal(e)),
    };
    let target = match server_kind(core, row.server_id).await {
        Ok(Some(kind)) => match target(core, kind, &row.server_id.to_string()).await {
            Ok(t) => t,
            Err(_) => return failed(None, server_gone()),
        },
        Ok(None) => return failed(None, server_gone()),
        Err(e) => return failed(None, internal(e)),
    };
    let name = Some(target.server_name.clone());
    let provider = ProviderKind::from(target.app.provider);
    if let Some(error) = params.error.as_deref() {
        let diagnosis =
            troubleshoot::authorization_error(provider, error, params.error_description.as_deref());
        events::record(
            core,
            events::kind::CONSENT_FAILED,
            Some(&target.server_id.to_string()),
            serde_json::json!({"server": target.server_name, "diagnosis": diagnosis}),
        )
        .await;
        return failed(name, diagnosis);
    }
    let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
        return failed(
            name,
            troubleshoot::authorization_error(
                provider,
                "invalid_request",
                Some("the provider sent neither a code nor an error"),
            ),
        );
    };
    match finish(core, &target, &row, code).await {
        Ok(granted_scope) => CallbackOutcome::Connected {
            server_name: target.server_name,
            mailbox: target.mailbox,
            granted_scope,
        },
        Err(diagnosis) => {
            events::record(
                core,
                events::kind::CONSENT_FAILED,
                Some(&target.server_id.to_string()),
                serde_json::json!({"server": target.server_name, "diagnosis": diagnosis}),
            )
            .await;
            failed(name, diagnosis)
        }
    }
}

/// Trades the code, checks the account, stores the grant. Returns the granted scope.
async fn finish(
    core: &Core,
    target: &ConsentTarget,
    row: &OAuthStateRow,
    code: &str,
) -> Result<String, Diagnosis> {
    let verifier = open_verifier(core, row).map_err(internal)?;
    let provider = ProviderKind::from(target.app.provider);
    let redirect_uri = core.settings.redirect_uri();
    let secret = target
        .app_secrets
        .get("client_secret")
        .map(|s| s.expose_secret().to_owned())
        .unwrap_or_default();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", target.app.client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    if !secret.is_empty() {
        form.push(("client_secret", secret.as_str()));
    }
    let answer = super::token_client::request(
        &core.http,
        provider,
        &target.app.token_url,
        Grant::AuthorizationCode,
        &form,
    )
    .await?;
    let key = CredentialKey {
        kind: CredentialKind::OAuthGrant,
        owner_id: target.app_id,
        subject: target.mailbox.to_lowercase(),
        scope: String::new(),
    };
    let account = signed_in_account(core, &target.app, &answer).await?;
    if !account.email.eq_ignore_ascii_case(&target.mailbox) {
        return Err(troubleshoot::account_mismatch(
            &target.mailbox,
            &account.email,
        ));
    }
    if account.verified == Some(false) {
        let refused = troubleshoot::email_unverified(provider, &account.email);
        return Err(refuse(core, &key, refused).await);
    }
    let granted = answer
        .scope
        .clone()
        .unwrap_or_else(|| target.app.scopes.join(" "));
    if let Some(refused) = scope_refused(target, &granted) {
        return Err(refuse(core, &key, refused).await);
    }
    let Some(refresh) = answer.refresh_token.as_ref() else {
        return Err(no_refresh_token());
    };
    tokens::store_grant(core, &key, refresh, &answer, &granted)
        .await
        .map_err(internal)?;
    // The mailbox waiting for this grant starts reading now.
    core.mailbox_wake.poke();
    events::record(
        core,
        events::kind::CREDENTIAL_CONNECTED,
        Some(&target.server_id.to_string()),
        serde_json::json!({"server": target.server_name, "mailbox": target.mailbox, "scope": granted}),
    )
    .await;
    Ok(granted)
}

/// The diagnosis when `granted` (the provider's `scope`, or the scopes asked for when it sent
/// none, as RFC 6749 allows for an unchanged grant) lacks what the server's protocol needs.
fn scope_refused(target: &ConsentTarget, granted: &str) -> Option<Diagnosis> {
    let needed = scopes::needed(target.app.provider, target.mail_use, &target.app.scopes);
    let missing = scopes::missing(&needed, granted);
    let first = missing.first()?;
    let needed = match first.as_slice() {
        [one] => one.clone(),
        several => format!("any of {}", several.join(", ")),
    };
    Some(troubleshoot::scope_not_granted(
        ProviderKind::from(target.app.provider),
        &needed,
        granted,
    ))
}

/// Keeps the reason a consent was refused on the credential (the server stays
/// `authorization_required` with it in `last_error`), and returns it for the page.
async fn refuse(core: &Core, key: &CredentialKey, diagnosis: Diagnosis) -> Diagnosis {
    if let Err(e) = tokens::record_refused_consent(core, key, &diagnosis).await {
        tracing::error!(error = %e, "could not record a refused consent");
    }
    diagnosis
}

/// Who signed in, as the provider says.
struct SignedIn {
    email: String,
    /// `email_verified`, when the provider says (Microsoft's ID tokens do not).
    verified: Option<bool>,
}

/// The account that consented: the `email` of the ID token (received straight from the token
/// endpoint over verified TLS, which OpenID Connect accepts in place of checking its signature),
/// else the userinfo endpoint.
async fn signed_in_account(
    core: &Core,
    app: &OAuthAppSpec,
    answer: &super::TokenResponse,
) -> Result<SignedIn, Diagnosis> {
    if let Some(account) = answer.id_token.as_deref().and_then(id_token_account) {
        return Ok(account);
    }
    if let Some(url) = &app.userinfo_url {
        let response = core
            .http
            .get(url)
            .bearer_auth(answer.access_token.expose_secret())
            .send()
            .await
            .map_err(|e| super::token_client::transport_diagnosis(&e, url))?;
        if response.status().is_success() {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            if let Some(email) = body.get("email").and_then(|e| e.as_str()) {
                return Ok(SignedIn {
                    email: email.to_owned(),
                    verified: email_verified(&body),
                });
            }
        }
    }
    Err(account_unknown())
}

pub(crate) fn no_refresh_token() -> Diagnosis {
    Diagnosis::new(
        Code::NoRefreshToken,
        "the provider granted access but sent no refresh token, so access would end within the hour",
        "remove this app's access in the account's security settings (for Google: myaccount.google.com > Security > Third-party access) and connect again",
    )
}

pub(crate) fn account_unknown() -> Diagnosis {
    Diagnosis::new(
        Code::AccountUnknown,
        "the provider did not say which account signed in, so mailgate cannot check it is the server's mailbox",
        "add the scopes `openid email` to the OAuth app (they are in the google and microsoft presets) and set its userinfo URL",
    )
}

fn id_token_account(id_token: &str) -> Option<SignedIn> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let email = claims
        .get("email")
        .and_then(|e| e.as_str())
        .or_else(|| claims.get("preferred_username").and_then(|e| e.as_str()))?;
    Some(SignedIn {
        email: email.to_owned(),
        verified: email_verified(&claims),
    })
}

/// `email_verified` as a boolean, or as the string some providers send (Google's tokeninfo).
fn email_verified(claims: &serde_json::Value) -> Option<bool> {
    match claims.get("email_verified")? {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(crate) fn state_problem(usage: StateUse) -> Diagnosis {
    let (code, message) = match usage {
        StateUse::Expired => (
            Code::OauthStateExpired,
            "this sign-in link is older than 10 minutes",
        ),
        StateUse::AlreadyUsed => (Code::OauthStateReused, "this sign-in link was already used"),
        _ => (
            Code::OauthStateInvalid,
            "this sign-in did not start from mailgate (its `state` is missing or unknown)",
        ),
    };
    Diagnosis {
        code,
        message: message.into(),
        hint: "start again with POST /api/v1/incoming-servers/{id}/authorize (or outgoing-servers)"
            .into(),
        severity: Severity::Permanent,
    }
}

pub(crate) fn server_gone() -> Diagnosis {
    Diagnosis::new(
        Code::ServerGone,
        "the server this sign-in was for no longer exists or no longer uses an OAuth app",
        "check the server's configuration and start the authorization again",
    )
}

pub(crate) fn internal(e: impl std::fmt::Display) -> Diagnosis {
    tracing::error!(error = %e, "consent failed inside mailgate");
    Diagnosis::new(
        Code::Internal,
        "mailgate could not complete the sign-in; the server log has the details",
        "try again; if it persists, read the log",
    )
}
