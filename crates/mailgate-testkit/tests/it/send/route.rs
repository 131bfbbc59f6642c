use super::*;
use mailgate_testkit::spawn_app_on_world as spawn_app;

#[tokio::test]
async fn the_chosen_server_down_hands_over_to_the_primary() {
    let app = spawn_app().await;
    let (primary_mailbox, primary) = stack_smtp_server(&app, json!({})).await;
    let down = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Down", "email": "down@example.test", "protocol": "smtp", "host": "127.0.0.1",
                   "port": fake::closed_port().await, "security": "none", "auth": "none"}),
        )
        .await;
    assert_eq!(down.status, 201, "{}", down.body);
    let recipient = app.world().fresh_user("fallback");
    let q = queue(
        &app,
        json!({"server_id": down.body["id"], "to": [recipient], "subject": "via the primary", "text": "hi"}),
    )
    .await;
    let sent = deliver(&app, &q["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    assert_eq!(sent["sent_server_id"], primary["id"]);
    let answers = sent["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 2, "{sent:#}");
    assert_eq!(
        (
            answers[0]["server_name"].as_str(),
            answers[0]["outcome"].as_str()
        ),
        (Some("Down"), Some("unavailable"))
    );
    assert_eq!(answers[0]["detail"]["error"]["code"], "connection_refused");
    assert_eq!(answers[1]["outcome"], "sent");
    // The primary's address is the sender.
    let raw = received(&app, &recipient).await;
    let parsed = mailgate_domain::mail::parse(raw.as_bytes());
    assert_eq!(parsed.from.unwrap().address, primary_mailbox);

    // A disabled server hands over too.
    let disabled = app
        .patch(
            &format!(
                "/api/v1/outgoing-servers/{}",
                down.body["id"].as_str().unwrap()
            ),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    let q = queue(
        &app,
        json!({"server_id": down.body["id"], "to": [recipient], "subject": "again", "text": "hi"}),
    )
    .await;
    let sent = deliver(&app, &q["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    assert_eq!(
        sent["answers"][0]["detail"]["error"]["code"],
        "server_disabled"
    );
}

#[tokio::test]
async fn with_every_server_down_the_message_waits_and_is_not_lost() {
    let app = spawn_app().await;
    let down = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Down", "email": "down@example.test", "protocol": "smtp", "host": "127.0.0.1",
                   "port": fake::closed_port().await, "security": "none", "auth": "none", "primary": true}),
        )
        .await;
    assert_eq!(down.status, 201, "{}", down.body);
    let q = queue(
        &app,
        json!({"to": ["someone@example.com"], "subject": "later", "text": "hi"}),
    )
    .await;
    let waiting = deliver(&app, &q["id"]).await;
    assert_eq!(waiting["status"], "queued", "{waiting:#}");
    assert_eq!(waiting["result"]["error"]["code"], "connection_refused");
    assert!(waiting["result"]["retry_at"].is_string());
}

#[tokio::test]
async fn an_ignore_filter_removes_recipients_and_records_it() {
    let app = spawn_app().await;
    let kept = app.world().fresh_user("kept");
    let dropped = app.world().fresh_user("dropped");
    let (_, _) = stack_smtp_server(
        &app,
        json!({"filter": {"type": "ignore", "emails": [dropped.to_uppercase()]}}),
    )
    .await;
    let q = queue(
        &app,
        json!({"to": [kept], "cc": [dropped], "subject": "filtered", "text": "hi"}),
    )
    .await;
    let sent = deliver(&app, &q["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    assert_eq!(sent["result"]["accepted"], json!([kept]));
    assert_eq!(sent["result"]["removed_by_filter"], json!([dropped]));
    let raw = received(&app, &kept).await;
    assert!(
        !raw.contains(&dropped),
        "the removed recipient is not in the headers either"
    );
    assert_eq!(app.world().inbox_count(&dropped, None).await, 0);
}

#[tokio::test]
async fn an_allow_filter_that_leaves_no_recipient_blocks_the_message() {
    let app = spawn_app().await;
    let (_, _) = stack_smtp_server(
        &app,
        json!({"filter": {"type": "allow", "domains": ["partner.example"]}}),
    )
    .await;
    let outsider = app.world().fresh_user("outsider");
    let q = queue(
        &app,
        json!({"to": [outsider], "subject": "blocked", "text": "hi"}),
    )
    .await;
    let blocked = deliver(&app, &q["id"]).await;
    assert_eq!(blocked["status"], "blocked", "{blocked:#}");
    assert_eq!(blocked["result"]["removed_by_filter"], json!([outsider]));
    let events = events(&app, "message.blocked").await;
    assert_eq!(events.len(), 1);
    assert_eq!(app.world().inbox_count(&outsider, None).await, 0);
}

#[tokio::test]
async fn a_server_that_is_down_does_not_block_with_its_filter_the_primary_decides() {
    let app = spawn_app().await;
    let (_, primary) = stack_smtp_server(&app, json!({})).await;
    let down = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Down", "email": "down@example.test", "protocol": "smtp", "host": "127.0.0.1",
                   "port": fake::closed_port().await, "security": "none", "auth": "none",
                   "filter": {"type": "allow", "domains": ["partner.example"]}}),
        )
        .await;
    assert_eq!(down.status, 201, "{}", down.body);
    let recipient = app.world().fresh_user("not-a-partner");
    let q = queue(
        &app,
        json!({"server_id": down.body["id"], "to": [recipient], "subject": "not blocked", "text": "hi"}),
    )
    .await;
    let sent = deliver(&app, &q["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    assert_eq!(sent["sent_server_id"], primary["id"]);
    let answers = sent["answers"].as_array().unwrap();
    assert_eq!(answers[0]["outcome"], "unavailable", "{sent:#}");
    assert_eq!(answers[1]["outcome"], "sent", "{sent:#}");
    assert!(received(&app, &recipient).await.contains("not blocked"));
    assert!(events(&app, "message.blocked").await.is_empty());
}
