//! A PATCH cannot clear a secret the configuration still needs: it is refused like a create
//! without it, and the stored secret stays.

use super::google_app;
use mailgate_testkit::spawn_app;
use serde_json::json;

#[tokio::test]
async fn clearing_the_password_of_a_basic_auth_server_is_refused_and_keeps_it() {
    let app = spawn_app().await;
    let oauth_app = app.post("/api/v1/oauth-apps", google_app()).await.body["id"].clone();
    for (collection, body) in [
        (
            "/api/v1/incoming-servers",
            json!({"name": "Legacy", "email": "help@example.com", "protocol": "imap", "host": "mail.example.com", "auth": "basic", "password": "old-password"}),
        ),
        (
            "/api/v1/outgoing-servers",
            json!({"name": "Relay", "email": "help@example.com", "protocol": "smtp", "host": "smtp.example.com", "auth": "basic", "password": "old-password"}),
        ),
    ] {
        let created = app.post(collection, body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let path = format!("{collection}/{}", created.body["id"].as_str().unwrap());

        let refused = app.patch(&path, json!({"password": null})).await;
        assert_eq!(
            (refused.status, refused.body["field"].as_str()),
            (400, Some("password")),
            "{path}: {}",
            refused.body
        );
        assert_eq!(refused.body["error"], "validation_failed");
        let kept = app.get(&path).await.body;
        assert_eq!(kept["has_password"], true, "{kept}");

        // Clearing it with the change that stops needing it is fine.
        let oauth = app
            .patch(
                &path,
                json!({"auth": "oauth", "oauth_app_id": oauth_app, "username": null, "password": null}),
            )
            .await;
        assert_eq!(oauth.status, 200, "{path}: {}", oauth.body);
        assert_eq!(oauth.body["has_password"], false);
    }
}

#[tokio::test]
async fn clearing_the_client_secret_of_an_oauth_app_is_refused_and_keeps_it() {
    let app = spawn_app().await;
    let created = app.post("/api/v1/oauth-apps", google_app()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let path = format!(
        "/api/v1/oauth-apps/{}",
        created.body["id"].as_str().unwrap()
    );

    let refused = app.patch(&path, json!({"client_secret": null})).await;
    assert_eq!(
        (refused.status, refused.body["field"].as_str()),
        (400, Some("client_secret")),
        "{}",
        refused.body
    );
    assert_eq!(app.get(&path).await.body["has_client_secret"], true);

    // Leaving it out still keeps it; giving a new one replaces it.
    let renamed = app.patch(&path, json!({"name": "Renamed"})).await;
    assert_eq!(
        (renamed.status, renamed.body["has_client_secret"].as_bool()),
        (200, Some(true))
    );
}
