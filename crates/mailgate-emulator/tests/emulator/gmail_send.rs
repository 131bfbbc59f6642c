//! Gmail API sending: JSON and upload endpoints, real SMTP delivery to a sink, relay failures.

use std::net::{Ipv4Addr, SocketAddr};

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use mailgate_emulator::EmulatorConfig;
use reqwest::{Response, StatusCode, header};
use serde_json::json;

use crate::helpers::*;
use crate::smtp_sink::SmtpSink;

const MESSAGE: &str = "From: Alice <alice@example.test>\r\n\
To: Bob <bob@example.test>, \"Out, Side\" <someone@gmail.com>\r\n\
Cc: carol@example.test\r\n\
Bcc: secret@example.test,\r\n\
\tother@elsewhere.test\r\n\
Subject: Hello\r\n\
\r\n\
.leading dot\r\n\
Body\r\n";

async fn app_with_relay(sink: &SmtpSink) -> TestApp {
    TestApp::spawn_with(EmulatorConfig {
        smtp_relay: Some(sink.addr),
        catchall: Some("catchall@example.test".to_owned()),
        ..EmulatorConfig::default()
    })
    .await
}

pub async fn send_json(app: &TestApp, token: &str, user: &str, raw: &str) -> Response {
    app.http
        .post(app.url(&format!("/gmail/v1/users/{user}/messages/send")))
        .bearer_auth(token)
        .json(&json!({"raw": raw}))
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn send_delivers_over_smtp_without_bcc_and_with_outside_recipients_at_the_catchall() {
    let sink = SmtpSink::start().await;
    let app = app_with_relay(&sink).await;
    let token = app.mint("alice@example.test", SEND_SCOPE);

    let (status, body) =
        status_json(send_json(&app, &token, "me", &URL_SAFE_NO_PAD.encode(MESSAGE)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["id"].as_str().expect("id");
    assert_eq!(id.len(), 16);
    assert_eq!(body["threadId"], id);
    assert_eq!(body["labelIds"], json!(["SENT"]));

    let received = sink.received();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.mail_from, "alice@example.test");
    assert_eq!(
        mail.rcpt_to,
        [
            "bob@example.test",
            "catchall@example.test",
            "carol@example.test",
            "secret@example.test"
        ]
    );
    assert!(
        !mail.data.to_ascii_lowercase().contains("bcc:"),
        "{}",
        mail.data
    );
    assert!(
        !mail.data.contains("other@elsewhere.test"),
        "folded Bcc line dropped too"
    );
    assert!(
        mail.data.contains("Message-ID: <"),
        "Gmail adds a Message-ID"
    );
    assert!(
        mail.data.contains("\r\n\r\n.leading dot\r\nBody\r\n"),
        "dot-stuffing round trip: {}",
        mail.data
    );

    let sent = app.control().sent_messages();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].relayed);
    assert_eq!(sent[0].header_recipients.len(), 5);
}

#[tokio::test]
async fn the_upload_endpoint_takes_a_raw_rfc822_body() {
    let sink = SmtpSink::start().await;
    let app = app_with_relay(&sink).await;
    let token = app.mint("alice@example.test", MAIL_SCOPE);
    let url = app.url("/upload/gmail/v1/users/alice@example.test/messages/send");
    let response = app
        .http
        .post(&url)
        .query(&[("uploadType", "media")])
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, "message/rfc822")
        .body("To: bob@example.test\nSubject: upload\n\nhi\n")
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::OK);
    let received = sink.received();
    assert_eq!(received[0].rcpt_to, ["bob@example.test"]);
    assert!(received[0].data.contains("Subject: upload\r\n"));

    let wrong_type = app
        .http
        .post(&url)
        .query(&[("uploadType", "media")])
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, "text/plain")
        .body("To: bob@example.test\n\nhi\n")
        .send()
        .await
        .expect("upload");
    let body = assert_gmail_error(wrong_type, 400, "INVALID_ARGUMENT", "badContent").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("[message/*]"))
    );
}

#[tokio::test]
async fn without_a_relay_messages_stay_in_memory_and_padded_raw_is_fine() {
    let app = TestApp::spawn().await;
    let token = app.mint(
        "ann@example.test",
        "https://www.googleapis.com/auth/gmail.compose",
    );
    let raw = URL_SAFE.encode("To: x@example.test\r\nSubject: pad\r\n\r\nhi");
    assert!(raw.ends_with('='), "the test wants padding");
    assert_eq!(
        send_json(&app, &token, "me", &raw).await.status(),
        StatusCode::OK
    );
    let sent = app.control().sent_messages();
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].relayed);
    assert_eq!(sent[0].from, "ann@example.test");
    assert_eq!(sent[0].envelope_recipients, ["x@example.test"]);
}

#[tokio::test]
async fn relay_failures_are_google_shaped_5xx() {
    // A port nobody listens on: bind, read the port, close.
    let closed = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let dead: SocketAddr = closed.local_addr().expect("addr");
    drop(closed);
    let app = TestApp::spawn_with(EmulatorConfig {
        smtp_relay: Some(dead),
        ..EmulatorConfig::default()
    })
    .await;
    let token = app.mint("hal@example.test", SEND_SCOPE);
    let raw = URL_SAFE_NO_PAD.encode("To: x@example.test\r\n\r\nhi");
    assert_gmail_error(
        send_json(&app, &token, "me", &raw).await,
        503,
        "UNAVAILABLE",
        "backendError",
    )
    .await;
    assert!(app.control().sent_messages().is_empty());

    let refusing = SmtpSink::refusing_sender("554 5.7.1 go away").await;
    let app = app_with_relay(&refusing).await;
    let token = app.mint("hal@example.test", SEND_SCOPE);
    assert_gmail_error(
        send_json(&app, &token, "me", &raw).await,
        500,
        "INTERNAL",
        "backendError",
    )
    .await;
}

#[tokio::test]
async fn a_delegated_service_account_token_sends_as_the_user() {
    use mailgate_emulator::fixtures::{self, SERVICE_ACCOUNT_KEY_PEM};
    use mailgate_emulator::{DelegationGrant, ServiceAccountRegistration};

    let sink = SmtpSink::start().await;
    let app = app_with_relay(&sink).await;
    let sa = "mailer@proj.iam.gserviceaccount.com";
    app.control()
        .register_service_account(ServiceAccountRegistration::with_private_key(
            sa,
            "998877",
            SERVICE_ACCOUNT_KEY_PEM,
        ))
        .expect("register");
    app.control().grant_delegation(DelegationGrant {
        client_id: "998877".into(),
        scopes: vec![SEND_SCOPE.into()],
    });
    let assertion = fixtures::service_account_assertion(
        SERVICE_ACCOUNT_KEY_PEM,
        sa,
        Some("jo@example.test"),
        SEND_SCOPE,
        &app.url("/token"),
        app.control().now(),
    );
    let (_, token) = status_json(
        app.post_token(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &assertion),
        ])
        .await,
    )
    .await;
    let raw = URL_SAFE_NO_PAD.encode("To: x@example.test\r\n\r\nhi");
    let sent = send_json(
        &app,
        token["access_token"].as_str().expect("a"),
        "jo@example.test",
        &raw,
    )
    .await;
    assert_eq!(sent.status(), StatusCode::OK);
    assert_eq!(sink.received()[0].mail_from, "jo@example.test");
}
