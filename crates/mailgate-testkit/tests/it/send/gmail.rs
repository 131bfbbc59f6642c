use super::*;
use mailgate_core::tokens::SCOPE_GMAIL_SEND;
use mailgate_emulator::{DelegationGrant, Emulator, EmulatorConfig, RunningEmulator};
use mailgate_testkit::mailstack::MailStack;
use mailgate_testkit::spawn_app_on_world as spawn_app;

#[tokio::test]
async fn gmail_api_with_an_oauth_grant_delivers_to_every_recipient() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let mailbox = app.world().fresh_user("gmail-sender");
    let body = json!({"name": "Gmail API", "email": mailbox, "sender_name": "Billing", "protocol": "gmail_api",
                      "auth": "oauth", "oauth_app_id": oauth["id"], "api_base_url": app.world().emulator.base_url(),
                      "primary": true});
    app.authorized_server("outgoing", body, &mailbox).await;
    let to = app.world().fresh_user("gmail-to");
    let hidden = app.world().fresh_user("gmail-bcc");
    let q = queue(
        &app,
        json!({"to": [to], "bcc": [hidden], "subject": "Sent by the API", "text": "Hello"}),
    )
    .await;
    let sent = deliver(&app, &q["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    assert!(sent["result"]["reply"]["id"].is_string(), "{sent:#}");
    let raw = received(&app, &to).await;
    assert!(raw.contains("Sent by the API"));
    assert!(!raw.to_ascii_lowercase().contains("\nbcc:"), "{raw}");
    assert!(
        !raw.contains(&hidden),
        "Bcc is not shown to the other recipients"
    );
    assert!(received(&app, &hidden).await.contains("Sent by the API"));
}

/// A private emulator (its clock follows the service's) with a service account, relaying Gmail
/// API sends into the world's stack, and a Gmail API server using that account.
async fn service_account_sender(
    app: &mailgate_testkit::TestApp,
) -> (RunningEmulator, String, String, Value) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emulator
        .control()
        .set_smtp_relay(Some(MailStack::addr(app.world().stack.smtp_port)));
    let (client_id, account) = app.service_account(&emulator).await;
    let mailbox = app.world().fresh_user("sa-sender");
    let server = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Gmail API (service account)", "email": mailbox, "protocol": "gmail_api", "auth": "oauth",
                   "service_account_id": account["id"], "api_base_url": emulator.base_url(), "primary": true}),
        )
        .await;
    assert_eq!(server.status, 201, "{}", server.body);
    (emulator, client_id, mailbox, server.body)
}

#[tokio::test]
async fn gmail_api_with_a_delegated_service_account_delivers() {
    let app = spawn_app().await;
    let (emulator, client_id, mailbox, _) = service_account_sender(&app).await;
    emulator.control().grant_delegation(DelegationGrant {
        client_id,
        scopes: vec![SCOPE_GMAIL_SEND.into()],
    });
    let to = app.world().fresh_user("sa-to");
    let q = queue(
        &app,
        json!({"to": [to], "subject": "From a service account", "text": "Licence key: 1234"}),
    )
    .await;
    let sent = deliver(&app, &q["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    let raw = received(&app, &to).await;
    let parsed = mailgate_domain::mail::parse(raw.as_bytes());
    assert_eq!(parsed.from.unwrap().address, mailbox);
    assert!(parsed.text.contains("Licence key: 1234"));
}

#[tokio::test]
async fn without_delegation_the_message_waits_with_the_scope_to_grant() {
    let app = spawn_app().await;
    let (_emulator, _, _, server) = service_account_sender(&app).await;
    let to = app.world().fresh_user("sa-none");
    let q = queue(
        &app,
        json!({"to": [to], "subject": "not yet", "text": "hi"}),
    )
    .await;
    let waiting = deliver(&app, &q["id"]).await;
    assert_eq!(waiting["status"], "queued", "{waiting:#}");
    assert_eq!(waiting["answers"][0]["outcome"], "unavailable");
    let error = &waiting["result"]["error"];
    assert_eq!(error["code"], "delegation_not_granted", "{waiting:#}");
    assert!(error["hint"].as_str().unwrap().contains(SCOPE_GMAIL_SEND));

    let report = app
        .post(
            &format!(
                "/api/v1/outgoing-servers/{}/test",
                server["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(report.body["ok"], false, "{:#}", report.body);
    assert_eq!(report.body["steps"][0]["step"], "credential");
    assert_eq!(
        report.body["steps"][0]["diagnosis"]["code"],
        "delegation_not_granted"
    );
}

/// A Gmail API server at `api_base_url` for a fresh mailbox, signed in by consent (the world's
/// emulator is the OAuth provider).
async fn gmail_server(app: &mailgate_testkit::TestApp, api_base_url: &str, primary: bool) -> Value {
    let oauth = app.google_oauth_app().await;
    let mailbox = app.world().fresh_user("gmail-sender");
    let body = json!({"name": "Gmail API", "email": mailbox, "protocol": "gmail_api", "auth": "oauth",
                      "oauth_app_id": oauth["id"], "api_base_url": api_base_url, "primary": primary});
    app.authorized_server("outgoing", body, &mailbox).await
}

#[tokio::test]
async fn a_message_of_several_megabytes_goes_through_the_upload_endpoint() {
    let app = spawn_app().await;
    gmail_server(&app, app.world().emulator.base_url(), true).await;
    let to = app.world().fresh_user("gmail-large-to");
    let (body, content) = with_attachment(&to, 3_000_000);
    let q = queue(&app, body).await;
    let sent = deliver(&app, &q["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    // What the emulator accepted is large enough that only the upload endpoint takes it.
    let recorded = app
        .world()
        .emulator
        .control()
        .sent_messages()
        .into_iter()
        .find(|m| m.header_recipients.contains(&to))
        .expect("the emulator recorded the message");
    assert!(
        mailgate_proto::gmail::uses_upload(recorded.raw.len()),
        "{} bytes",
        recorded.raw.len()
    );
    let raw = received(&app, &to).await;
    let parsed = mailgate_domain::mail::parse(raw.as_bytes());
    assert_eq!(parsed.attachments.len(), 1);
    assert_eq!(parsed.attachments[0].content, content);
}

#[tokio::test]
async fn a_request_left_without_an_answer_is_retried_later_not_sent_by_the_primary() {
    let app = spawn_app().await;
    let (google, requests) = fake::google_cutting_answers().await;
    let primary = fake::FakeSmtp::start(&[]).await;
    let created = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Primary", "email": "robot@example.test", "protocol": "smtp", "host": "127.0.0.1",
                   "port": primary.port, "security": "none", "auth": "none", "primary": true}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let gmail = gmail_server(&app, &google, false).await;
    let q = queue(
        &app,
        json!({"server_id": gmail["id"], "to": ["someone@example.com"], "subject": "once", "text": "hi"}),
    )
    .await;
    let waiting = deliver(&app, &q["id"]).await;
    assert_eq!(waiting["status"], "queued", "{waiting:#}");
    let answers = waiting["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 1, "the primary was not tried: {waiting:#}");
    assert_eq!(answers[0]["outcome"], "transient");
    assert!(
        waiting["result"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may have sent"),
        "{waiting:#}"
    );
    assert_eq!(*requests.lock().unwrap(), 1);
    assert!(primary.received().is_empty());
}

/// Google answered 200 with a body that is not its JSON (a proxy's page, say): it took the
/// message, so the message is `sent`, never sent again, with the answer kept.
#[tokio::test]
async fn a_success_whose_answer_cannot_be_read_is_sent_once() {
    let app = spawn_app().await;
    let (google, requests) = fake::google_answering(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 15\r\nConnection: close\r\n\r\n<html>ok</html>",
    )
    .await;
    let gmail = gmail_server(&app, &google, true).await;
    let q = queue(
        &app,
        json!({"server_id": gmail["id"], "to": ["someone@example.com"], "subject": "once", "text": "hi"}),
    )
    .await;
    let sent = deliver(&app, &q["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    let reply = &sent["answers"][0]["detail"]["reply"];
    assert_eq!(reply["status"], 200, "{sent:#}");
    assert!(
        reply["unreadable_answer"]
            .as_str()
            .unwrap()
            .contains("<html>ok</html>"),
        "{sent:#}"
    );
    app.clock.advance_secs(3600);
    mailgate_core::send::deliver_due(&app.core).await.unwrap();
    assert_eq!(*requests.lock().unwrap(), 1, "sent once");
    assert_eq!(events(&app, "message.sent").await.len(), 1);
}
