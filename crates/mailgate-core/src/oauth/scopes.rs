//! Which granted scopes a server needs. Providers let the user untick permissions (Google's
//! granular consent) or silently drop a scope they do not know (generic providers), so a grant
//! is kept only when it holds what the server's protocol uses.

use crate::tokens::{SCOPE_GMAIL_SEND, SCOPE_MAIL};
use mailgate_domain::oauth_app::Provider;

/// What a server does with its grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailUse {
    Imap,
    Pop3,
    Smtp,
    GmailApi,
}

/// Scopes that may call the Gmail API's `users.messages.send`.
const GMAIL_SEND_SCOPES: &[&str] = &[
    SCOPE_MAIL,
    SCOPE_GMAIL_SEND,
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/gmail.modify",
];

/// Scopes that only say who signed in (or ask for a refresh token): never what a server needs.
const SIGN_IN_SCOPES: &[&str] = &["openid", "email", "profile", "offline_access"];

/// What the grant must hold: every group, and of each group at least one scope.
pub fn needed(provider: Provider, mail_use: MailUse, requested: &[String]) -> Vec<Vec<String>> {
    let any_of = |scopes: &[&str]| vec![scopes.iter().map(|s| (*s).to_owned()).collect()];
    match (provider, mail_use) {
        (Provider::Google, MailUse::GmailApi) => any_of(GMAIL_SEND_SCOPES),
        (Provider::Google, _) => any_of(&[SCOPE_MAIL]),
        (Provider::Microsoft, MailUse::Imap) => {
            any_of(&["https://outlook.office.com/IMAP.AccessAsUser.All"])
        }
        (Provider::Microsoft, MailUse::Pop3) => {
            any_of(&["https://outlook.office.com/POP.AccessAsUser.All"])
        }
        (Provider::Microsoft, MailUse::Smtp) => any_of(&["https://outlook.office.com/SMTP.Send"]),
        // The Gmail API is Google's; an app of another provider is refused when it is used.
        (Provider::Microsoft, MailUse::GmailApi) => Vec::new(),
        // A generic provider's mail scopes are whatever the app asks for besides sign-in.
        (Provider::Generic, _) => requested
            .iter()
            .filter(|s| !SIGN_IN_SCOPES.iter().any(|o| o.eq_ignore_ascii_case(s)))
            .map(|s| vec![s.clone()])
            .collect(),
    }
}

/// The groups of `needed` that `granted` (the token response's space-separated `scope`) does
/// not satisfy. A scope matches case-insensitively, and a bare name matches a full URL ending in
/// it (Microsoft may answer `IMAP.AccessAsUser.All` for `https://outlook.office.com/IMAP...`).
pub fn missing(needed: &[Vec<String>], granted: &str) -> Vec<Vec<String>> {
    let granted: Vec<&str> = granted.split_whitespace().collect();
    let holds = |scope: &str| {
        granted.iter().any(|g| {
            g.eq_ignore_ascii_case(scope)
                || scope
                    .to_ascii_lowercase()
                    .ends_with(&format!("/{}", g.to_ascii_lowercase()))
        })
    };
    needed
        .iter()
        .filter(|group| !group.iter().any(|s| holds(s)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn google_mail_protocols_need_full_mail_access() {
        let need = needed(Provider::Google, MailUse::Imap, &[]);
        let lacking = missing(
            &need,
            "openid https://www.googleapis.com/auth/userinfo.email",
        );
        assert_eq!(lacking, [strings(&[SCOPE_MAIL])]);
        assert!(missing(&need, &format!("openid {SCOPE_MAIL}")).is_empty());
        // gmail.send may send through the API, not log in to SMTP.
        let smtp = needed(Provider::Google, MailUse::Smtp, &[]);
        assert_eq!(missing(&smtp, SCOPE_GMAIL_SEND).len(), 1);
        let api = needed(Provider::Google, MailUse::GmailApi, &[]);
        assert!(missing(&api, SCOPE_GMAIL_SEND).is_empty());
        assert!(missing(&api, SCOPE_MAIL).is_empty());
        assert_eq!(missing(&api, "openid").len(), 1);
    }

    #[test]
    fn microsoft_needs_the_outlook_scope_of_the_protocol() {
        let need = needed(Provider::Microsoft, MailUse::Pop3, &[]);
        assert!(missing(&need, "https://outlook.office.com/POP.AccessAsUser.All").is_empty());
        assert!(missing(&need, "pop.accessasuser.all openid").is_empty());
        assert_eq!(
            missing(&need, "https://outlook.office.com/IMAP.AccessAsUser.All").len(),
            1
        );
    }

    #[test]
    fn a_generic_provider_must_grant_every_mail_scope_requested() {
        let requested = strings(&[
            "openid",
            "email",
            "mail.read",
            "mail.send",
            "offline_access",
        ]);
        let need = needed(Provider::Generic, MailUse::Imap, &requested);
        assert_eq!(
            missing(&need, "openid email mail.read"),
            [strings(&["mail.send"])]
        );
        assert!(missing(&need, "mail.send mail.read").is_empty());
    }
}
