//! `mailgate outbox retry`: retry now from the command line, on the served instance's data.

use crate::process::{Api, Served, create_token, free_port, run};
use mailgate_testkit::eventually;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn outbox_retry_makes_a_queued_message_due_now() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = Served::start(&data).await;
    let api = Api {
        base: served.base.clone(),
        token: create_token(&data),
        http: reqwest::Client::new(),
    };
    // A relay that is down: nothing listens on its port.
    let (status, server) = api
        .post(
            "/outgoing-servers",
            json!({"name": "Relay", "email": "robot@example.com", "protocol": "smtp", "host": "127.0.0.1",
                   "port": free_port(), "security": "none", "auth": "none", "primary": true}),
        )
        .await;
    assert_eq!(status, 201, "{server}");
    let (status, queued) = api
        .post(
            "/messages",
            json!({"to": ["a@example.com"], "subject": "s", "text": "."}),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    let id = queued["id"].as_str().unwrap().to_owned();
    let path = format!("/messages/{id}");
    // The first round fails; the next waits out the backoff (30 s).
    let waiting = eventually(
        "the first round failed, the message queued again",
        Duration::from_secs(20),
        async || {
            let (_, message) = api.get(&path).await;
            (message["status"] == "queued" && message["attempts"] == 1).then_some(message)
        },
    )
    .await;
    let data_arg = data.to_str().unwrap();
    let out = run(&["outbox", "retry", &id, "--data-dir", data_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 message(s) due now") && stdout.contains(&id),
        "{stdout}"
    );
    let (_, hastened) = api.get(&path).await;
    assert!(
        hastened["attempts"].as_i64() > Some(1)
            || hastened["next_attempt_at"].as_str() < waiting["next_attempt_at"].as_str(),
        "due now: {hastened} (was {waiting})"
    );

    let all = run(&["outbox", "retry", "--all", "--data-dir", data_arg]);
    assert!(all.status.success());
    let unknown = run(&[
        "outbox",
        "retry",
        "0190b1d2-0000-7000-8000-000000000000",
        "--data-dir",
        data_arg,
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no message"));
}
