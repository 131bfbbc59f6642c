//! Known answers for SASL failure challenges and IMAP / POP3 / SMTP login replies.

use super::super::*;
use super::{P, R, T, check};
use MailProtocol::{Imap, Pop3, Smtp};
use ProviderKind::{Google as G, Microsoft as M};

const GMAIL_400: &str = r#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#;
const GMAIL_401: &str =
    r#"{"status":"401","schemes":"bearer mac","scope":"https://mail.google.com/"}"#;

type ChallengeCase = (
    ProviderKind,
    &'static str,
    &'static str,
    Severity,
    &'static [&'static str],
);

#[rustfmt::skip]
const CHALLENGES: &[ChallengeCase] = &[
    (G, GMAIL_400, "token_scope_insufficient", R, &["https://mail.google.com/", "authorize the server again", "domain-wide delegation"]),
    (M, r#"{"status":"400"}"#, "token_scope_insufficient", R, &["IMAP.AccessAsUser.All"]),
    (G, GMAIL_401, "access_token_rejected", T, &["refreshes the token"]),
    (G, r#" {"status":401} "#, "access_token_rejected", T, &["refreshes the token"]),
    (G, r#"{"status":"invalid_token","scope":"example_scope","openid-configuration":"https://example.com/.well-known/openid-configuration"}"#, "access_token_rejected", T, &["authorize the server again"]),
    (G, r#"{"status":"insufficient_scope","scope":"https://mail.google.com/"}"#, "token_scope_insufficient", R, &["https://mail.google.com/"]),
    (G, r#"{"status":"invalid_request"}"#, "oauth_request_invalid", P, &["authorize again"]),
    (G, r#"{"status":"403"}"#, "auth_failed", R, &["Authorize the server again"]),
    (G, "", "sasl_challenge_unreadable", P, &["final reply"]),
    (G, "not json at all", "sasl_challenge_unreadable", P, &["XOAUTH2"]),
    (G, "[]", "sasl_challenge_unreadable", P, &["final reply"]),
    (G, "{}", "sasl_challenge_unreadable", P, &["final reply"]),
    (G, r#"{"status":null}"#, "sasl_challenge_unreadable", P, &["final reply"]),
    (G, r#"{"status":"400""#, "sasl_challenge_unreadable", P, &["final reply"]),
];

type ReplyCase = (
    MailProtocol,
    &'static str,
    &'static str,
    Severity,
    &'static [&'static str],
);

#[rustfmt::skip]
const REPLIES: &[ReplyCase] = &[
    (Imap, "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)", "auth_failed", R, &["authorize the server again", "app password"]),
    (Imap, "a1 NO [EXPIRED] Password expired", "auth_failed", R, &["authorize the server again"]),
    (Pop3, "-ERR [AUTH] Username and password not accepted.", "auth_failed", R, &["user name and password"]),
    (Smtp, "535-5.7.8 Username and Password not accepted. For more information, go to 535 5.7.8 https://support.google.com/mail/?p=BadCredentials", "auth_failed", R, &["OAuth"]),
    (Imap, "", "auth_failed", R, &["OAuth"]),
    (Imap, "NO [UNAVAILABLE] Temporary authentication failure.", "service_unavailable", T, &["retries"]),
    (Pop3, "-ERR [SYS/TEMP] Server busy, try later", "service_unavailable", T, &["retries"]),
    (Smtp, "454-4.7.0 Cannot authenticate due to a temporary system problem. Try again later.", "service_unavailable", T, &["retries"]),
    (Smtp, "421 4.7.0 Try again later, closing connection.", "service_unavailable", T, &["retries"]),
    (Smtp, "454 4.7.0 Too many login attempts, please try again later.", "login_rate_limited", T, &["polling interval"]),
    (Pop3, "-ERR [LOGIN-DELAY] minimum time between logins not reached", "login_rate_limited", T, &["retries"]),
    (Imap, "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)", "app_password_required", P, &["auth oauth", "App passwords"]),
    (Smtp, "534-5.7.9 Application-specific password required. Learn more at https://support.google.com/mail/?p=InvalidSecondFactor", "app_password_required", P, &["App passwords"]),
    (Imap, "NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)", "web_login_required", P, &["auth oauth"]),
    (Smtp, "534-5.7.14 <https://accounts.google.com/signin/continue> Please log in via your web browser and then try again.", "web_login_required", P, &["auth oauth"]),
    (Pop3, "-ERR [AUTH] Web login required: https://support.google.com/mail/answer/78754", "web_login_required", P, &["browser"]),
    (Imap, "NO [ALERT] IMAP access is disabled for your domain. Please contact your domain administrator for questions about this feature. (Failure)", "imap_disabled", P, &["End User Access > POP and IMAP access"]),
    (Imap, "NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)", "imap_disabled", P, &["Forwarding and POP/IMAP", "Enable IMAP"]),
    (Pop3, "-ERR [SYS/PERM] Your account is not enabled for POP access. Please visit your Gmail settings page and enable your account for POP access.", "pop_disabled", P, &["POP download", "Enable POP"]),
    (Imap, "NO [ALERT] Too many simultaneous connections. (Failure)", "too_many_connections", T, &["Close other clients"]),
    (Imap, "NO [ALERT] Account exceeded command or bandwidth limits. (Failure)", "bandwidth_limit_exceeded", T, &["24 hours"]),
    (Smtp, "550-5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852", "sending_limit_exceeded", T, &["queued"]),
    (Pop3, "-ERR [IN-USE] Mailbox locked by another session", "pop_mailbox_in_use", T, &["other POP3 client"]),
    (Imap, "a1 NO AUTHENTICATE failed.", "microsoft_auth_failed", P, &["IMAP.AccessAsUser.All", "Manage email apps"]),
    (Smtp, "535 5.7.3 Authentication unsuccessful [BN3PR03CA0067.namprd03.prod.outlook.com]", "microsoft_auth_failed", P, &["SMTP.Send"]),
    (Smtp, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.", "microsoft_smtp_auth_disabled", P, &["Authenticated SMTP", "Set-CASMailbox", "Turn off SMTP AUTH protocol for your organization"]),
    (Smtp, "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [PN0PR01CA0024.INDPRD01.PROD.OUTLOOK.COM]", "microsoft_basic_auth_disabled", P, &["auth oauth"]),
    (Smtp, "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy.", "microsoft_basic_auth_disabled", P, &["auth oauth"]),
    (Imap, "a1 NO User is authenticated but not connected.", "mailbox_not_accessible", P, &["Full Access"]),
    (Imap, "a1 NO [AUTHORIZATIONFAILED] Not allowed to act as that user", "mailbox_not_accessible", P, &["Delegation"]),
    (Imap, "a1 NO [CONTACTADMIN] Account suspended", "account_disabled", P, &["re-enable"]),
    (Smtp, "530 5.7.0 Must issue a STARTTLS command first.", "starttls_required", P, &["starttls", "587"]),
    (Imap, "a1 NO [PRIVACYREQUIRED] Connection is not encrypted", "starttls_required", P, &["ssl"]),
    (Smtp, "504 5.7.4 Unrecognized authentication type", "auth_mechanism_unsupported", P, &["host and port"]),
];

/// SMTP refusals of a message: the command, the reply, and the diagnosis.
type SmtpCase = (
    &'static str,
    &'static str,
    &'static str,
    Severity,
    &'static [&'static str],
);

#[rustfmt::skip]
const SMTP_REFUSALS: &[SmtpCase] = &[
    ("RCPT TO:<nobody@example.test>", "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in virtual mailbox table", "smtp_rejected", P, &["5.1.x", "does not retry"]),
    ("MAIL FROM:<ceo@example.org>", "553 5.7.1 <ceo@example.org>: Sender address rejected: not owned by user alice@example.test", "smtp_rejected", P, &["may not send as"]),
    ("RCPT TO:<x@gmail.com>", "554 5.7.1 <x@gmail.com>: Relay access denied", "smtp_rejected", P, &["relaying denied"]),
    ("RCPT TO:<bob@example.test>", "452 4.2.2 Mailbox full", "service_unavailable", T, &["retries"]),
    ("RCPT TO:<bob@example.test>", "450 4.7.1 Client host rejected: account disabled, try again", "service_unavailable", T, &["retries"]),
    ("the end of DATA", "451 4.3.0 Error: queue file write error", "service_unavailable", T, &["queued"]),
    ("the end of DATA", "552 5.3.4 Message size exceeds fixed limit", "message_too_large", P, &["smaller message"]),
    ("the end of DATA", "552 5.2.3 Your message exceeded Google's message size limits.", "message_too_large", P, &["35 MB"]),
    ("the end of DATA", "554 5.7.0 temporary words do not make a 5xx temporary", "smtp_rejected", P, &["5.7.x"]),
    ("MAIL FROM:<alice@gmail.com>", "550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852", "sending_limit_exceeded", T, &["queued"]),
    ("MAIL FROM:<alice@example.test>", "530 5.7.0 Must issue a STARTTLS command first", "starttls_required", P, &["starttls"]),
    ("RCPT TO:<bob@example.test>", "421 4.7.0 Try again later, closing connection.", "service_unavailable", T, &["retries"]),
];

pub(super) fn produced() -> Vec<Diagnosis> {
    let mut out: Vec<Diagnosis> = CHALLENGES
        .iter()
        .map(|(p, json, ..)| xoauth2_challenge(*p, json))
        .collect();
    out.extend(
        REPLIES
            .iter()
            .map(|(protocol, reply, ..)| auth_reply(*protocol, reply)),
    );
    out.extend(
        SMTP_REFUSALS
            .iter()
            .map(|(command, reply, ..)| smtp_reply(command, reply)),
    );
    out
}

#[test]
fn smtp_refusal_known_answers() {
    for (command, reply, code, severity, keys) in SMTP_REFUSALS {
        let d = smtp_reply(command, reply);
        check(&d, code, *severity, keys, reply);
        let start: String = reply.chars().take(20).collect();
        assert!(
            d.message.contains(&start),
            "server words missing: {}",
            d.message
        );
    }
}

#[test]
fn challenge_known_answers() {
    for (p, json, code, severity, keys) in CHALLENGES {
        check(&xoauth2_challenge(*p, json), code, *severity, keys, json);
    }
}

#[test]
fn reply_known_answers() {
    for (protocol, reply, code, severity, keys) in REPLIES {
        let d = auth_reply(*protocol, reply);
        check(&d, code, *severity, keys, reply);
        if !reply.is_empty() {
            let start: String = reply.chars().take(20).collect();
            assert!(
                d.message.contains(&start),
                "server words missing: {}",
                d.message
            );
        }
    }
}

#[test]
fn whole_sasl_exchange_prefers_the_most_specific_signal() {
    let invalid = "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)";
    let d = sasl_failure(G, Imap, Some(GMAIL_401), invalid);
    check(
        &d,
        "access_token_rejected",
        T,
        &["refreshes"],
        "401 + invalid",
    );
    assert!(d.message.contains("Invalid credentials"), "{}", d.message);

    let d = sasl_failure(G, Imap, Some(GMAIL_400), invalid);
    assert_eq!(d.code, "token_scope_insufficient");

    let disabled = "NO [ALERT] Your account is not enabled for IMAP use. (Failure)";
    assert_eq!(
        sasl_failure(G, Imap, Some(GMAIL_400), disabled).code,
        "imap_disabled"
    );
    let busy = "NO [UNAVAILABLE] Temporary authentication failure.";
    assert_eq!(
        sasl_failure(G, Imap, None, busy).code,
        "service_unavailable"
    );
    assert_eq!(
        sasl_failure(G, Smtp, Some("garbage"), "535 5.7.8 nope").code,
        "auth_failed"
    );
    assert_eq!(
        sasl_failure(M, Imap, None, "a1 NO AUTHENTICATE failed.").code,
        "microsoft_auth_failed"
    );
}

#[test]
fn a_token_refused_after_a_refresh_needs_reauthorization() {
    let d = xoauth2_challenge(G, GMAIL_401).after_fresh_token();
    check(
        &d,
        "auth_failed",
        R,
        &["Authorize the server again"],
        "after refresh",
    );
    let other = auth_reply(
        Imap,
        "NO [ALERT] Too many simultaneous connections. (Failure)",
    );
    assert_eq!(other.clone().after_fresh_token(), other);
}
