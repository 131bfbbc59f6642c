//! The token lifecycle as the mail servers see it: tokens the emulator issues (minted, refreshed,
//! revoked, expired) are accepted or refused by Dovecot and Postfix, over XOAUTH2 and OAUTHBEARER;
//! a Gmail API send through the emulator lands in a real mailbox.

use super::{imaps, last, pop3s, submission, user_with_token};
use mailgate_emulator::{
    ClientRegistration, Emulator, EmulatorConfig, MintAccessToken, MintRefreshToken, Outage,
};
use mailgate_testkit::mailstack::MailStack;
use mailgate_testkit::wire::{Conn, b64, unb64, xoauth2};
use mailgate_testkit::world;
use std::time::Duration;

/// RFC 7628 initial response.
fn oauthbearer(user: &str, port: u16, token: &str) -> String {
    b64(&format!(
        "n,a={user},\x01host=127.0.0.1\x01port={port}\x01auth=Bearer {token}\x01\x01"
    ))
}

#[tokio::test]
async fn oauthbearer_logs_in_on_imap_pop3_and_smtp() {
    let (world, user, token) = user_with_token("bearer");
    let stack = &world.stack;
    let mut imap = imaps(stack).await;
    let reply = imap
        .imap(
            "a1",
            &format!(
                "AUTHENTICATE OAUTHBEARER {}",
                oauthbearer(&user, stack.imaps_port, &token)
            ),
        )
        .await;
    assert!(last(&reply).starts_with("a1 OK"), "{reply:?}");

    let mut pop3 = pop3s(stack).await;
    pop3.send(&format!(
        "AUTH OAUTHBEARER {}",
        oauthbearer(&user, stack.pop3s_port, &token)
    ))
    .await;
    assert!(pop3.line().await.starts_with("+OK"));

    let mut smtp = submission(stack).await;
    let reply = smtp
        .smtp(&format!(
            "AUTH OAUTHBEARER {}",
            oauthbearer(&user, stack.submission_port, &token)
        ))
        .await;
    assert!(last(&reply).starts_with("235"), "{reply:?}");
}

#[tokio::test]
async fn oauthbearer_failure_gets_the_rfc_7628_challenge() {
    let (world, user, _) = user_with_token("bearer-bad");
    let mut imap = imaps(&world.stack).await;
    imap.send(&format!(
        "a1 AUTHENTICATE OAUTHBEARER {}",
        oauthbearer(&user, world.stack.imaps_port, "ya29.forged")
    ))
    .await;
    let challenge = imap.line().await;
    let json: serde_json::Value = serde_json::from_str(&unb64(
        challenge.strip_prefix("+ ").expect("a continuation"),
    ))
    .unwrap();
    assert_eq!(json["status"], "invalid_token");
    imap.send(&b64("\x01")).await;
    assert!(last(&imap.imap_reply("a1").await).starts_with("a1 NO"));
}

/// Logs in over IMAPS with XOAUTH2; the server's answer and, on failure, the decoded challenge.
async fn imap_xoauth2(user: &str, token: &str) -> (String, Option<String>) {
    let mut imap = imaps(&world().stack).await;
    imap.send(&format!("a1 AUTHENTICATE XOAUTH2 {}", xoauth2(user, token)))
        .await;
    let first = imap.line().await;
    match first.strip_prefix("+ ") {
        Some(challenge) => {
            imap.send("").await;
            (
                last(&imap.imap_reply("a1").await).to_owned(),
                Some(unb64(challenge)),
            )
        }
        None => (first, None),
    }
}

#[tokio::test]
async fn a_revoked_token_is_refused_with_the_xoauth2_challenge() {
    let (world, user, token) = user_with_token("revoked");
    assert!(imap_xoauth2(&user, &token).await.0.starts_with("a1 OK"));
    assert!(world.emulator.control().revoke(&token));
    let (reply, challenge) = imap_xoauth2(&user, &token).await;
    assert!(reply.starts_with("a1 NO [AUTHENTICATIONFAILED]"), "{reply}");
    let challenge: serde_json::Value =
        serde_json::from_str(&challenge.expect("a challenge")).unwrap();
    assert_eq!(challenge["status"], "401");
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let world = world();
    let user = world.fresh_user("expired");
    let expired = world
        .emulator
        .control()
        .mint_access_token(MintAccessToken {
            expires_in: -60,
            ..MintAccessToken::for_email(&user)
        })
        .unwrap()
        .access_token;
    let (reply, challenge) = imap_xoauth2(&user, &expired).await;
    assert!(reply.starts_with("a1 NO"), "{reply}");
    assert!(challenge.is_some());
}

#[tokio::test]
async fn a_token_from_the_refresh_grant_opens_the_mailbox() {
    mailgate_testkit::init();
    let world = world();
    let user = world.fresh_user("refreshed");
    let client = format!(
        "{}.apps.googleusercontent.com",
        uuid::Uuid::new_v4().simple()
    );
    world
        .emulator
        .control()
        .register_client(ClientRegistration::new(
            client.clone(),
            "secret",
            ["http://127.0.0.1/oauth/callback"],
        ));
    let refresh = world
        .emulator
        .control()
        .mint_refresh_token(MintRefreshToken::new(&user, &client))
        .unwrap();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/token", world.emulator.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
            ("client_id", client.as_str()),
            ("client_secret", "secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(imap_xoauth2(&user, token).await.0.starts_with("a1 OK"));
}

#[tokio::test]
async fn a_gmail_api_send_arrives_in_the_recipients_mailbox() {
    mailgate_testkit::init();
    let world = world();
    let sender = world.fresh_user("gmail-sender");
    let recipient = world.fresh_user("gmail-recipient");
    let token = world.mint_token(&sender);
    let raw = format!(
        "From: {sender}\r\nTo: {recipient}\r\nSubject: Sent through the Gmail API\r\n\r\nHello over the API.\r\n"
    );
    use base64::Engine;
    let body =
        serde_json::json!({"raw": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)});
    let res = reqwest::Client::new()
        .post(format!(
            "{}/gmail/v1/users/me/messages/send",
            world.emulator.base_url()
        ))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let inbox = world
        .read_inbox(&recipient, 1, Duration::from_secs(10))
        .await;
    assert_eq!(inbox.len(), 1);
    assert!(
        inbox[0].contains("Subject: Sent through the Gmail API")
            && inbox[0].contains("Hello over the API."),
        "{}",
        inbox[0]
    );
    assert!(
        inbox[0].contains("Message-ID: <"),
        "the emulator adds a Message-ID as Gmail does"
    );
}

/// A tokeninfo outage is a temporary failure for IMAP (Dovecot `[UNAVAILABLE]`), not a bad token.
/// Its own emulator and stack: an outage on the shared ones would fail the tests beside it.
#[tokio::test]
async fn a_provider_outage_is_a_temporary_failure_not_a_rejection() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let stack = tokio::task::spawn_blocking({
        let url = emulator.base_url().to_owned();
        move || MailStack::start(&url)
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{e:#}"));
    let user = stack.fresh_user("outage");
    let token = emulator
        .control()
        .mint_access_token(MintAccessToken::for_email(&user))
        .unwrap()
        .access_token;
    emulator.control().set_oauth_outage(Outage::status(503));
    let mut imap = Conn::tls(&stack, stack.imaps_port).await;
    assert!(imap.line().await.starts_with("* OK"));
    let reply = imap
        .imap(
            "a1",
            &format!("AUTHENTICATE XOAUTH2 {}", xoauth2(&user, &token)),
        )
        .await;
    assert!(last(&reply).starts_with("a1 NO [UNAVAILABLE]"), "{reply:?}");

    emulator.control().set_oauth_outage(Outage::NONE);
    let mut imap = Conn::tls(&stack, stack.imaps_port).await;
    assert!(imap.line().await.starts_with("* OK"));
    let reply = imap
        .imap(
            "a1",
            &format!("AUTHENTICATE XOAUTH2 {}", xoauth2(&user, &token)),
        )
        .await;
    assert!(
        last(&reply).starts_with("a1 OK"),
        "recovers with the provider: {reply:?}"
    );
    tokio::task::spawn_blocking(move || stack.stop())
        .await
        .unwrap()
        .unwrap();
}
