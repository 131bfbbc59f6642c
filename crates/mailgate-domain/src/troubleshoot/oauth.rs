//! Token endpoint errors: `{"error": "...", "error_description": "..."}` answered to a code
//! exchange, a refresh or a service account assertion.
//!
//! The `error` names a family (RFC 6749 section 5.2); the description tells the cause apart,
//! and the fix depends entirely on the cause (see GOOGLE.md, "OAuth2 endpoints").

use super::catalog::*;
use super::grant::{account_not_found, code_invalid, grant_revoked, pkce_mismatch};
use super::text::{has, has_any, head, provider_said};
use super::{Diagnosis, ProviderKind, advice, microsoft};

/// Which grant mailgate was redeeming, when the caller knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    AuthorizationCode,
    RefreshToken,
    /// A service account's signed assertion (`urn:ietf:params:oauth:grant-type:jwt-bearer`).
    JwtBearer,
}

/// What mailgate asked the token endpoint for, to make hints exact. None of it is secret:
/// client IDs, scopes and redirect URIs are public values (never put a secret here).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenRequest<'a> {
    pub grant: Option<Grant>,
    /// The OAuth client ID, or the service account's numeric client ID.
    pub client_id: Option<&'a str>,
    /// The scopes requested, e.g. `["https://mail.google.com/"]`.
    pub scopes: &'a [&'a str],
    /// The redirect URI sent (code exchange only); fills `{base_url}/oauth/callback` in hints.
    pub redirect_uri: Option<&'a str>,
}

/// Diagnoses a token endpoint error without knowing the request; see [`token_request_error`].
pub fn token_endpoint_error(
    provider: ProviderKind,
    http_status: u16,
    error: &str,
    description: Option<&str>,
) -> Diagnosis {
    token_request_error(
        &TokenRequest::default(),
        provider,
        http_status,
        error,
        description,
    )
}

/// Diagnoses a token endpoint error, using what mailgate asked for to name the exact client ID,
/// scopes and redirect URI in the hint.
pub fn token_request_error(
    request: &TokenRequest<'_>,
    provider: ProviderKind,
    http_status: u16,
    error: &str,
    description: Option<&str>,
) -> Diagnosis {
    let (error, description) = (head(error), description.map(head));
    let said = provider_said(provider.display_name(), error, description);
    let desc = description.unwrap_or_default();
    let diagnosis = microsoft::diagnose(desc, &said)
        .unwrap_or_else(|| by_error(request, provider, http_status, error.trim(), desc, &said));
    match request.redirect_uri {
        Some(uri) => diagnosis.with_redirect_uri(uri),
        None => diagnosis,
    }
}

fn by_error(
    request: &TokenRequest<'_>,
    p: ProviderKind,
    status: u16,
    error: &str,
    desc: &str,
    said: &str,
) -> Diagnosis {
    match error {
        "invalid_grant" => invalid_grant(request, p, desc, said),
        "deleted_client" => advice::client_not_found(p, said),
        "invalid_client" => invalid_client(p, desc, said),
        "unauthorized_client" => unauthorized_client(request, p, desc, said),
        "invalid_scope" => advice::scope_invalid(p, said),
        "invalid_request" => invalid_request(p, desc, said),
        "admin_policy_enforced" => advice::admin_policy(p, said),
        "access_denied" => advice::access_denied(p, said),
        "consent_required" => advice::consent_required(p, said),
        "interaction_required" | "login_required" => advice::interaction_required(said),
        "redirect_uri_mismatch" => advice::redirect_uri_mismatch(p, said),
        "unsupported_grant_type" => grant_type_unsupported(said),
        _ if status == 429 => advice::rate_limited(said),
        // Google's client libraries retry `internal_failure` whatever the HTTP status.
        "temporarily_unavailable" | "server_error" | "internal_failure" => {
            advice::unavailable(p, said)
        }
        _ if status >= 500 => advice::unavailable(p, said),
        _ => advice::unknown(p, said),
    }
}

fn invalid_grant(request: &TokenRequest<'_>, p: ProviderKind, desc: &str, said: &str) -> Diagnosis {
    if has(desc, "invalid jwt signature") {
        service_account_key_invalid(said)
    } else if has_any(desc, &["short-lived token", "reasonable timeframe"]) {
        clock_skew(said)
    } else if has_any(desc, &["account not found", "account has been deleted"]) {
        account_not_found(p, said)
    } else if has(desc, "invalid email or user id") {
        delegated_user_not_found(said)
    } else if has_any(desc, &["code verifier", "code_verifier"]) {
        pkce_mismatch(said)
    } else if has(desc, "invalid_rapt") {
        reauthentication_required(p, said)
    } else {
        match request.grant {
            // A code is refused, whatever the words: the sign-in must start again.
            Some(Grant::AuthorizationCode) => code_invalid(said),
            // A refresh token refused is a grant that ended (revoked, expired, password changed,
            // the 7-day limit of an app in Testing): only a new consent brings it back.
            Some(Grant::RefreshToken) => grant_revoked(p, said),
            // An assertion has no code and no refresh token: what is left is its key or claims.
            Some(Grant::JwtBearer) => service_account_key_invalid(said),
            None if has(desc, "expired or revoked") => grant_revoked(p, said),
            // Google answers a bare "Bad Request" to a code that was used or expired.
            None => code_invalid(said),
        }
    }
}

/// Google's `invalid_rapt`: a Workspace session-control policy ("Google Cloud session
/// control", reauthentication frequency) ended the grant; the user must sign in again.
fn reauthentication_required(p: ProviderKind, said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The refresh token no longer works because the organisation requires the user to sign in again at intervals (a session-control policy), so mailgate cannot get access tokens for this mailbox.",
        said,
    );
    let hint = p.pick(
        "Authorize the server again. To stop it recurring, have the Google Workspace admin exempt the app: Admin console > Security > Access and data control > Google Cloud session control > Reauthentication policy, tick Exempt trusted apps, and set the app to Trusted under API controls > Manage third-party app access.",
        "Authorize the server again; if it recurs, review the sign-in frequency of the Conditional Access policies that apply to the user (Microsoft Entra admin center > Protection > Conditional Access).",
        "Authorize the server again; if it recurs, ask the provider's administrator whether a policy forces users to sign in again at intervals.",
    );
    Diagnosis::new(REAUTHENTICATION_REQUIRED, message, hint)
}

fn invalid_client(p: ProviderKind, desc: &str, said: &str) -> Diagnosis {
    if has_any(desc, &["not found", "deleted", "disabled"]) {
        advice::client_not_found(p, said)
    } else if has_any(desc, &["unauthorized", "secret"]) {
        advice::client_secret_invalid(p, said)
    } else {
        advice::client_invalid(p, said)
    }
}

fn unauthorized_client(
    request: &TokenRequest<'_>,
    p: ProviderKind,
    desc: &str,
    said: &str,
) -> Diagnosis {
    if has(desc, "not enabled for consumers") {
        return microsoft::account_type_unsupported(said);
    }
    let delegation = request.grant == Some(Grant::JwtBearer)
        || has(desc, "client not authorized for any of the scopes")
        || has(
            desc,
            "unauthorized to retrieve access tokens using this method",
        );
    if delegation && p != ProviderKind::Microsoft {
        delegation_not_granted(request, said)
    } else if request.grant == Some(Grant::RefreshToken) || desc.trim() == "Unauthorized" {
        token_wrong_client(said)
    } else {
        client_unauthorized(p, said)
    }
}

fn invalid_request(p: ProviderKind, desc: &str, said: &str) -> Diagnosis {
    if has_any(desc, &["invalid principal", "invalid email or user id"]) {
        delegated_user_not_found(said)
    } else if has_any(desc, &["code verifier", "code_verifier"]) {
        pkce_mismatch(said)
    } else if has(desc, "redirect_uri") && has(desc, "mismatch") {
        advice::redirect_uri_mismatch(p, said)
    } else {
        advice::request_invalid(said)
    }
}

fn service_account_key_invalid(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "Google rejected the service account's signed assertion: the key mailgate holds was deleted, disabled or replaced.",
        said,
    );
    Diagnosis::new(
        SERVICE_ACCOUNT_KEY_INVALID,
        message,
        "Create a new key in Google Cloud Console > IAM & Admin > Service Accounts > (the account) > Keys > Add key > Create new key > JSON, and upload that file to the service account in mailgate.",
    )
}

fn clock_skew(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "Google refused the signed assertion because its issue and expiry times are not within a reasonable window of Google's clock: this machine's clock is wrong.",
        said,
    );
    Diagnosis::new(
        CLOCK_SKEW,
        message,
        "Synchronise this machine's clock with NTP (for example `timedatectl set-ntp true` with systemd-timesyncd or chrony running); the next token request then succeeds.",
    )
}

fn delegated_user_not_found(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "Google does not know the mailbox the service account tries to act for: the server's email is not a user of the Workspace domain (an alias, a group, an @gmail.com address or a typo).",
        said,
    );
    Diagnosis::new(
        DELEGATED_USER_NOT_FOUND,
        message,
        "Set the server's email to the user's primary address as listed in Google Workspace Admin console > Directory > Users; a service account cannot act for aliases, Google Groups or consumer @gmail.com accounts.",
    )
}

fn delegation_not_granted(request: &TokenRequest<'_>, said: &str) -> Diagnosis {
    let client = request.client_id.map_or_else(
        || "the service account's numeric client ID (client_id in its JSON key)".to_owned(),
        |id| format!("the client ID {id}"),
    );
    let scopes = if request.scopes.is_empty() {
        "https://mail.google.com/ for IMAP, POP and SMTP, or https://www.googleapis.com/auth/gmail.send for the Gmail API".to_owned()
    } else {
        request.scopes.join(",")
    };
    let message = advice::with_said(
        "The service account may not act for this mailbox: domain-wide delegation is not granted for its client ID, or not for every scope mailgate requested.",
        said,
    );
    let hint = format!(
        "In Google Workspace Admin console > Security > Access and data control > API controls > Domain-wide delegation, add (or edit) {client} with exactly these OAuth scopes: {scopes}. Changes usually apply within minutes, occasionally up to 24 hours."
    );
    Diagnosis::new(DELEGATION_NOT_GRANTED, message, hint)
}

fn token_wrong_client(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The refresh token was issued to another OAuth client than the one this server uses now (the OAuth app's client ID changed since the mailbox was authorized).",
        said,
    );
    Diagnosis::new(
        TOKEN_WRONG_CLIENT,
        message,
        "Authorize the server again with its current OAuth app; a refresh token only works with the client that obtained it.",
    )
}

pub(super) fn client_unauthorized(p: ProviderKind, said: &str) -> Diagnosis {
    let hint = p.pick(
        "Use an OAuth client of type Web application (Google Cloud Console > APIs & Services > Credentials > Create credentials > OAuth client ID) and do not put a service account's client ID in an OAuth app.",
        "In Microsoft Entra admin center > App registrations > (your app) > Authentication, register mailgate's redirect URI under the Web platform and check Supported account types.",
        "Check in your provider's console that the OAuth client may use the authorization code and refresh token grants.",
    );
    let message = advice::with_said(
        "The OAuth client is not allowed to use the kind of grant mailgate requested.",
        said,
    );
    Diagnosis::new(CLIENT_UNAUTHORIZED, message, hint)
}

fn grant_type_unsupported(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The token endpoint does not support the grant type mailgate used, which usually means the token URL points at the wrong endpoint.",
        said,
    );
    Diagnosis::new(
        GRANT_TYPE_UNSUPPORTED,
        message,
        "Set the OAuth app's token URL to the provider's token endpoint: https://oauth2.googleapis.com/token for Google, https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token for Microsoft.",
    )
}
