use super::*;
use mailgate_testkit::spawn_app;

async fn with_primary(app: &TestApp) {
    let created = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Primary", "email": "robot@example.test", "protocol": "smtp", "host": "127.0.0.1",
                   "port": 2525, "security": "none", "auth": "none", "primary": true}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
}

fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_queued_message_is_stored_before_the_answer_and_can_be_followed() {
    let app = spawn_app().await;
    with_primary(&app).await;
    let answer = app
        .post(
            "/api/v1/messages",
            json!({"to": ["Ann <ann@example.com>"], "cc": ["bob@example.com"], "subject": "Hello", "text": "Hi"}),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let id = answer.body["id"].as_str().unwrap();
    assert_eq!(answer.body["status"], "queued");
    assert_eq!(answer.body["to"], json!(["ann@example.com"]));
    let message_id = answer.body["message_id"].as_str().unwrap();
    assert!(
        message_id.starts_with('<') && message_id.ends_with("@mailgate.localhost>"),
        "{message_id}"
    );
    let shown = app.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["answers"], json!([]));
    let listed = app.get("/api/v1/messages?status=queued").await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get("/api/v1/messages?status=sent").await.body,
        json!([])
    );
    let bad = app.get("/api/v1/messages?status=lost").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(
        app.get("/api/v1/messages/00000000-0000-4000-8000-000000000000")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn an_idempotency_key_queues_one_message_and_refuses_a_different_one() {
    let app = spawn_app().await;
    with_primary(&app).await;
    let body = json!({"to": ["ann@example.com"], "subject": "Once", "text": "Hi"});
    let send = |body: Value| {
        let app = &app;
        async move {
            app.http
                .post(format!("{}/api/v1/messages", app.address))
                .bearer_auth(&app.token)
                .header("Idempotency-Key", "order-42")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let first = send(body.clone()).await;
    assert_eq!(first.status(), 202);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = send(body.clone()).await;
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(
        app.get("/api/v1/messages")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let other = send(json!({"to": ["ann@example.com"], "subject": "Other", "text": "Hi"})).await;
    assert_eq!(other.status(), 400);
    let other: Value = other.json().await.unwrap();
    assert_eq!(fields(&other), ["idempotency_key"], "{other}");
}

#[tokio::test]
async fn bad_messages_are_refused_naming_each_field() {
    let app = spawn_app().await;
    with_primary(&app).await;
    let cases = [
        (json!({"subject": "x", "text": "y"}), "to"),
        (
            json!({"to": ["not an address"], "subject": "x", "text": "y"}),
            "to[0]",
        ),
        (
            json!({"to": ["a@example.com"], "subject": "x\r\nBcc: victim@example.com", "text": "y"}),
            "subject",
        ),
        (
            json!({"to": ["a@example.com"], "subject": "x", "text": "y", "headers": {"Bcc": "victim@example.com"}}),
            "headers.Bcc",
        ),
        (json!({"to": ["a@example.com"], "subject": "x"}), "text"),
        (
            json!({"server_id": "00000000-0000-4000-8000-000000000000", "to": ["a@example.com"], "subject": "x", "text": "y"}),
            "server_id",
        ),
        (
            json!({"to": ["a@example.com"], "subject": "x", "text": "y", "colour": "red"}),
            "colour",
        ),
    ];
    for (body, field) in cases {
        let answer = app.post("/api/v1/messages", body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        assert!(
            fields(&answer.body).iter().any(|f| f == field),
            "{body} names `{field}`: {}",
            answer.body
        );
        assert!(
            answer.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["hint"].is_string()),
            "every error has a fix: {}",
            answer.body
        );
    }
    assert_eq!(app.get("/api/v1/messages").await.body, json!([]));
}

#[tokio::test]
async fn without_a_primary_a_message_must_name_its_server() {
    let app = spawn_app().await;
    let answer = app
        .post(
            "/api/v1/messages",
            json!({"to": ["a@example.com"], "subject": "x", "text": "y"}),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(fields(&answer.body), ["server_id"]);
}

#[tokio::test]
async fn replying_to_a_missing_ticket_is_a_404() {
    let app = spawn_app().await;
    with_primary(&app).await;
    let answer = app
        .post("/api/v1/tickets/999/reply", json!({"text": "hello"}))
        .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
}

#[tokio::test]
async fn a_message_body_over_the_limit_gets_a_413_naming_it() {
    let app = spawn_app().await;
    with_primary(&app).await;
    // 41 MiB of base64: more than the 40 MiB a message request may have.
    let content = "A".repeat(41 * 1024 * 1024);
    let body = json!({"to": ["a@example.com"], "subject": "huge", "text": "y",
        "attachments": [{"filename": "big.bin", "content_base64": content}]});
    for path in ["/api/v1/messages", "/api/v1/tickets/1/reply"] {
        let answer = app.post(path, body.clone()).await;
        assert_eq!(answer.status, 413, "{path}: {}", answer.body);
        assert_eq!(answer.body["error"], "body_too_large", "{}", answer.body);
        let message = answer.body["message"].as_str().unwrap();
        assert!(message.contains("40 MiB"), "{message}");
        assert!(answer.body["hint"].as_str().unwrap().contains("25 MiB"));
    }
    // Other routes keep the small limit.
    let big = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "x".repeat(3 * 1024 * 1024)}),
        )
        .await;
    assert_eq!(big.status, 413, "{}", big.body);
    assert!(
        big.body["message"].as_str().unwrap().contains("2 MiB"),
        "{}",
        big.body
    );
    assert_eq!(app.get("/api/v1/messages").await.body, json!([]));
}

#[tokio::test]
async fn a_reply_to_a_ticket_with_a_very_long_subject_is_cut_to_fit() {
    use mailgate_core::receive::{connect, pipeline};
    let app = spawn_app().await;
    with_primary(&app).await;
    let inbox = app
        .post(
            "/api/v1/incoming-servers",
            json!({"name": "Inbox", "email": "support@example.test", "protocol": "imap", "host": "127.0.0.1",
                   "auth": "basic", "password": "p"}),
        )
        .await;
    assert_eq!(inbox.status, 201, "{}", inbox.body);
    let mailbox = connect::load_mailbox(
        &app.core,
        inbox.body["id"].as_str().unwrap().parse().unwrap(),
    )
    .await
    .unwrap();
    // A subject of 994 characters (1,003 once tagged), folded over lines as mail clients do.
    let words = vec!["word"; 199].join(" ");
    let folded = words.replace(
        "word word word word word word",
        "word word word word word word\r\n",
    );
    let raw = format!(
        "From: ann@customer.example\r\nTo: support@example.test\r\nSubject: {folded}\r\nMessage-ID: <long@customer.example>\r\n\r\nHi\r\n"
    );
    let source = mailgate_store::MailSource {
        server_id: mailbox.server_id,
        key: "long-subject".into(),
        progress: None,
    };
    let mailgate_store::ImportOutcome::Imported { ticket_number, .. } =
        pipeline::process(&app.core, &mailbox, source, raw.into_bytes())
            .await
            .unwrap()
    else {
        panic!("not imported")
    };

    let reply = app
        .post(
            &format!("/api/v1/tickets/{ticket_number}/reply"),
            json!({"text": "Thanks"}),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let subject = reply.body["subject"].as_str().unwrap();
    assert!(
        subject.starts_with(&format!("Re: [#{ticket_number}] word word")),
        "{subject}"
    );
    assert_eq!(subject.chars().count(), 998);

    // A subject the caller gives is the caller's to fix.
    let too_long = app
        .post(
            &format!("/api/v1/tickets/{ticket_number}/reply"),
            json!({"text": "Thanks", "subject": "x".repeat(1000)}),
        )
        .await;
    assert_eq!(too_long.status, 400, "{}", too_long.body);
    assert_eq!(fields(&too_long.body), ["subject"]);
}

/// A body sent in chunks, with no Content-Length to refuse it by, is cut off once it passes
/// the limit: the same 413.
#[tokio::test]
async fn a_chunked_body_over_the_limit_gets_the_same_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    with_primary(&app).await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 1024 * 1024, "A".repeat(1024 * 1024));
    let write = async {
        stream.write_all(b"4\r\n[\"AA\r\n").await?;
        for _ in 0..41 {
            stream.write_all(chunk.as_bytes()).await?;
        }
        stream.write_all(b"0\r\n\r\n").await
    };
    // The server may answer and close before the whole body is written.
    let _ = write.await;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("body_too_large"), "{answer}");
}
