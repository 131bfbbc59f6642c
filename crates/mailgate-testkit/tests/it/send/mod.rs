//! Sending, against the real Postfix/Dovecot stack and the Google emulator: the outbox API,
//! SMTP with XOAUTH2 on 587 and 465, the Gmail API with a grant and a service account,
//! fallback to the primary, recipient filters, retries and ticket replies end to end.

mod api;
mod fake;
mod gmail;
mod reply;
mod retry;
mod route;
mod smtp;
mod test_connection;

use mailgate_testkit::TestApp;
use serde_json::{Value, json};
use std::time::Duration;

/// An SMTP outgoing server of the stack for a fresh mailbox, signed in by consent (OAuth
/// emulator). `extra` overrides fields (port, security, primary, filter...).
pub async fn stack_smtp_server(app: &TestApp, extra: Value) -> (String, Value) {
    let oauth = app.google_oauth_app().await;
    let mailbox = app.world().fresh_user("sender");
    let mut body = json!({"name": format!("SMTP {mailbox}"), "email": mailbox, "sender_name": "Support Team",
        "protocol": "smtp", "host": "127.0.0.1", "port": app.world().stack.submission_port, "security": "starttls",
        "auth": "oauth", "oauth_app_id": oauth["id"], "primary": true});
    for (k, v) in extra.as_object().expect("an object") {
        body[k] = v.clone();
    }
    let server = app.authorized_server("outgoing", body, &mailbox).await;
    (mailbox, server)
}

/// Queues a message; asserts the 202.
pub async fn queue(app: &TestApp, body: Value) -> Value {
    let answer = app.post("/api/v1/messages", body).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    answer.body
}

/// Runs the outbox's due rounds (the worker is off in tests) and returns the message.
pub async fn deliver(app: &TestApp, id: &Value) -> Value {
    mailgate_core::send::deliver_due(&app.core)
        .await
        .expect("delivery rounds recorded");
    message(app, id).await
}

pub async fn message(app: &TestApp, id: &Value) -> Value {
    let answer = app
        .get(&format!("/api/v1/messages/{}", id.as_str().expect("id")))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// The events of one kind.
pub async fn events(app: &TestApp, kind: &str) -> Vec<Value> {
    app.get("/api/v1/events?limit=1000")
        .await
        .body
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// A message with an attachment of `size` bytes (base64 in the request: well over axum's
/// default 2 MB body limit) and the attachment's bytes.
pub fn with_attachment(to: &str, size: usize) -> (Value, Vec<u8>) {
    use base64::Engine;
    let content: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&content);
    let body = json!({"to": [to], "subject": "A large attachment", "text": "See the file.",
        "attachments": [{"filename": "large.bin", "content_type": "application/octet-stream", "content_base64": encoded}]});
    (body, content)
}

/// The one message `user` received, with a bounded wait.
pub async fn received(app: &TestApp, user: &str) -> String {
    let inbox = app
        .world()
        .read_inbox(user, 1, Duration::from_secs(10))
        .await;
    assert_eq!(inbox.len(), 1, "{user} received one message: {inbox:?}");
    inbox.into_iter().next().unwrap_or_default()
}
