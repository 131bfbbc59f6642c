//! Proves the real Dovecot + Postfix stack works: XOAUTH2 against the emulator's tokeninfo on
//! IMAP, POP3 and SMTP, the failure challenge for bad tokens, password logins, and
//! delivery from submission to IMAP and POP3. Raw protocol exchanges, no mail crates.

use mailgate_testkit::eventually;
use std::time::Duration;

use mailgate_testkit::mailstack::{ALICE, MailStack};
use mailgate_testkit::wire::{Conn, b64, unb64, xoauth2};
use mailgate_testkit::{World, world};

mod oauth;

/// A fresh user of the stack and a valid token for it, minted by the Google emulator whose
/// tokeninfo endpoint Dovecot asks.
fn user_with_token(prefix: &str) -> (&'static World, String, String) {
    let world = world();
    let user = world.fresh_user(prefix);
    let token = world.mint_token(&user);
    (world, user, token)
}

fn last(lines: &[String]) -> &str {
    lines.last().map_or("", String::as_str)
}

const XOAUTH2_FAILURE: &str = r#"{"status":"401","schemes":"bearer","scope":"mail"}"#;

async fn imaps(stack: &MailStack) -> Conn {
    let mut imap = Conn::tls(stack, stack.imaps_port).await;
    let greeting = imap.line().await;
    assert!(greeting.starts_with("* OK"), "{greeting}");
    imap
}

async fn pop3s(stack: &MailStack) -> Conn {
    let mut pop3 = Conn::tls(stack, stack.pop3s_port).await;
    let greeting = pop3.line().await;
    assert!(greeting.starts_with("+OK"), "{greeting}");
    pop3
}

/// Submission port after EHLO, STARTTLS and EHLO again; checks the offered mechanisms.
async fn submission(stack: &MailStack) -> Conn {
    let mut smtp = Conn::plain(stack.submission_port).await;
    assert!(smtp.smtp_reply().await[0].starts_with("220"));
    let ehlo = smtp.smtp("EHLO client.example.test").await;
    assert!(ehlo.iter().any(|l| l.contains("STARTTLS")), "{ehlo:?}");
    assert!(
        !ehlo.iter().any(|l| l.contains("AUTH")),
        "AUTH before TLS: {ehlo:?}"
    );
    assert!(last(&smtp.smtp("STARTTLS").await).starts_with("220"));
    let mut smtp = smtp.starttls(stack).await;
    let ehlo = smtp.smtp("EHLO client.example.test").await;
    assert!(
        ehlo.iter()
            .any(|l| l.contains("AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER")),
        "{ehlo:?}"
    );
    smtp
}

#[tokio::test]
async fn imaps_xoauth2_login_succeeds() {
    let (world, user, token) = user_with_token("imaps");
    let mut imap = imaps(&world.stack).await;
    let auth = format!("AUTHENTICATE XOAUTH2 {}", xoauth2(&user, &token));
    let reply = imap.imap("a1", &auth).await;
    assert!(last(&reply).starts_with("a1 OK"), "{reply:?}");
    let reply = imap.imap("a2", "SELECT INBOX").await;
    assert!(reply.iter().any(|l| l == "* 0 EXISTS"), "{reply:?}");
    imap.imap("a3", "LOGOUT").await;
}

#[tokio::test]
async fn imaps_invalid_token_gets_the_json_challenge_then_no() {
    let (world, user, _) = user_with_token("imaps-bad");
    let mut imap = imaps(&world.stack).await;
    let auth = format!("AUTHENTICATE XOAUTH2 {}", xoauth2(&user, "not-a-token"));
    imap.send(&format!("a1 {auth}")).await;
    let challenge = imap.line().await;
    let json = challenge.strip_prefix("+ ").expect("a continuation");
    assert_eq!(unb64(json), XOAUTH2_FAILURE);
    imap.send("").await;
    let reply = imap.imap_reply("a1").await;
    assert!(
        last(&reply).starts_with("a1 NO [AUTHENTICATIONFAILED]"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn imaps_token_of_another_user_is_refused() {
    let (world, _, token) = user_with_token("owner");
    let other = world.stack.fresh_user("other");
    let mut imap = imaps(&world.stack).await;
    imap.send(&format!(
        "a1 AUTHENTICATE XOAUTH2 {}",
        xoauth2(&other, &token)
    ))
    .await;
    assert!(imap.line().await.starts_with("+ "));
    imap.send("").await;
    let reply = imap.imap_reply("a1").await;
    assert!(last(&reply).starts_with("a1 NO"), "{reply:?}");
}

#[tokio::test]
async fn pop3s_xoauth2_login_succeeds() {
    let (world, user, token) = user_with_token("pop3s");
    let mut pop3 = pop3s(&world.stack).await;
    pop3.send(&format!("AUTH XOAUTH2 {}", xoauth2(&user, &token)))
        .await;
    let reply = pop3.line().await;
    assert!(reply.starts_with("+OK"), "{reply}");
    pop3.send("STAT").await;
    assert!(pop3.line().await.starts_with("+OK 0 "));
    pop3.send("QUIT").await;
}

#[tokio::test]
async fn pop3s_invalid_token_gets_the_json_challenge_then_err() {
    let (world, user, _) = user_with_token("pop3s-bad");
    let mut pop3 = pop3s(&world.stack).await;
    pop3.send(&format!("AUTH XOAUTH2 {}", xoauth2(&user, "not-a-token")))
        .await;
    let challenge = pop3.line().await;
    let json = challenge.strip_prefix("+ ").expect("a continuation");
    assert_eq!(unb64(json), XOAUTH2_FAILURE);
    pop3.send("").await;
    let reply = pop3.line().await;
    assert!(reply.starts_with("-ERR"), "{reply}");
}

#[tokio::test]
async fn submission_xoauth2_login_after_starttls_succeeds() {
    let (world, user, token) = user_with_token("submit");
    let mut smtp = submission(&world.stack).await;
    let reply = smtp
        .smtp(&format!("AUTH XOAUTH2 {}", xoauth2(&user, &token)))
        .await;
    assert!(last(&reply).starts_with("235"), "{reply:?}");
    smtp.smtp("QUIT").await;
}

#[tokio::test]
async fn submission_invalid_token_gets_the_json_challenge_then_535() {
    let (world, user, _) = user_with_token("submit-bad");
    let mut smtp = submission(&world.stack).await;
    let challenge = smtp
        .smtp(&format!("AUTH XOAUTH2 {}", xoauth2(&user, "not-a-token")))
        .await;
    let json = last(&challenge)
        .strip_prefix("334 ")
        .expect("a 334 challenge");
    assert_eq!(unb64(json), XOAUTH2_FAILURE);
    let reply = smtp.smtp("").await;
    assert!(last(&reply).starts_with("535"), "{reply:?}");
}

#[tokio::test]
async fn smtps_xoauth2_login_succeeds() {
    let (world, user, token) = user_with_token("smtps");
    let mut smtp = Conn::tls(&world.stack, world.stack.smtps_port).await;
    assert!(smtp.smtp_reply().await[0].starts_with("220"));
    smtp.smtp("EHLO client.example.test").await;
    let reply = smtp
        .smtp(&format!("AUTH XOAUTH2 {}", xoauth2(&user, &token)))
        .await;
    assert!(last(&reply).starts_with("235"), "{reply:?}");
}

#[tokio::test]
async fn password_logins_work_for_alice() {
    let world = world();
    let (alice, password) = ALICE;
    // IMAP on the plain port, upgraded with STARTTLS.
    let mut imap = Conn::plain(world.stack.imap_port).await;
    assert!(imap.line().await.starts_with("* OK"));
    assert!(last(&imap.imap("a1", "STARTTLS").await).starts_with("a1 OK"));
    let mut imap = imap.starttls(&world.stack).await;
    let reply = imap.imap("a2", &format!("LOGIN {alice} {password}")).await;
    assert!(last(&reply).starts_with("a2 OK"), "{reply:?}");
    // AUTH PLAIN on submission.
    let mut smtp = submission(&world.stack).await;
    let plain = b64(&format!("\0{alice}\0{password}"));
    let reply = smtp.smtp(&format!("AUTH PLAIN {plain}")).await;
    assert!(last(&reply).starts_with("235"), "{reply:?}");
    // USER/PASS on the plain POP3 port (plaintext logins are allowed on loopback).
    let mut pop3 = Conn::plain(world.stack.pop3_port).await;
    assert!(pop3.line().await.starts_with("+OK"));
    pop3.send(&format!("USER {alice}")).await;
    assert!(pop3.line().await.starts_with("+OK"));
    pop3.send(&format!("PASS {password}")).await;
    let reply = pop3.line().await;
    assert!(reply.starts_with("+OK"), "{reply}");
}

#[tokio::test]
async fn inbound_smtp_accepts_the_domain_and_refuses_relaying() {
    let world = world();
    let mut smtp = Conn::plain(world.stack.smtp_port).await;
    assert!(smtp.smtp_reply().await[0].starts_with("220"));
    smtp.smtp("EHLO mx.example.org").await;
    assert!(last(&smtp.smtp("MAIL FROM:<someone@example.org>").await).starts_with("250"));
    let reply = smtp.smtp("RCPT TO:<someone@gmail.com>").await;
    assert!(last(&reply).starts_with("554"), "{reply:?}");
    let local = world.stack.fresh_user("inbound");
    let reply = smtp.smtp(&format!("RCPT TO:<{local}>")).await;
    assert!(last(&reply).starts_with("250"), "{reply:?}");
}

#[tokio::test]
async fn submitted_message_is_delivered_to_imap_and_pop3() {
    let (world, sender, sender_token) = user_with_token("sender");
    let (_, rcpt, rcpt_token) = user_with_token("rcpt");
    let stack = &world.stack;
    let marker = uuid::Uuid::new_v4().to_string();

    let mut smtp = submission(stack).await;
    let auth = smtp
        .smtp(&format!("AUTH XOAUTH2 {}", xoauth2(&sender, &sender_token)))
        .await;
    assert!(last(&auth).starts_with("235"), "{auth:?}");
    for (command, code) in [
        (format!("MAIL FROM:<{sender}>"), "250"),
        (format!("RCPT TO:<{rcpt}>"), "250"),
        ("DATA".to_owned(), "354"),
    ] {
        let reply = smtp.smtp(&command).await;
        assert!(last(&reply).starts_with(code), "{command}: {reply:?}");
    }
    for line in [
        format!("From: <{sender}>"),
        format!("To: <{rcpt}>"),
        format!("Subject: delivery {marker}"),
        String::new(),
        format!("body {marker}"),
    ] {
        smtp.send(&line).await;
    }
    let queued = smtp.smtp(".").await;
    assert!(last(&queued).starts_with("250"), "{queued:?}");
    smtp.smtp("QUIT").await;

    // IMAP: delivery through LMTP is asynchronous; poll STATUS until it lands.
    let mut imap = imaps(stack).await;
    let auth = format!("AUTHENTICATE XOAUTH2 {}", xoauth2(&rcpt, &rcpt_token));
    assert!(last(&imap.imap("a1", &auth).await).starts_with("a1 OK"));
    eventually(
        "the message delivered",
        Duration::from_secs(10),
        async || {
            let status = imap.imap("s", "STATUS INBOX (MESSAGES)").await;
            status
                .iter()
                .any(|l| l.contains("(MESSAGES 1)"))
                .then_some(())
        },
    )
    .await;
    let select = imap.imap("a2", "SELECT INBOX").await;
    assert!(select.iter().any(|l| l == "* 1 EXISTS"), "{select:?}");
    let fetch = imap.imap("a3", "FETCH 1 BODY[]").await;
    assert!(last(&fetch).starts_with("a3 OK"), "{fetch:?}");
    assert!(fetch.contains(&format!("body {marker}")), "{fetch:?}");
    imap.imap("a4", "LOGOUT").await;

    // POP3 sees the same mailbox.
    let mut pop3 = pop3s(stack).await;
    pop3.send(&format!("AUTH XOAUTH2 {}", xoauth2(&rcpt, &rcpt_token)))
        .await;
    assert!(pop3.line().await.starts_with("+OK"));
    pop3.send("STAT").await;
    let stat = pop3.line().await;
    assert!(stat.starts_with("+OK 1 "), "{stat}");
    pop3.send("RETR 1").await;
    assert!(pop3.line().await.starts_with("+OK"));
    let message = pop3.lines_until(|l| l == ".").await;
    assert!(
        message.contains(&format!("Subject: delivery {marker}")),
        "{message:?}"
    );
    assert!(message.contains(&format!("body {marker}")), "{message:?}");
    pop3.send("QUIT").await;
}

#[tokio::test]
async fn a_second_stack_runs_beside_the_first_and_stops_cleanly() {
    let world = world();
    let second = MailStack::start(world.emulator.base_url()).expect("a second stack");
    assert_ne!(second.imaps_port, world.stack.imaps_port);
    let user = second.fresh_user("second");
    let token = world.mint_token(&user);
    let mut imap = imaps(&second).await;
    let auth = format!("AUTHENTICATE XOAUTH2 {}", xoauth2(&user, &token));
    assert!(last(&imap.imap("a1", &auth).await).starts_with("a1 OK"));
    drop(imap);
    let (dir, port) = (second.dir.clone(), second.imaps_port);
    tokio::task::spawn_blocking(move || second.stop())
        .await
        .expect("join")
        .expect("stop");
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert!(
        std::net::TcpStream::connect(MailStack::addr(port)).is_err(),
        "port {port} still open"
    );
}
