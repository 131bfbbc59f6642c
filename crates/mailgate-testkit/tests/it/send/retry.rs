//! Retry now: an operator fixes a relay and queued mail goes out at once instead of waiting
//! out its backoff; severity and status agree.

use super::*;
use mailgate_testkit::eventually;
use mailgate_testkit::{TestApp, TestConfig, spawn_app_with};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};

/// A relay in front of the stack's submission port that can be down: while down it closes
/// every connection at once (fault injection); once fixed it passes the bytes through.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
}

impl Relay {
    async fn down_in_front_of(target: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(false));
        let state = up.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !state.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Relay { port, up }
    }

    fn fix(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// The app on the stack with a backoff of minutes (the first retry waits 5 minutes).
async fn app_with_slow_backoff() -> TestApp {
    let ca = mailgate_testkit::world().stack.ca_pem.display().to_string();
    spawn_app_with(
        TestConfig::default()
            .set("tls.extra_ca_file", ca)
            .set("send.retry_base_secs", 300),
    )
    .await
}

/// Every `severity` anywhere in `value`.
fn severities(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| match (k.as_str(), v) {
                ("severity", Value::String(s)) => vec![s.clone()],
                _ => severities(v),
            })
            .collect(),
        Value::Array(list) => list.iter().flat_map(severities).collect(),
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn retry_now_after_the_relay_is_fixed_delivers_queued_mail_at_once() {
    let app = app_with_slow_backoff().await;
    let relay = Relay::down_in_front_of(app.world().stack.submission_port).await;
    let (_, server) = stack_smtp_server(&app, json!({"port": relay.port})).await;
    let recipient = app.world().fresh_user("retried");
    let queued = queue(
        &app,
        json!({"to": [recipient], "subject": "after the outage", "text": "hi"}),
    )
    .await;
    let first = deliver(&app, &queued["id"]).await;
    assert_eq!(first["status"], "queued", "{first:#}");
    assert_eq!(first["answers"][0]["outcome"], "unavailable", "{first:#}");
    // The backoff holds: nothing is due for minutes.
    assert_eq!(
        mailgate_core::send::deliver_due(&app.core).await.unwrap(),
        mailgate_core::workers::step::Outcome::Idle
    );

    relay.fix();
    // The outbox worker as `serve` runs it (background workers are off in tests).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(mailgate_core::send::run(app.core.clone(), stopped));
    let id = queued["id"].as_str().unwrap();
    let retried = app
        .post(&format!("/api/v1/outbox/{id}/retry"), json!({}))
        .await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(retried.body["hastened"], 1);
    assert_eq!(retried.body["ids"], json!([id]));

    // Delivered now, not in five minutes (the service's clock does not move in this test).
    let inbox = app
        .world()
        .read_inbox(&recipient, 1, Duration::from_secs(20))
        .await;
    assert_eq!(inbox.len(), 1, "the message arrived after retry now");
    // Postfix can hand the message to the mailbox before the worker has recorded the 250:
    // wait (bounded) for the record.
    let sent = eventually(
        "the round's end recorded",
        Duration::from_secs(10),
        async || {
            let sent = message(&app, &queued["id"]).await;
            (sent["status"] != "sending").then_some(sent)
        },
    )
    .await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    assert_eq!(sent["attempts"], 2, "the first round is kept in the count");
    assert_eq!(sent["sent_server_id"], server["id"]);

    // A sent message is not retried: 409 with the fix.
    let again = app
        .post(&format!("/api/v1/outbox/{id}/retry"), json!({}))
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.body["error"], "not_retryable");
    assert!(
        again.body["hint"]
            .as_str()
            .unwrap()
            .contains("POST /api/v1/messages"),
        "{}",
        again.body
    );
    stop.send(true).unwrap();
    worker.await.unwrap();
}

#[tokio::test]
async fn retry_all_hastens_the_queued_messages_of_one_server_only() {
    let app = app_with_slow_backoff().await;
    let relay = Relay::down_in_front_of(app.world().stack.submission_port).await;
    let (_, primary) = stack_smtp_server(&app, json!({"port": relay.port})).await;
    let other = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Elsewhere", "email": "robot@example.test", "protocol": "smtp",
                   "host": "127.0.0.1", "port": relay.port, "security": "none", "auth": "none"}),
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.body);
    let via_primary = queue(
        &app,
        json!({"to": ["a@example.com"], "subject": "p", "text": "."}),
    )
    .await;
    let via_other = queue(
        &app,
        json!({"to": ["b@example.com"], "subject": "o", "text": ".", "server_id": other.body["id"]}),
    )
    .await;
    mailgate_core::send::deliver_due(&app.core).await.unwrap();
    for q in [&via_primary, &via_other] {
        assert_eq!(message(&app, &q["id"]).await["status"], "queued");
    }

    let answer = app
        .post(
            &format!(
                "/api/v1/outbox/retry?server={}",
                other.body["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["ids"], json!([via_other["id"]]));
    // The primary's message still waits; the other server's is due.
    let due: Vec<Value> = app
        .get("/api/v1/messages?status=queued")
        .await
        .body
        .as_array()
        .unwrap()
        .clone();
    let wait = |q: &Value| {
        due.iter()
            .find(|m| m["id"] == q["id"])
            .and_then(|m| m["next_attempt_at"].as_str())
            .unwrap()
            .to_owned()
    };
    assert!(wait(&via_other) < wait(&via_primary), "{due:#?}");

    // Without a filter: every queued message, the primary's (named no server) too.
    let all = app.post("/api/v1/outbox/retry", json!({})).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["hastened"], 2, "{}", all.body);
    let unknown = app
        .post(
            &format!("/api/v1/outbox/retry?server={}", mailgate_domain::Id::new()),
            json!({}),
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let _ = primary;

    // Both routes are in the API document, the filters as query parameters.
    let doc = app.get("/api/openapi.json").await.body;
    assert!(doc["paths"]["/api/v1/outbox/{id}/retry"]["post"].is_object());
    let params = doc["paths"]["/api/v1/outbox/retry"]["post"]["parameters"]
        .as_array()
        .unwrap();
    for name in ["server", "failed"] {
        let param = params.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(param["in"], "query", "{param}");
        assert_eq!(param["required"], false, "{param}");
    }
}

#[tokio::test]
async fn a_message_still_retried_never_shows_severity_permanent_and_a_failed_one_does() {
    let app = spawn_app_with(TestConfig::default().set("send.max_attempts", 2)).await;
    // The only server is disabled: catalogued `permanent` for the server, but the message
    // waits for it (it may be enabled again).
    let server = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Off", "email": "robot@example.test", "protocol": "smtp", "host": "127.0.0.1",
                   "port": 9, "security": "none", "auth": "none", "primary": true, "enabled": false}),
        )
        .await;
    assert_eq!(server.status, 201, "{}", server.body);
    let q = queue(
        &app,
        json!({"to": ["a@example.com"], "subject": "s", "text": "."}),
    )
    .await;
    let first = deliver(&app, &q["id"]).await;
    assert_eq!(first["status"], "queued", "{first:#}");
    assert_eq!(
        first["result"]["error"]["code"], "server_disabled",
        "{first:#}"
    );
    let shown = severities(&first);
    assert!(
        !shown.is_empty() && shown.iter().all(|s| s == "transient"),
        "{first:#}"
    );

    app.clock.advance_secs(3600);
    let last = deliver(&app, &q["id"]).await;
    assert_eq!(last["status"], "failed", "{last:#}");
    assert_eq!(last["result"]["error"]["severity"], "permanent", "{last:#}");
    let failed = events(&app, "message.failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0]["data"]["error"]["severity"], "permanent",
        "{failed:#?}"
    );

    // A failed message can be queued again by its id: attempts start over.
    let id = q["id"].as_str().unwrap();
    let retried = app
        .post(&format!("/api/v1/outbox/{id}/retry"), json!({}))
        .await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    let requeued = message(&app, &q["id"]).await;
    assert_eq!(requeued["status"], "queued", "{requeued:#}");
    assert_eq!(requeued["attempts"], 0, "{requeued:#}");
}
