//! OAuth scopes: which ones exist, how Google rewrites the short ones, and which ones each Gmail
//! API method accepts.

pub const MAIL: &str = "https://mail.google.com/";
pub const GMAIL_SEND: &str = "https://www.googleapis.com/auth/gmail.send";
pub const GMAIL_MODIFY: &str = "https://www.googleapis.com/auth/gmail.modify";
pub const GMAIL_READONLY: &str = "https://www.googleapis.com/auth/gmail.readonly";
pub const GMAIL_COMPOSE: &str = "https://www.googleapis.com/auth/gmail.compose";
pub const GMAIL_METADATA: &str = "https://www.googleapis.com/auth/gmail.metadata";
pub const GMAIL_IMAP_ADMIN: &str = "https://www.googleapis.com/auth/gmail.imap_admin";
pub const USERINFO_EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";
pub const USERINFO_PROFILE: &str = "https://www.googleapis.com/auth/userinfo.profile";

/// Scopes the emulator knows; any other scope is `invalid_scope`.
pub const KNOWN_SCOPES: &[&str] = &[
    MAIL,
    GMAIL_SEND,
    GMAIL_MODIFY,
    GMAIL_READONLY,
    GMAIL_COMPOSE,
    GMAIL_METADATA,
    GMAIL_IMAP_ADMIN,
    "openid",
    "email",
    "profile",
    USERINFO_EMAIL,
    USERINFO_PROFILE,
];

/// Scopes that may call `users.messages.send`.
pub const SEND_SCOPES: &[&str] = &[MAIL, GMAIL_SEND, GMAIL_COMPOSE, GMAIL_MODIFY];

/// Scopes that may call `users.getProfile` (gmail.send alone may not: Google answers 403).
pub const PROFILE_SCOPES: &[&str] = &[
    MAIL,
    GMAIL_MODIFY,
    GMAIL_COMPOSE,
    GMAIL_READONLY,
    GMAIL_METADATA,
];

/// Splits a space-separated scope parameter, drops duplicates, keeps the order.
pub fn split(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split_whitespace() {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// The requested scopes the emulator does not know.
pub fn unknown(scopes: &[String]) -> Vec<&str> {
    scopes
        .iter()
        .map(String::as_str)
        .filter(|s| !KNOWN_SCOPES.contains(s))
        .collect()
}

/// Google grants `email` and `profile` as their full URLs: the token response and tokeninfo
/// show `https://www.googleapis.com/auth/userinfo.email`, not `email`.
pub fn normalize(scopes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scopes {
        let full = match s.as_str() {
            "email" => USERINFO_EMAIL,
            "profile" => USERINFO_PROFILE,
            other => other,
        };
        if !out.iter().any(|o| o == full) {
            out.push(full.to_owned());
        }
    }
    out
}

/// Whether an `id_token` comes with the token response.
pub fn wants_id_token(scopes: &[String]) -> bool {
    scopes
        .iter()
        .any(|s| matches!(s.as_str(), "openid" | "email" | USERINFO_EMAIL))
}

/// What granular consent leaves when the user unticks `declined`: every scope but those, except
/// the sign-in scopes (`openid`, email, profile), which Google's consent screen does not offer to
/// untick.
pub fn without_declined(granted: &[String], declined: &[String]) -> Vec<String> {
    let declined = normalize(declined);
    let sign_in = |s: &str| matches!(s, "openid" | USERINFO_EMAIL | USERINFO_PROFILE);
    granted
        .iter()
        .filter(|g| sign_in(g) || !declined.contains(g))
        .cloned()
        .collect()
}

pub fn any_of(granted: &[String], accepted: &[&str]) -> bool {
    granted.iter().any(|g| accepted.contains(&g.as_str()))
}

pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_scopes_are_expanded_and_duplicates_dropped() {
        let requested = split("openid email  https://mail.google.com/ email");
        assert_eq!(requested, ["openid", "email", MAIL]);
        assert_eq!(normalize(&requested), ["openid", USERINFO_EMAIL, MAIL]);
        assert!(wants_id_token(&requested));
        assert!(!wants_id_token(&split(MAIL)));
    }

    #[test]
    fn unknown_scopes_are_reported() {
        let requested = split("https://mail.google.com/ https://www.googleapis.com/auth/drive");
        assert_eq!(
            unknown(&requested),
            ["https://www.googleapis.com/auth/drive"]
        );
    }

    #[test]
    fn granular_consent_drops_unticked_scopes_but_keeps_sign_in() {
        let granted = normalize(&split("openid email https://mail.google.com/"));
        let declined = split("https://mail.google.com/ email");
        assert_eq!(
            without_declined(&granted, &declined),
            ["openid", USERINFO_EMAIL]
        );
    }

    #[test]
    fn gmail_send_may_send_but_not_read_the_profile() {
        let granted = split(GMAIL_SEND);
        assert!(any_of(&granted, SEND_SCOPES));
        assert!(!any_of(&granted, PROFILE_SCOPES));
    }
}
