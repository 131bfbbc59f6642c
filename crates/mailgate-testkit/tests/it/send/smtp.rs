use super::*;
use base64::Engine;
use mailgate_testkit::spawn_app_on_world as spawn_app;

async fn sends_over(port_of: fn(&mailgate_testkit::mailstack::MailStack) -> u16, security: &str) {
    let app = spawn_app().await;
    let port = port_of(&app.world().stack);
    let (sender, _) = stack_smtp_server(&app, json!({"port": port, "security": security})).await;
    let recipient = app.world().fresh_user("recipient");
    let attachment = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 fake");
    let queued = queue(
        &app,
        json!({"to": [format!("Ann Example <{recipient}>")], "subject": "Your invoice ✓",
               "text": "Hello Ann,\n.a line starting with a dot\nBye", "html": "<p>Hello Ann</p>",
               "attachments": [{"filename": "invoice.pdf", "content_type": "application/pdf", "content_base64": attachment}]}),
    )
    .await;
    assert_eq!(queued["status"], "queued");
    let sent = deliver(&app, &queued["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    assert_eq!(sent["attempts"], 1);
    assert_eq!(sent["answers"].as_array().unwrap().len(), 1);
    assert_eq!(sent["result"]["accepted"], json!([recipient]));

    let raw = received(&app, &recipient).await;
    let parsed = mailgate_domain::mail::parse(raw.as_bytes());
    assert_eq!(parsed.subject, "Your invoice ✓");
    let from = parsed.from.as_ref().unwrap();
    assert_eq!(
        (from.address.as_str(), from.name.as_deref()),
        (sender.as_str(), Some("Support Team"))
    );
    assert!(
        parsed.text.contains("\n.a line starting with a dot"),
        "{:?}",
        parsed.text
    );
    assert_eq!(parsed.attachments.len(), 1);
    assert_eq!(parsed.attachments[0].filename, "invoice.pdf");
    assert_eq!(parsed.attachments[0].content, b"%PDF-1.4 fake");
    assert_eq!(
        parsed.message_id.as_deref().map(|m| format!("<{m}>")),
        sent["message_id"].as_str().map(str::to_owned)
    );
    let events = events(&app, "message.sent").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["subject_id"], queued["id"]);
}

#[tokio::test]
async fn submission_587_with_starttls_and_xoauth2_arrives_in_the_recipients_mailbox() {
    sends_over(|s| s.submission_port, "starttls").await;
}

#[tokio::test]
async fn smtps_465_with_xoauth2_arrives_in_the_recipients_mailbox() {
    sends_over(|s| s.smtps_port, "ssl").await;
}

/// The fake server as the primary, without authentication.
async fn fake_primary(app: &TestApp, fake: &fake::FakeSmtp) {
    let server = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Fake", "email": "robot@example.test", "protocol": "smtp", "host": "127.0.0.1",
                   "port": fake.port, "security": "none", "auth": "none", "primary": true}),
        )
        .await;
    assert_eq!(server.status, 201, "{}", server.body);
}

#[tokio::test]
async fn messages_to_one_server_reuse_its_connection() {
    let app = spawn_app().await;
    let fake = fake::FakeSmtp::start(&[]).await;
    fake_primary(&app, &fake).await;
    for n in 0..5 {
        let q = queue(
            &app,
            json!({"to": ["someone@example.com"], "subject": format!("n{n}"), "text": "hi"}),
        )
        .await;
        assert_eq!(deliver(&app, &q["id"]).await["status"], "sent");
    }
    assert_eq!(fake.received().len(), 5);
    assert_eq!(
        fake.script.lock().unwrap().connections,
        1,
        "one connection served the five messages"
    );
}

#[tokio::test]
async fn while_every_round_is_busy_the_next_messages_are_claimed_ahead_and_sent_in_turn() {
    use mailgate_core::send::Outbox;
    use mailgate_core::workers::step::Outcome;
    let app = spawn_app().await;
    let fake = fake::FakeSmtp::start(&[]).await;
    fake_primary(&app, &fake).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let q = queue(
            &app,
            json!({"to": ["someone@example.com"], "subject": format!("n{n}"), "text": "hi"}),
        )
        .await;
        ids.push(q["id"].clone());
    }
    let mut outbox = Outbox::new(app.core.clone(), 1);
    assert_eq!(outbox.run_once().await.unwrap(), Outcome::DidWork(1));
    // The one round is busy: the next message is claimed (recorded as being sent, its attempt
    // counted) before that round ends, in one commit, and only one (one round at a time).
    assert_eq!(outbox.claim_ahead().await.unwrap(), Outcome::DidWork(1));
    let second = message(&app, &ids[1]).await;
    assert_eq!(second["status"], "sending", "{second:#}");
    assert_eq!(second["attempts"], 1, "{second:#}");
    assert_eq!(message(&app, &ids[2]).await["status"], "queued");
    // Claimed ahead already: nothing more until a round ends.
    assert_eq!(outbox.claim_ahead().await.unwrap(), Outcome::Idle);
    // The messages claimed ahead are sent before the worker stops, each once.
    outbox.settle().await.unwrap();
    for id in &ids[..2] {
        let sent = message(&app, id).await;
        assert_eq!(sent["status"], "sent", "{sent:#}");
        assert_eq!(sent["attempts"], 1, "{sent:#}");
    }
    assert_eq!(fake.received().len(), 2);
    assert_eq!(message(&app, &ids[2]).await["status"], "queued");
}

#[tokio::test]
async fn a_passing_refusal_is_retried_with_backoff_then_sent() {
    let app = spawn_app().await;
    let fake = fake::FakeSmtp::start(&["451 4.3.0 Mail server temporarily rejected message"]).await;
    fake_primary(&app, &fake).await;
    let q = queue(
        &app,
        json!({"to": ["someone@example.com"], "subject": "retry me", "text": "hi"}),
    )
    .await;
    let first = deliver(&app, &q["id"]).await;
    assert_eq!(first["status"], "queued", "{first:#}");
    assert_eq!(first["answers"][0]["outcome"], "transient");
    assert!(
        first["result"]["server_reply"]
            .as_str()
            .unwrap()
            .contains("451 4.3.0"),
        "{first:#}"
    );
    // Not due yet: the next round waits for the backoff (30 s by default, minus jitter).
    assert_eq!(
        mailgate_core::send::deliver_due(&app.core).await.unwrap(),
        mailgate_core::workers::step::Outcome::Idle
    );
    app.clock.advance_secs(31);
    let second = deliver(&app, &q["id"]).await;
    assert_eq!(second["status"], "sent", "{second:#}");
    assert_eq!(second["attempts"], 2);
    assert_eq!(fake.received().len(), 2);
}

#[tokio::test]
async fn a_final_refusal_fails_at_once_with_the_servers_words() {
    let app = spawn_app().await;
    let fake =
        fake::FakeSmtp::start(&["554 5.7.1 Message rejected: content policy violation"]).await;
    fake_primary(&app, &fake).await;
    let q = queue(
        &app,
        json!({"to": ["someone@example.com"], "subject": "no", "text": "hi"}),
    )
    .await;
    let failed = deliver(&app, &q["id"]).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert_eq!(failed["attempts"], 1);
    assert!(
        failed["result"]["server_reply"]
            .as_str()
            .unwrap()
            .contains("content policy violation"),
        "{failed:#}"
    );
    assert!(
        !failed["result"]["error"]["hint"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    let events = events(&app, "message.failed").await;
    assert_eq!(events.len(), 1, "{events:?}");
}

#[tokio::test]
async fn test_connection_reports_each_smtp_step_and_the_fix() {
    let app = spawn_app().await;
    let (_, server) = stack_smtp_server(&app, json!({})).await;
    let id = server["id"].as_str().unwrap();
    let report = app
        .post(&format!("/api/v1/outgoing-servers/{id}/test"), json!({}))
        .await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.body["ok"], true, "{:#}", report.body);
    let steps: Vec<&str> = report.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["credential", "connect", "tls", "ehlo", "authenticate"]
    );
    let ehlo = &report.body["steps"][3];
    assert!(
        ehlo["detail"].as_str().unwrap().contains("AUTH ")
            && ehlo["detail"].as_str().unwrap().contains("XOAUTH2"),
        "the capabilities seen after STARTTLS: {ehlo:#}"
    );

    // The same server with a port nothing listens on: the connect step fails with the fix.
    let port = fake::closed_port().await;
    let patched = app
        .patch(
            &format!("/api/v1/outgoing-servers/{id}"),
            json!({"port": port}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let report = app
        .post(&format!("/api/v1/outgoing-servers/{id}/test"), json!({}))
        .await;
    assert_eq!(report.body["ok"], false);
    let last = report.body["steps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["step"], "connect");
    assert_eq!(last["diagnosis"]["code"], "connection_refused", "{last:#}");
}

#[tokio::test]
async fn a_server_offering_only_oauthbearer_gets_the_token_that_way() {
    let app = spawn_app().await;
    let fake = fake::FakeSmtp::start_with(&[], &["AUTH OAUTHBEARER"]).await;
    let (_, server) = stack_smtp_server(&app, json!({})).await;
    // The consented server, moved to a server that offers OAUTHBEARER only (on loopback,
    // credentials may go in the clear).
    let moved = app
        .patch(
            &format!(
                "/api/v1/outgoing-servers/{}",
                server["id"].as_str().unwrap()
            ),
            json!({"port": fake.port, "security": "none"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let q = queue(
        &app,
        json!({"to": ["someone@example.com"], "subject": "bearer", "text": "hi"}),
    )
    .await;
    assert_eq!(deliver(&app, &q["id"]).await["status"], "sent");
    let auth = fake.script.lock().unwrap().auth.clone();
    assert_eq!(auth.len(), 1, "{auth:?}");
    assert!(auth[0].starts_with("AUTH OAUTHBEARER "), "{auth:?}");
}

#[tokio::test]
async fn passing_refusals_give_up_after_max_attempts() {
    let app = mailgate_testkit::spawn_app_with(
        mailgate_testkit::TestConfig::default().set("send.max_attempts", 2),
    )
    .await;
    let busy = "451 4.7.1 Try again later";
    let fake = fake::FakeSmtp::start(&[busy, busy, busy]).await;
    fake_primary(&app, &fake).await;
    let q = queue(
        &app,
        json!({"to": ["someone@example.com"], "subject": "never", "text": "hi"}),
    )
    .await;
    assert_eq!(deliver(&app, &q["id"]).await["status"], "queued");
    app.clock.advance_secs(31);
    let failed = deliver(&app, &q["id"]).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert_eq!(failed["result"]["gave_up_after_attempts"], 2);
    assert_eq!(fake.received().len(), 2);
    assert_eq!(events(&app, "message.failed").await.len(), 1);
}

#[tokio::test]
async fn a_message_of_several_megabytes_arrives_over_smtp() {
    let app = spawn_app().await;
    let (_, _) = stack_smtp_server(&app, json!({})).await;
    let recipient = app.world().fresh_user("large");
    let (body, content) = with_attachment(&recipient, 3_000_000);
    let q = queue(&app, body).await;
    let sent = deliver(&app, &q["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    let raw = received(&app, &recipient).await;
    let parsed = mailgate_domain::mail::parse(raw.as_bytes());
    assert_eq!(parsed.attachments.len(), 1);
    assert_eq!(parsed.attachments[0].content, content);
}

#[tokio::test]
async fn a_connection_lost_after_the_data_is_retried_later_on_the_same_server_only() {
    let app = spawn_app().await;
    let chosen = fake::FakeSmtp::start(&["250 2.0.0 Ok: queued", "DROP"]).await;
    let primary = fake::FakeSmtp::start(&[]).await;
    fake_primary(&app, &primary).await;
    let server = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Chosen", "email": "robot@example.test", "protocol": "smtp", "host": "127.0.0.1",
                   "port": chosen.port, "security": "none", "auth": "none"}),
        )
        .await;
    assert_eq!(server.status, 201, "{}", server.body);
    let body = |n: u32| json!({"server_id": server.body["id"], "to": ["someone@example.com"], "subject": format!("n{n}"), "text": "hi"});
    // The first message leaves a pooled connection, which the second one reuses.
    let first = queue(&app, body(1)).await;
    assert_eq!(deliver(&app, &first["id"]).await["status"], "sent");
    let second = queue(&app, body(2)).await;
    let waiting = deliver(&app, &second["id"]).await;
    assert_eq!(waiting["status"], "queued", "{waiting:#}");
    let answers = waiting["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 1, "the primary was not tried: {waiting:#}");
    assert_eq!(answers[0]["outcome"], "transient");
    assert_eq!(
        chosen.received().len(),
        2,
        "the second message went out once, not again on a new connection"
    );
    assert!(primary.received().is_empty());
    // Retried later through the same server.
    app.clock.advance_secs(31);
    let sent = deliver(&app, &second["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    assert_eq!(sent["sent_server_id"], server.body["id"]);
    assert_eq!(chosen.received().len(), 3);
}

#[tokio::test]
async fn recipients_refused_for_now_get_the_message_later_and_no_one_gets_it_twice() {
    let app = spawn_app().await;
    let fake = fake::FakeSmtp::start(&[]).await;
    fake_primary(&app, &fake).await;
    fake.refuse_rcpt("later@example.com", "450 4.2.2 Mailbox full");
    fake.refuse_rcpt("gone@example.com", "550 5.1.1 User unknown");
    let q = queue(
        &app,
        json!({"to": ["ok@example.com", "later@example.com"], "cc": ["gone@example.com"], "subject": "partial", "text": "hi"}),
    )
    .await;
    let first = deliver(&app, &q["id"]).await;
    assert_eq!(first["status"], "queued", "{first:#}");
    let result = &first["result"];
    assert_eq!(result["accepted"], json!(["ok@example.com"]), "{first:#}");
    assert_eq!(result["deferred"][0]["address"], "later@example.com");
    assert!(
        result["deferred"][0]["reply"]
            .as_str()
            .unwrap()
            .contains("Mailbox full")
    );
    assert_eq!(result["rejected"][0]["address"], "gone@example.com");
    assert!(
        result["rejected"][0]["reply"]
            .as_str()
            .unwrap()
            .contains("550 5.1.1 User unknown")
    );
    assert!(result["retry_at"].is_string(), "{first:#}");
    assert_eq!(events(&app, "message.sent").await.len(), 0);

    // Not due before the backoff; then only the deferred recipient gets it.
    assert_eq!(
        mailgate_core::send::deliver_due(&app.core).await.unwrap(),
        mailgate_core::workers::step::Outcome::Idle
    );
    app.clock.advance_secs(31);
    let second = deliver(&app, &q["id"]).await;
    assert_eq!(second["status"], "sent", "{second:#}");
    assert_eq!(second["attempts"], 2);
    assert_eq!(
        fake.envelopes(),
        [
            vec!["ok@example.com".to_owned()],
            vec!["later@example.com".to_owned()]
        ]
    );
    assert_eq!(
        second["result"]["accepted"],
        json!(["ok@example.com", "later@example.com"])
    );
    assert_eq!(
        second["result"]["rejected"][0]["address"],
        "gone@example.com"
    );
    // The headers still name everyone who was sent the message.
    assert!(fake.received()[1].contains("ok@example.com"));
    let sent = events(&app, "message.sent").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
}

/// After a round that delivered to some recipients, a later round that reaches no one more
/// (the deferred recipient refused for good, or filtered out) still ends `sent`: the message
/// was delivered, and the rest is told in the result and the one `message.sent` event.
#[tokio::test]
async fn a_message_delivered_in_part_ends_sent_whatever_becomes_of_the_rest() {
    let app = spawn_app().await;
    let fake = fake::FakeSmtp::start(&[]).await;
    fake_primary(&app, &fake).await;
    // Refused for now, then for good.
    fake.refuse_rcpt("later@example.com", "450 4.2.2 Mailbox full");
    fake.refuse_rcpt("later@example.com", "550 5.1.1 Mailbox closed");
    // Refused for now, then filtered out by the server.
    fake.refuse_rcpt("muted@example.com", "450 4.2.2 Mailbox full");
    let refused = queue(
        &app,
        json!({"to": ["ok@example.com", "later@example.com"], "subject": "a", "text": "hi"}),
    )
    .await;
    let filtered = queue(
        &app,
        json!({"to": ["ok2@example.com", "muted@example.com"], "subject": "b", "text": "hi"}),
    )
    .await;
    mailgate_core::send::deliver_due(&app.core).await.unwrap();
    for q in [&refused, &filtered] {
        assert_eq!(message(&app, &q["id"]).await["status"], "queued");
    }
    let primary = app.get("/api/v1/outgoing-servers").await.body[0]["id"].clone();
    let patched = app
        .patch(
            &format!("/api/v1/outgoing-servers/{}", primary.as_str().unwrap()),
            json!({"filter": {"type": "ignore", "emails": ["muted@example.com"]}}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    app.clock.advance_secs(31);
    mailgate_core::send::deliver_due(&app.core).await.unwrap();

    let refused = message(&app, &refused["id"]).await;
    assert_eq!(refused["status"], "sent", "{refused:#}");
    assert_eq!(refused["result"]["accepted"], json!(["ok@example.com"]));
    assert!(
        refused["result"]["undelivered"]["server_reply"]
            .as_str()
            .unwrap()
            .contains("Mailbox closed"),
        "{refused:#}"
    );
    let filtered = message(&app, &filtered["id"]).await;
    assert_eq!(filtered["status"], "sent", "{filtered:#}");
    assert_eq!(filtered["result"]["accepted"], json!(["ok2@example.com"]));
    assert_eq!(
        filtered["result"]["removed_by_filter"],
        json!(["muted@example.com"]),
        "{filtered:#}"
    );
    assert_eq!(
        fake.envelopes().len(),
        2,
        "nothing sent in the second round"
    );
    assert_eq!(events(&app, "message.sent").await.len(), 2);
    assert!(events(&app, "message.failed").await.is_empty());
    assert!(events(&app, "message.blocked").await.is_empty());
}

#[tokio::test]
async fn with_every_recipient_refused_and_one_for_now_the_whole_message_waits() {
    let app = spawn_app().await;
    let fake = fake::FakeSmtp::start(&[]).await;
    fake_primary(&app, &fake).await;
    fake.refuse_rcpt("gone@example.com", "550 5.1.1 User unknown");
    fake.refuse_rcpt("later@example.com", "450 4.2.2 Mailbox full");
    let q = queue(
        &app,
        json!({"to": ["gone@example.com", "later@example.com"], "subject": "wait", "text": "hi"}),
    )
    .await;
    let first = deliver(&app, &q["id"]).await;
    assert_eq!(first["status"], "queued", "{first:#}");
    assert_eq!(first["answers"][0]["outcome"], "transient");
    assert!(fake.received().is_empty());
    app.clock.advance_secs(31);
    fake.refuse_rcpt("gone@example.com", "550 5.1.1 User unknown");
    let second = deliver(&app, &q["id"]).await;
    assert_eq!(second["status"], "sent", "{second:#}");
    assert_eq!(fake.envelopes(), [vec!["later@example.com".to_owned()]]);
    assert_eq!(
        second["result"]["rejected"][0]["address"],
        "gone@example.com"
    );
}

#[tokio::test]
async fn a_revoked_grant_keeps_the_servers_refusal_and_its_challenge_in_the_answer() {
    let app = spawn_app().await;
    let fake = fake::FakeSmtp::start_with(&[], &["AUTH XOAUTH2"]).await;
    fake.script.lock().unwrap().auth_challenge = Some(
        r#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#.to_owned(),
    );
    let (mailbox, server) = stack_smtp_server(&app, json!({})).await;
    let moved = app
        .patch(
            &format!(
                "/api/v1/outgoing-servers/{}",
                server["id"].as_str().unwrap()
            ),
            json!({"port": fake.port, "security": "none"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    // The user revoked access: the token mailgate holds is refused, and so is its renewal.
    assert!(app.world().emulator.control().expire_tokens(&mailbox) > 0);
    let q = queue(
        &app,
        json!({"to": ["someone@example.com"], "subject": "revoked", "text": "hi"}),
    )
    .await;
    let waiting = deliver(&app, &q["id"]).await;
    assert_eq!(waiting["status"], "queued", "{waiting:#}");
    assert_eq!(fake.script.lock().unwrap().auth.len(), 1, "{waiting:#}");
    let answer = &waiting["answers"][0];
    assert_eq!(answer["outcome"], "unavailable", "{waiting:#}");
    let detail = &answer["detail"];
    assert!(
        detail["server_reply"]
            .as_str()
            .unwrap_or_default()
            .contains("535 5.7.8"),
        "{detail:#}"
    );
    assert!(
        detail["challenge"]
            .as_str()
            .unwrap_or_default()
            .contains(r#""scope":"https://mail.google.com/""#),
        "{detail:#}"
    );
    let error = &detail["error"];
    assert_eq!(error["code"], "oauth_grant_revoked", "{error:#}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Before that, the mail server refused the access token in store:"),
        "{error:#}"
    );
    assert!(fake.received().is_empty());
}
