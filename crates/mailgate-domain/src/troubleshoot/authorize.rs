//! Errors on the OAuth callback (`/oauth/callback?error=...&error_description=...`) and the
//! check that the account that consented is the server's mailbox.
//!
//! Redirect URI: [`authorization_error`] cannot know mailgate's base URL, so hints that need it
//! carry `{base_url}/oauth/callback` ([`super::REDIRECT_URI_PLACEHOLDER`]); the callback handler
//! calls [`Diagnosis::with_redirect_uri`] with the exact URI. Google never redirects a
//! `redirect_uri_mismatch` (it shows its own error page), so that code also serves admins who
//! type the error they saw into `mailgate doctor`.

use super::catalog::*;
use super::text::{has, has_any, head, provider_said};
use super::{Diagnosis, ProviderKind, advice, grant, microsoft, oauth};

/// Diagnoses the `error` (and optional `error_description`) the provider put on the callback.
pub fn authorization_error(
    provider: ProviderKind,
    error: &str,
    description: Option<&str>,
) -> Diagnosis {
    let (error, description) = (head(error), description.map(head));
    let said = provider_said(provider.display_name(), error, description);
    let desc = description.unwrap_or_default();
    if let Some(d) = microsoft::diagnose(desc, &said) {
        return d;
    }
    let p = provider;
    match error.trim() {
        // Only Google's consent screen has test users.
        "access_denied"
            if p == ProviderKind::Google
                && has_any(desc, &["verification", "test user", "tester"]) =>
        {
            advice::testing_user_not_listed(&said)
        }
        "access_denied" => advice::access_denied(p, &said),
        "invalid_scope" => advice::scope_invalid(p, &said),
        "redirect_uri_mismatch" => advice::redirect_uri_mismatch(p, &said),
        "admin_policy_enforced" => advice::admin_policy(p, &said),
        "org_internal" => advice::internal_only(&said),
        "invalid_client" | "deleted_client" => advice::client_not_found(p, &said),
        "unauthorized_client" if has(desc, "not enabled for consumers") => {
            microsoft::account_type_unsupported(&said)
        }
        "unauthorized_client" | "unsupported_response_type" => oauth::client_unauthorized(p, &said),
        "consent_required" => advice::consent_required(p, &said),
        "interaction_required" | "login_required" | "account_selection_required" => {
            advice::interaction_required(&said)
        }
        "invalid_request" if has(desc, "redirect_uri") => advice::redirect_uri_mismatch(p, &said),
        "invalid_request" => advice::request_invalid(&said),
        "server_error" | "temporarily_unavailable" => advice::unavailable(p, &said),
        // Token-endpoint names can reach the callback page too (it redeems the code).
        "invalid_grant" => grant::code_invalid(&said),
        _ => advice::unknown(p, &said),
    }
}

/// The user consented as `signed_in`, but the server's mailbox is `expected`: the tokens would
/// read or send another mailbox, so they are refused. Email addresses are not secrets.
pub fn account_mismatch(expected: &str, signed_in: &str) -> Diagnosis {
    let expected = or_unknown(expected, "the server's email address");
    let signed_in = or_unknown(signed_in, "an account the provider did not name");
    let message = format!(
        "The sign-in was made as {signed_in}, but this server's mailbox is {expected}, so the authorization was not kept."
    );
    let hint = format!(
        "Authorize again and choose {expected} on the provider's account picker (use a private browser window, or sign out of {signed_in} first). If {expected} is an alias of {signed_in}, set the server's email to {signed_in} instead: providers always report the primary address."
    );
    Diagnosis::new(ACCOUNT_MISMATCH, message, hint)
}

fn or_unknown(address: &str, fallback: &str) -> String {
    let words = super::text::provider_words(address);
    if words.is_empty() {
        fallback.to_owned()
    } else {
        words
    }
}

/// The account signed in and consented, but the grant lacks what the server needs (`needed`:
/// the scopes of which one is missing, in the words of the provider's console; `granted`: what
/// the provider granted). Scopes are public values, not secrets.
pub fn scope_not_granted(provider: ProviderKind, needed: &str, granted: &str) -> Diagnosis {
    let needed = or_unknown(needed, "the mail scope");
    let granted = or_unknown(granted, "no scope");
    let message = format!(
        "Not connected: the permission to read and send mail was not granted. The provider granted only \"{granted}\", without {needed}, so the authorization was not kept."
    );
    let hint = match provider {
        ProviderKind::Google => format!(
            "Authorize the server again and, on Google's consent screen, tick the permission to read and send mail (\"Read, compose, send and permanently delete all your email from Gmail\", or \"Send email on your behalf\" for a Gmail API sender), or tick Select all, before clicking Continue. If Google does not offer it, add {needed} to the OAuth app's scopes in mailgate and in Google Cloud Console > APIs & Services > OAuth consent screen > Data Access."
        ),
        ProviderKind::Microsoft => format!(
            "Authorize the server again and accept every permission. If Microsoft does not ask for it, add {needed} as a delegated permission in Microsoft Entra admin center > App registrations > (your app) > API permissions (and Grant admin consent where users may not consent)."
        ),
        ProviderKind::Generic => format!(
            "Authorize the server again and allow every permission asked for. If the provider never grants {needed}, check that the OAuth client may request that scope in the provider's console and that the OAuth app's scopes in mailgate are spelled as the provider documents them."
        ),
    };
    Diagnosis::new(SCOPE_NOT_GRANTED, message, hint)
}

/// The ID token (or userinfo) names `email` but says the provider has not verified it: anyone
/// could have typed that address into an account, so the sign-in proves nothing about the
/// mailbox and the grant is refused.
pub fn email_unverified(provider: ProviderKind, email: &str) -> Diagnosis {
    let email = or_unknown(email, "the account's address");
    let message = format!(
        "The account that signed in says it is {email}, but the provider has not verified that address, so it does not prove the account owns the mailbox; the authorization was not kept."
    );
    let hint = provider.pick(
        "Sign in with the mailbox's own Google account (Workspace and Gmail addresses are verified), or confirm the address in that Google account (myaccount.google.com > Personal info > Email), then authorize again.",
        "Sign in with the mailbox's own work or school account, or verify the address of the account, then authorize again.",
        "Verify the account's email address at the provider (or sign in with the mailbox's own account), then authorize again.",
    );
    Diagnosis::new(EMAIL_UNVERIFIED, message, hint)
}
