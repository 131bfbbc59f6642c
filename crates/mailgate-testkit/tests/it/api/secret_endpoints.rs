//! Secrets and the network: a stored secret never follows an endpoint change, and credentials
//! cross the network in the clear neither to a remote host nor through a remote proxy.

use crate::oauth::{connected_key, connected_server};
use mailgate_core::tokens;
use mailgate_testkit::{TestApp, spawn_app};
use serde_json::{Value, json};

fn basic_imap(host: &str) -> Value {
    json!({"name": "Legacy", "email": "legacy@example.com", "protocol": "imap", "host": host, "port": 143,
           "security": "none", "auth": "basic", "username": "legacy", "password": "s3cret"})
}

async fn created(app: &TestApp, path: &str, body: Value) -> String {
    let answer = app.post(path, body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_password_is_not_sent_to_a_new_host_port_proxy_or_user_without_being_given_again() {
    let app = spawn_app().await;
    let id = created(&app, "/api/v1/incoming-servers", basic_imap("127.0.0.1")).await;
    let path = format!("/api/v1/incoming-servers/{id}");
    for (field, value) in [
        ("host", json!("localhost")),
        ("port", json!(1143)),
        ("proxy", json!("socks5://127.0.0.1:1080")),
        ("username", json!("someone-else")),
    ] {
        let before = app.get(&path).await.body;
        let refused = app.patch(&path, json!({ field: value })).await;
        assert_eq!(refused.status, 422, "{field}: {}", refused.body);
        assert_eq!(refused.body["error"], "secret_required", "{}", refused.body);
        assert_eq!(refused.body["field"], "password", "{}", refused.body);
        assert!(
            refused.body["message"].as_str().unwrap().contains(field),
            "{}",
            refused.body
        );
        assert_eq!(app.get(&path).await.body, before, "nothing changed");
        // With the password in the same request, the change is made.
        let accepted = app
            .patch(&path, json!({ field: value, "password": "s3cret" }))
            .await;
        assert_eq!(accepted.status, 200, "{field}: {}", accepted.body);
    }
    // What does not move the password needs no password.
    let renamed = app.patch(&path, json!({"name": "Renamed"})).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);

    let smtp = created(&app, "/api/v1/outgoing-servers", json!({"name": "Relay", "email": "r@example.com", "protocol": "smtp",
        "host": "127.0.0.1", "port": 25, "security": "none", "auth": "basic", "username": "r", "password": "pw"})).await;
    let refused = app
        .patch(
            &format!("/api/v1/outgoing-servers/{smtp}"),
            json!({"host": "localhost"}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.body["error"].as_str()),
        (422, Some("secret_required")),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn an_oauth_app_moved_elsewhere_needs_its_secret_and_drops_its_grants() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let (mailbox, server, _) = connected_server(&app, &oauth, "moved").await;
    let path = format!("/api/v1/oauth-apps/{}", oauth["id"].as_str().unwrap());
    for field in ["token_url", "authorization_url", "userinfo_url"] {
        let refused = app
            .patch(&path, json!({ field: "https://elsewhere.example.com/x" }))
            .await;
        assert_eq!(refused.status, 422, "{field}: {}", refused.body);
        assert_eq!(refused.body["error"], "secret_required");
        assert_eq!(refused.body["field"], "client_secret");
    }
    // The grant still works: nothing moved.
    let key = connected_key(&oauth, &mailbox);
    assert!(tokens::access_token(&app.core, &key).await.is_ok());
    let server_path = format!(
        "/api/v1/incoming-servers/{}",
        server["id"].as_str().unwrap()
    );
    assert_eq!(app.get(&server_path).await.body["status"], "connected");

    // Moved with the secret given again: the grant obtained through the old endpoints is gone.
    let moved = app
        .patch(
            &path,
            json!({"token_url": "https://elsewhere.example.com/token", "client_secret": "a-new-secret"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let shown = app.get(&server_path).await.body;
    assert_eq!(shown["status"], "authorization_required", "{shown:#}");
    assert!(
        shown["credential"]["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("token_url"),
        "{shown:#}"
    );
    let refused = tokens::access_token(&app.core, &key)
        .await
        .unwrap_err()
        .into_diagnosis();
    assert!(refused.needs_reauthorization(), "{refused:?}");
}

#[tokio::test]
async fn plaintext_credentials_never_go_through_a_remote_proxy() {
    let app = spawn_app().await;
    let mut body = basic_imap("127.0.0.1");
    body["proxy"] = json!("socks5://proxy.example.com:1080");
    let refused = app.post("/api/v1/incoming-servers", body).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["field"], "proxy", "{}", refused.body);

    let smtp = json!({"name": "Relay", "email": "r@example.com", "protocol": "smtp", "host": "127.0.0.1", "port": 25,
        "security": "none", "auth": "basic", "username": "r", "password": "pw", "proxy": "http://proxy.example.com:3128"});
    let refused = app.post("/api/v1/outgoing-servers", smtp).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["field"], "proxy", "{}", refused.body);

    // A local server through a local proxy stays allowed; adding a remote proxy later is refused.
    let mut body = basic_imap("127.0.0.1");
    body["proxy"] = json!("socks5://127.0.0.1:1080");
    let id = created(&app, "/api/v1/incoming-servers", body).await;
    let refused = app
        .patch(
            &format!("/api/v1/incoming-servers/{id}"),
            json!({"proxy": "socks5://proxy.example.com:1080", "password": "s3cret"}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.body["field"].as_str()),
        (400, Some("proxy")),
        "{}",
        refused.body
    );
}
