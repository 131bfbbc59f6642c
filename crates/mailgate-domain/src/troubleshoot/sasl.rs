//! SASL failure challenges: after a rejected XOAUTH2 or OAUTHBEARER initial response the server
//! sends a base64 JSON challenge before its final NO / -ERR / 535, e.g.
//! `{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}` (XOAUTH2) or
//! `{"status":"invalid_token","scope":"...","openid-configuration":"..."}` (OAUTHBEARER,
//! RFC 7628 section 3.2.2). Callers decode the base64 and pass the JSON text.

use super::catalog::*;
use super::reply::auth_reply;
use super::text::{head, provider_words, quoted};
use super::{Diagnosis, MailProtocol, ProviderKind, advice};

/// Diagnoses a decoded XOAUTH2 / OAUTHBEARER failure challenge. Never panics on bad input:
/// anything that is not a JSON object with a `status` is `sasl_challenge_unreadable`.
pub fn xoauth2_challenge(provider: ProviderKind, decoded_json: &str) -> Diagnosis {
    let decoded_json = head(decoded_json);
    let Ok(serde_json::Value::Object(fields)) =
        serde_json::from_str::<serde_json::Value>(decoded_json.trim())
    else {
        return unreadable(decoded_json);
    };
    let text = |key: &str| match fields.get(key) {
        Some(serde_json::Value::String(s)) => Some(s.trim().to_owned()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let scope = text("scope").filter(|s| !s.is_empty());
    match text("status").as_deref() {
        Some("400") | Some("insufficient_scope") => scope_insufficient(provider, scope.as_deref()),
        Some("401") | Some("invalid_token") => token_rejected(provider),
        Some("invalid_request") => advice::request_invalid(&format!(
            "The server answered the SASL login with \"invalid_request\"{}.",
            scope
                .map(|s| format!(" (scope {})", provider_words(&s)))
                .unwrap_or_default()
        )),
        Some(other) if !other.is_empty() => {
            let said = format!(
                "The server's SASL challenge had status \"{}\".",
                provider_words(other)
            );
            Diagnosis::new(
                AUTH_FAILED,
                advice::with_said("The mail server rejected the OAuth login.", &said),
                "Authorize the server again and sign in as the server's email; if the status persists, quote it when asking the provider for help.",
            )
        }
        _ => unreadable(decoded_json),
    }
}

/// The whole failed SASL exchange: the decoded challenge, if the server sent one, and the final
/// reply. A specific final reply (IMAP disabled, too many connections, server unavailable...)
/// wins, because Gmail sends the same challenge for all of them; otherwise the challenge tells
/// an invalid token (retry after a refresh) from a missing scope (authorize again).
pub fn sasl_failure(
    provider: ProviderKind,
    protocol: MailProtocol,
    challenge: Option<&str>,
    reply: &str,
) -> Diagnosis {
    let from_reply = auth_reply(protocol, reply);
    if from_reply.code != AUTH_FAILED.code {
        return from_reply;
    }
    match challenge.map(|c| xoauth2_challenge(provider, c)) {
        Some(d) if d.code != CHALLENGE_UNREADABLE.code => Diagnosis {
            message: format!(
                "{}{}",
                d.message,
                quoted("The server's final reply was", reply)
            ),
            ..d
        },
        _ => from_reply,
    }
}

pub(super) fn token_rejected(provider: ProviderKind) -> Diagnosis {
    let who = match provider {
        ProviderKind::Generic => "The server".to_owned(),
        p => format!("{}'s server", p.display_name()),
    };
    Diagnosis::new(
        TOKEN_REJECTED,
        format!("{who} refused the access token as invalid or expired."),
        "Nothing to do at first: mailgate refreshes the token and retries once. If it still fails after a refresh, authorize the server again and sign in as the server's email address.",
    )
}

fn scope_insufficient(provider: ProviderKind, scope: Option<&str>) -> Diagnosis {
    let wanted = scope.map_or_else(String::new, |s| {
        format!(" (it asks for {})", provider_words(s))
    });
    let message = format!(
        "The mail server refused the access token because it lacks the scope mail access needs{wanted}; Gmail answers the same way when the user name sent is not the account that authorized."
    );
    let hint = provider.pick(
        "Make sure the OAuth app's scopes include https://mail.google.com/ (and Google Cloud Console > APIs & Services > OAuth consent screen > Data Access lists it), then authorize the server again and tick the Gmail permission; for a service account, add https://mail.google.com/ to its domain-wide delegation. Check that the server's email is the account that authorized, not an alias.",
        "Make sure the OAuth app's scopes include https://outlook.office.com/IMAP.AccessAsUser.All, POP.AccessAsUser.All or SMTP.Send for the protocol in use (Microsoft Entra admin center > App registrations > (your app) > API permissions), then authorize the server again as the server's email.",
        "Add the provider's mail scope to the OAuth app, then authorize the server again as the server's email.",
    );
    Diagnosis::new(SCOPE_INSUFFICIENT, message, hint)
}

fn unreadable(raw: &str) -> Diagnosis {
    let message = format!(
        "The server rejected the OAuth login with a challenge mailgate could not read.{}",
        quoted("It sent", raw)
    );
    Diagnosis::new(
        CHALLENGE_UNREADABLE,
        message,
        "Look at the server's final reply, which usually says more; check that the host is the provider's mail server (imap.gmail.com, outlook.office365.com...) and that it supports XOAUTH2 or OAUTHBEARER.",
    )
}
