//! Final server replies after a failed IMAP / POP3 / SMTP login, e.g. `NO [AUTHENTICATIONFAILED]
//! Invalid credentials (Failure)`, `-ERR [SYS/TEMP] ...`, `535-5.7.8 Username and Password not
//! accepted`, `535 5.7.139 ... SmtpClientAuthentication is disabled for the Tenant`; and SMTP
//! refusals of a message ([`smtp_reply`]), e.g. `550 5.1.1 ... User unknown`.
//!
//! Replies are matched on the phrases and response codes servers actually send (RFC 5530 IMAP
//! codes, RFC 2449/3206 POP3 codes, RFC 3463 enhanced SMTP codes, Gmail and Exchange Online
//! texts). Specific phrases are tested before generic codes, since Gmail sends `NO` or `535`
//! for everything.

use super::catalog::*;
use super::microsoft::account_disabled;
use super::text::{head, provider_words, quoted};
use super::{Diagnosis, MailProtocol, ProviderKind, advice};

const MANAGE_EMAIL_APPS: &str =
    "Microsoft 365 admin center > Users > Active users > (the user) > Mail > Manage email apps";

/// Lower-case phrases and response codes, each with what it means; the first match wins, so
/// specific phrases come before the generic codes they travel with.
type Rule = (&'static [&'static str], fn(&str) -> Diagnosis);

#[rustfmt::skip]
const RULES: &[Rule] = &[
    (&["application-specific password", "5.7.9"], app_password_required),
    (&["smtpclientauthentication is disabled"], smtp_auth_disabled),
    (&["basic authentication is disabled", "security defaults"], basic_auth_disabled),
    (&["not enabled for imap", "imap access is disabled", "imap is disabled"], imap_disabled),
    (&["not enabled for pop", "pop access is disabled", "pop is disabled"], pop_disabled),
    (&["too many simultaneous connections", "too many connections"], too_many_connections),
    (&["too many login attempts", "[login-delay]", "too many failed"], login_rate_limited),
    (&["[in-use]"], pop_in_use),
    (&["bandwidth limit", "exceeded command or bandwidth"], bandwidth_limit),
    (&["sending limit", "sending quota", "5.4.5"], sending_limit),
    (&["log in via your web browser", "web login required", "[webalert", "5.7.14"], web_login_required),
    (&["[authorizationfailed]", "authenticated but not connected"], mailbox_not_accessible),
    (&["[contactadmin]", "account disabled", "account is disabled"], contact_admin),
    (&["must issue a starttls", "[privacyrequired]", "logindisabled", "encryption required"], starttls_required),
    (&["unrecognized authentication type", "5.7.4 ", "mechanism not supported", "unsupported authentication mechanism", "unknown authentication mechanism"], mechanism_unsupported),
    // Exchange Online's whole answer to a bad XOAUTH2 login (IMAP, POP3) and its SMTP twin.
    (&["authenticate failed.", "5.7.3 authentication unsuccessful"], microsoft_auth_failed),
];

/// Diagnoses the server's final reply to a failed login. Unknown replies are `auth_failed`.
pub fn auth_reply(protocol: MailProtocol, reply: &str) -> Diagnosis {
    let reply = head(reply);
    let said = quoted("The server said", reply);
    let said = said.trim();
    let lower = reply.to_ascii_lowercase();
    match rule_for(&lower) {
        Some(diagnose) => diagnose(said),
        None if is_temporary(&lower) => advice::unavailable(ProviderKind::Generic, said),
        None => auth_failed(protocol, said),
    }
}

/// Diagnoses an SMTP server's refusal of a transaction command (`MAIL FROM`, `RCPT TO`, `DATA`,
/// the end of the data), e.g. `550 5.1.1 <bob@example.com>: Recipient address rejected: User
/// unknown`. The reply code's class decides, as RFC 5321 says (4xx temporary, 5xx permanent),
/// except where a phrase the catalog knows says more: Gmail's `550 5.4.5` daily sending limit
/// lifts within a day, so it stays temporary. A known phrase never makes a 4xx permanent.
pub fn smtp_reply(command: &str, reply: &str) -> Diagnosis {
    let reply = head(reply);
    let said = quoted("The server said", reply);
    let said = said.trim();
    let lower = reply.to_ascii_lowercase();
    let temporary = lower.trim_start().starts_with('4');
    if let Some(diagnose) = rule_for(&lower) {
        let known = diagnose(said);
        if known.is_transient() || !temporary {
            return known;
        }
    }
    let command = provider_words(command);
    if temporary {
        let message =
            advice::with_said(&format!("The SMTP server refused {command} for now."), said);
        return Diagnosis::new(
            SERVICE_UNAVAILABLE,
            message,
            "Nothing to change: mailgate keeps the message queued and retries with backoff. If it lasts, the server's words say why (a full mailbox, greylisting, a rate limit).",
        );
    }
    let too_large = ["5.3.4", "5.2.3", "size exceeds", "size limit", "too large"];
    if too_large.iter().any(|p| lower.contains(p)) {
        let message = advice::with_said(
            &format!("The SMTP server refused {command}: the message is larger than it accepts."),
            said,
        );
        return Diagnosis::new(
            MESSAGE_TOO_LARGE,
            message,
            "Send a smaller message (link large attachments instead of attaching them), or ask the server's administrator to raise its message size limit; Gmail and Microsoft 365 take about 35 MB once encoded.",
        );
    }
    let message = advice::with_said(&format!("The SMTP server refused {command}."), said);
    Diagnosis::new(
        SMTP_REJECTED,
        message,
        "Read the server's words: a 5.1.x code means an address is wrong or does not exist (fix the recipient, or the sender the login may use), 5.7.x a policy refusal (relaying denied, a sender the account may not send as, a message taken for spam). mailgate does not retry this message.",
    )
}

/// The first rule whose phrase `lower` (lower-case) contains.
fn rule_for(lower: &str) -> Option<fn(&str) -> Diagnosis> {
    RULES
        .iter()
        .find(|(phrases, _)| phrases.iter().any(|p| lower.contains(p)))
        .map(|(_, diagnose)| *diagnose)
}

/// `[UNAVAILABLE]`, `[SYS/TEMP]`, SMTP 4xx, or words that say so (`lower` is lower-case).
fn is_temporary(lower: &str) -> bool {
    let code: String = lower.trim_start().chars().take(3).collect();
    let smtp_transient =
        code.len() == 3 && code.starts_with('4') && code.chars().all(|c| c.is_ascii_digit());
    smtp_transient
        || [
            "[unavailable]",
            "[sys/temp]",
            "[serverbug]",
            "temporary",
            "try again later",
        ]
        .iter()
        .any(|p| lower.contains(p))
}

/// `[CONTACTADMIN]`: the server will not say more; a blocked account is the usual reason.
fn contact_admin(said: &str) -> Diagnosis {
    account_disabled(ProviderKind::Generic, said)
}

fn app_password_required(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The account has 2-Step Verification on and mailgate logged in with its normal password, which Google refuses for IMAP, POP and SMTP.",
        said,
    );
    Diagnosis::new(
        APP_PASSWORD_REQUIRED,
        message,
        "Switch the server to auth oauth (a Google OAuth app or a service account), or create an app password at myaccount.google.com > Security > 2-Step Verification > App passwords and put it in the server's password.",
    )
}

fn web_login_required(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "Google blocked the password login and wants a browser sign-in: it judged the sign-in suspicious, or password access is no longer allowed for this account.",
        said,
    );
    Diagnosis::new(
        WEB_LOGIN_REQUIRED,
        message,
        "Switch the server to auth oauth; Google no longer accepts account passwords over IMAP, POP and SMTP for most accounts. To keep a password, sign in to Gmail once in a browser to clear the security check and use an app password.",
    )
}

fn smtp_auth_disabled(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "Exchange Online refused the login because authenticated SMTP (SMTP AUTH) is turned off for the organisation or the mailbox.",
        said,
    );
    let hint = format!(
        "Turn on Authenticated SMTP for the mailbox in {MANAGE_EMAIL_APPS} (or `Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false`); if it is off for the whole organisation, clear Exchange admin center > Settings > Mail flow > Turn off SMTP AUTH protocol for your organization. Allow up to an hour for the change."
    );
    Diagnosis::new(SMTP_AUTH_DISABLED, message, hint)
}

fn basic_auth_disabled(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "Microsoft refused a password login: basic authentication is disabled for this tenant or mailbox (security defaults also block it).",
        said,
    );
    Diagnosis::new(
        BASIC_AUTH_DISABLED,
        message,
        "Switch the server to auth oauth with a Microsoft OAuth app (scopes https://outlook.office.com/IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send), then authorize it.",
    )
}

fn imap_disabled(said: &str) -> Diagnosis {
    let message = advice::with_said("IMAP access is turned off for this account.", said);
    let hint = format!(
        "Turn IMAP on: Gmail > Settings > See all settings > Forwarding and POP/IMAP > IMAP access > Enable IMAP > Save Changes; in Google Workspace the admin must also allow it in Admin console > Apps > Google Workspace > Gmail > End User Access > POP and IMAP access. Microsoft 365: {MANAGE_EMAIL_APPS} > IMAP."
    );
    Diagnosis::new(IMAP_DISABLED, message, hint)
}

fn pop_disabled(said: &str) -> Diagnosis {
    let message = advice::with_said("POP access is turned off for this account.", said);
    let hint = format!(
        "Turn POP on: Gmail > Settings > See all settings > Forwarding and POP/IMAP > POP download > Enable POP > Save Changes; in Google Workspace the admin must also allow it in Admin console > Apps > Google Workspace > Gmail > End User Access > POP and IMAP access. Microsoft 365: {MANAGE_EMAIL_APPS} > POP."
    );
    Diagnosis::new(POP_DISABLED, message, hint)
}

fn too_many_connections(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The account already has as many simultaneous connections as the provider allows (Gmail: 15 IMAP connections per account, shared by every client).",
        said,
    );
    Diagnosis::new(
        TOO_MANY_CONNECTIONS,
        message,
        "Close other clients of this mailbox (phones, desktop mail apps, other integrations) or point fewer mailgate servers at it; mailgate retries with backoff meanwhile.",
    )
}

fn login_rate_limited(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The server is refusing logins after too many attempts in a short time.",
        said,
    );
    Diagnosis::new(
        LOGIN_RATE_LIMITED,
        message,
        "Nothing to change if it is rare: mailgate waits and retries. If it recurs, look for another client logging in to this account with wrong credentials, and lengthen the server's polling interval.",
    )
}

fn pop_in_use(said: &str) -> Diagnosis {
    let message = advice::with_said("Another POP3 session holds this mailbox's lock.", said);
    Diagnosis::new(
        POP_IN_USE,
        message,
        "Stop the other POP3 client reading this mailbox, or wait for its session to end; mailgate retries with backoff.",
    )
}

fn bandwidth_limit(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The account used up its daily transfer allowance (Google Workspace: 2,500 MB of IMAP download, 1,250 MB of POP download and 500 MB of IMAP upload a day).",
        said,
    );
    Diagnosis::new(
        BANDWIDTH_LIMIT,
        message,
        "Wait: the provider lifts the block within 24 hours and mailgate retries. If it recurs, stop other clients syncing this mailbox or point mailgate at a narrower folder.",
    )
}

pub(super) fn sending_limit(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The account reached its daily sending limit (Google Workspace: 2,000 messages a day, 500 on trials, 10,000 recipients a day) and sending is blocked for up to 24 hours.",
        said,
    );
    Diagnosis::new(
        SENDING_LIMIT,
        message,
        "Wait for the block to lift, within 24 hours (mailgate keeps the messages queued and retries); spread bulk sending over several mailboxes or a relay service so it does not recur.",
    )
}

fn mailbox_not_accessible(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The login worked but that account may not open this mailbox (with Microsoft: the user who authorized is not the mailbox owner and has no Full Access to it, or the mailbox has no licence).",
        said,
    );
    Diagnosis::new(
        MAILBOX_NOT_ACCESSIBLE,
        message,
        "Authorize as the mailbox's own account, or grant the authorizing user Full Access in Exchange admin center > Recipients > Mailboxes > (the mailbox) > Delegation > Read and manage; for a shared mailbox, keep the shared address as the server's email and authorize as a user with Full Access.",
    )
}

fn starttls_required(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The server refuses to log in before the connection is encrypted.",
        said,
    );
    Diagnosis::new(
        STARTTLS_REQUIRED,
        message,
        "Set the server's security to starttls (SMTP port 587, IMAP 143, POP3 110) or to ssl (ports 465, 993, 995).",
    )
}

fn mechanism_unsupported(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The server does not offer the authentication mechanism mailgate used (XOAUTH2 or OAUTHBEARER for OAuth).",
        said,
    );
    Diagnosis::new(
        MECHANISM_UNSUPPORTED,
        message,
        "Check the host and port: OAuth works with imap.gmail.com, pop.gmail.com, smtp.gmail.com, outlook.office365.com and smtp.office365.com; use auth basic for a server without XOAUTH2. With Microsoft SMTP a missing AUTH usually means SMTP AUTH is off for the mailbox.",
    )
}

fn microsoft_auth_failed(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "Exchange Online rejected the OAuth login without saying why.",
        said,
    );
    let hint = format!(
        "Check, in order: the OAuth app requests https://outlook.office.com/IMAP.AccessAsUser.All (POP.AccessAsUser.All, SMTP.Send), not Microsoft Graph scopes; the server's email is the account that authorized, or a mailbox it has Full Access to; the protocol is on in {MANAGE_EMAIL_APPS}. Then authorize the server again."
    );
    Diagnosis::new(MICROSOFT_AUTH_FAILED, message, hint)
}

fn auth_failed(protocol: MailProtocol, said: &str) -> Diagnosis {
    let message = advice::with_said(
        &format!("The {} server rejected the login.", protocol.display_name()),
        said,
    );
    Diagnosis::new(
        AUTH_FAILED,
        message,
        "With OAuth (mailgate has already refreshed the token): authorize the server again and sign in as the server's email. With a password: check the user name and password; Gmail and Microsoft 365 want OAuth or an app password instead of the account password.",
    )
}
