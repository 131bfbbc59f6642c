//! Gmail API client against the Google emulator, which relays sends into the real Dovecot +
//! Postfix stack: composed messages arrive intact (as JSON and through the upload), the
//! profile, scope and token refusals with Google's words, the rate limit and outages. What the
//! emulator cannot script is in `faults`.

use mailgate_domain::EmailAddress;
use mailgate_domain::mail::compose::{
    AttachmentInput, Compose, Draft, DraftAddress, DraftInput, render_for_gmail_api,
};
use mailgate_domain::mail::{self, ParsedMessage};
use mailgate_emulator::{Emulator, EmulatorConfig, MintAccessToken, Outage, RateLimit};
use mailgate_proto::gmail::{GmailClient, uses_upload};
use mailgate_testkit::world;
use secrecy::SecretString;
use std::time::Duration;

mod faults;

const DELIVERY: Duration = Duration::from_secs(20);

fn client(base_url: &str) -> GmailClient {
    mailgate_testkit::init();
    GmailClient::new(reqwest::Client::new(), base_url)
}

fn world_client() -> GmailClient {
    client(world().emulator.base_url())
}

fn token_for(email: &str, scope: &str) -> SecretString {
    let mint = MintAccessToken {
        scope: Some(scope.to_owned()),
        ..MintAccessToken::for_email(email)
    };
    let minted = world().emulator.control().mint_access_token(mint).unwrap();
    SecretString::from(minted.access_token)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A draft to `to`, Bcc `bcc`, with a non-ASCII subject, both bodies, an inline image and
/// an attachment of `size` bytes.
fn draft(to: &str, bcc: &str, size: usize) -> Draft {
    let file: Vec<u8> = (0..size).map(|i| (i * 7 + i / 251) as u8).collect();
    DraftInput {
        to: Some(vec![format!("\"Doe, Jane\" <{to}>")]),
        bcc: Some(vec![bcc.to_owned()]),
        subject: Some("Drucker kaputt — 打印机 ✓".into()),
        text: Some("Grüße,\nder Drucker druckt leere Seiten.\n".into()),
        html: Some("<p>Grüße, <img src=\"cid:logo@example.test\"></p>".into()),
        attachments: Some(vec![
            AttachmentInput {
                filename: Some("Bericht 2026.bin".into()),
                content_base64: Some(b64(&file)),
                ..AttachmentInput::default()
            },
            AttachmentInput {
                filename: Some("logo.png".into()),
                content_type: Some("image/png".into()),
                content_base64: Some(b64(b"\x89PNG\r\n\x1a\n")),
                content_id: Some("logo@example.test".into()),
            },
        ]),
        ..DraftInput::default()
    }
    .parse()
    .unwrap()
}

fn rendered(draft: &Draft, from: &str, message_id: &str) -> Vec<u8> {
    let from = DraftAddress {
        name: Some("Support Desk".into()),
        email: EmailAddress::parse("from", from).unwrap(),
    };
    let c = Compose {
        from: &from,
        reply_to: None,
        message_id,
        date: "2026-11-22T04:00:00Z".parse().unwrap(),
        loop_marker: "support@example.test",
    };
    render_for_gmail_api(draft, &c)
}

/// The one message in `user`'s INBOX, parsed.
async fn only_message(user: &str) -> (String, ParsedMessage) {
    let inbox = world().read_inbox(user, 1, DELIVERY).await;
    assert_eq!(inbox.len(), 1, "{user}: {inbox:?}");
    let parsed = mail::parse(inbox[0].as_bytes());
    (inbox[0].clone(), parsed)
}

/// Sends a composed message with an attachment of `size` bytes; checks that the recipient
/// and the Bcc recipient receive it whole, and that no Bcc header reaches them.
async fn send_and_check(prefix: &str, size: usize, upload: bool) {
    let w = world();
    let (sender, to, bcc) = (
        w.fresh_user(prefix),
        w.fresh_user(&format!("{prefix}-to")),
        w.fresh_user(&format!("{prefix}-bcc")),
    );
    let d = draft(&to, &bcc, size);
    let message_id = mail::new_message_id("helpdesk.example.test");
    let raw = rendered(&d, &sender, &message_id);
    assert_eq!(uses_upload(raw.len()), upload, "{} bytes", raw.len());

    let token = SecretString::from(w.mint_token(&sender));
    let sent = world_client().send_raw(&token, "me", &raw).await.unwrap();
    assert_eq!(sent.label_ids, ["SENT"]);
    let relayed = w.emulator.control().sent_messages();
    let relayed = relayed.iter().find(|m| m.id == sent.id).unwrap();
    assert_eq!(Some(&relayed.thread_id), sent.thread_id.as_ref());
    assert!(relayed.relayed);

    for user in [&to, &bcc] {
        let (text, p) = only_message(user).await;
        let head = text.split("\r\n\r\n").next().unwrap();
        assert!(
            !head.to_ascii_lowercase().contains("\nbcc:"),
            "{user}: {head}"
        );
        if user == &to {
            assert!(!text.contains(bcc.as_str()), "{head}");
        }
        assert_eq!(
            p.message_id.as_deref(),
            Some(message_id.trim_matches(['<', '>']))
        );
        let from = p.from.unwrap();
        assert_eq!(
            (from.name.as_deref(), from.address),
            (Some("Support Desk"), sender.clone())
        );
        assert_eq!(p.to[0].name.as_deref(), Some("Doe, Jane"));
        assert_eq!(p.subject, "Drucker kaputt — 打印机 ✓");
        assert_eq!(
            p.text.trim_end(),
            "Grüße,\nder Drucker druckt leere Seiten."
        );
        assert_eq!(p.html, d.html);
        let file = p.attachments.iter().find(|a| !a.inline).unwrap();
        assert_eq!(file.filename, "Bericht 2026.bin");
        assert!(
            file.content == d.attachments[0].content,
            "{user}: the file changed"
        );
        let logo = p.attachments.iter().find(|a| a.inline).unwrap();
        assert_eq!(logo.content_id.as_deref(), Some("logo@example.test"));
    }
}

#[tokio::test]
async fn a_small_composed_message_goes_as_json_and_arrives_intact() {
    send_and_check("gmail-json", 2_000, false).await;
}

#[tokio::test]
async fn a_large_composed_message_goes_through_the_upload_and_arrives_intact() {
    send_and_check("gmail-upload", 4_000_000, true).await;
}

#[tokio::test]
async fn the_profile_names_the_mailbox() {
    let w = world();
    let user = w.fresh_user("gmail-profile");
    let token = SecretString::from(w.mint_token(&user));
    let profile = world_client().profile(&token, "me").await.unwrap();
    assert_eq!(profile.email_address, user);
    assert_eq!(profile.messages_total, Some(0));
    let by_address = world_client().profile(&token, &user).await.unwrap();
    assert_eq!(by_address.email_address, user);
}

#[tokio::test]
async fn a_token_without_a_sending_scope_is_refused_permanently_in_googles_words() {
    let w = world();
    let user = w.fresh_user("gmail-scope");
    let readonly = token_for(&user, "https://www.googleapis.com/auth/gmail.readonly");
    let raw = format!("From: {user}\r\nTo: {user}\r\nSubject: x\r\n\r\nx\r\n");
    let e = world_client()
        .send_raw(&readonly, "me", raw.as_bytes())
        .await
        .unwrap_err();
    assert!(
        e.is_permanent() && !e.is_transient() && !e.is_auth(),
        "{e:?}"
    );
    assert_eq!(
        e.server_reply().as_deref(),
        Some(
            "403 PERMISSION_DENIED insufficientPermissions: Request had insufficient authentication scopes."
        )
    );
    let d = e.diagnosis();
    assert_eq!(d.code, "token_scope_insufficient");
    assert!(
        d.hint
            .contains("https://www.googleapis.com/auth/gmail.send"),
        "{d}"
    );
    assert!(
        w.emulator
            .control()
            .sent_messages()
            .iter()
            .all(|m| m.from != user)
    );

    // gmail.send may send but not read the profile: Test Connection must say so.
    let send_only = token_for(&user, "https://www.googleapis.com/auth/gmail.send");
    let e = world_client().profile(&send_only, "me").await.unwrap_err();
    assert_eq!(
        (e.status(), e.diagnosis().code.as_str()),
        (Some(403), "token_scope_insufficient")
    );
}

#[tokio::test]
async fn a_revoked_token_is_an_auth_error_that_never_shows_the_token() {
    let w = world();
    let user = w.fresh_user("gmail-revoked");
    let token = w.mint_token(&user);
    assert!(w.emulator.control().revoke(&token));
    let secret = SecretString::from(token.clone());
    let e = world_client().profile(&secret, "me").await.unwrap_err();
    assert!(e.is_auth() && e.is_permanent(), "{e:?}");
    assert_eq!(e.status(), Some(401));
    assert!(
        e.server_reply()
            .unwrap()
            .starts_with("401 UNAUTHENTICATED authError: ")
    );
    assert_eq!(e.diagnosis().code, "access_token_rejected");
    for shown in [
        format!("{e}"),
        format!("{e:?}"),
        format!("{}", e.diagnosis()),
    ] {
        assert!(!shown.contains(&token), "{shown}");
    }
}

#[tokio::test]
async fn the_rate_limit_is_transient_with_googles_retry_time() {
    let w = world();
    let user = w.fresh_user("gmail-rate");
    let limit = RateLimit {
        max_requests: 0,
        per_seconds: 60,
    };
    w.emulator
        .control()
        .set_gmail_rate_limit(&user, Some(limit));
    let token = SecretString::from(w.mint_token(&user));
    let e = world_client().profile(&token, "me").await.unwrap_err();
    assert!(e.is_transient() && !e.is_auth(), "{e:?}");
    assert_eq!(e.diagnosis().code, "rate_limited");
    // "Retry after {time}" of the emulator's clock, counted from its Date header.
    let wait = e.retry_after().expect("a retry time");
    assert!(
        (Duration::from_secs(1)..=Duration::from_secs(61)).contains(&wait),
        "{wait:?}"
    );
}

/// Outages hit every caller of an emulator: a private one (no mail stack needed).
#[tokio::test]
async fn injected_outages_are_transient() {
    mailgate_testkit::init();
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let token = emulator
        .control()
        .mint_access_token(MintAccessToken::for_email("outage@example.test"))
        .unwrap()
        .access_token;
    let token = SecretString::from(token);
    let gmail = client(emulator.base_url());
    for (status, reply) in [
        (
            500,
            "500 INTERNAL backendError: Internal error encountered.",
        ),
        (
            503,
            "503 UNAVAILABLE backendError: The service is currently unavailable.",
        ),
        (
            429,
            "429 RESOURCE_EXHAUSTED rateLimitExceeded: User-rate limit exceeded.",
        ),
    ] {
        emulator.control().set_gmail_outage(Outage::status(status));
        let e = gmail
            .send_raw(&token, "me", b"To: a@example.test\r\n\r\nx")
            .await
            .unwrap_err();
        assert!(e.is_transient() && !e.is_permanent(), "{status}: {e:?}");
        assert!(e.server_reply().unwrap().starts_with(reply), "{e}");
    }
    emulator.control().set_gmail_outage(Outage::NONE);
    gmail.profile(&token, "me").await.unwrap();
}
