use super::{google_app, imap_server};
use mailgate_testkit::spawn_app;
use serde_json::json;

#[tokio::test]
async fn presets_fill_in_and_stay_editable_and_the_secret_is_write_only() {
    let app = spawn_app().await;
    let created = app.post("/api/v1/oauth-apps", google_app()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body["token_url"],
        "https://oauth2.googleapis.com/token"
    );
    assert_eq!(
        created.body["redirect_uri"],
        format!("{}/oauth/callback", app.address)
    );
    assert_eq!(created.body["has_client_secret"], true);
    assert!(created.body.get("client_secret").is_none());

    // Point the token endpoint at a local emulator: the secret goes there, so it is given again.
    let patched = app.patch(&format!("/api/v1/oauth-apps/{id}"), json!({"token_url": "http://127.0.0.1:9/token", "client_secret": "GOCSPX-first-secret", "scopes": ["https://mail.google.com/"]})).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["token_url"], "http://127.0.0.1:9/token");
    assert_eq!(
        patched.body["authorization_url"], "https://accounts.google.com/o/oauth2/v2/auth",
        "untouched fields stay"
    );
    assert_eq!(patched.body["has_client_secret"], true);
    let (_, _, secrets) =
        mailgate_core::objects::Objects::<mailgate_core::objects::OAuthApps>::load(
            &app.core,
            id.parse().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&secrets["client_secret"]),
        "GOCSPX-first-secret"
    );

    // A new secret replaces the old one.
    app.patch(
        &format!("/api/v1/oauth-apps/{id}"),
        json!({"client_secret": "GOCSPX-second"}),
    )
    .await;
    let (_, _, secrets) =
        mailgate_core::objects::Objects::<mailgate_core::objects::OAuthApps>::load(
            &app.core,
            id.parse().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&secrets["client_secret"]),
        "GOCSPX-second"
    );

    // An http endpoint off this machine is refused, naming the field.
    let bad = app
        .patch(
            &format!("/api/v1/oauth-apps/{id}"),
            json!({"token_url": "http://idp.example.com/token"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["field"].as_str()),
        (400, Some("token_url"))
    );
}

#[tokio::test]
async fn an_app_in_use_cannot_be_deleted_and_names_its_users() {
    let app = spawn_app().await;
    let oauth = app.post("/api/v1/oauth-apps", google_app()).await.body;
    let server = app
        .post("/api/v1/incoming-servers", imap_server(&oauth["id"]))
        .await;
    assert_eq!(server.status, 201, "{}", server.body);
    let refused = app
        .delete(&format!(
            "/api/v1/oauth-apps/{}",
            oauth["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.body["error"], "in_use");
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("incoming server `Support`"),
        "{}",
        refused.body
    );

    assert_eq!(
        app.delete(&format!(
            "/api/v1/incoming-servers/{}",
            server.body["id"].as_str().unwrap()
        ))
        .await
        .status,
        204
    );
    assert_eq!(
        app.delete(&format!(
            "/api/v1/oauth-apps/{}",
            oauth["id"].as_str().unwrap()
        ))
        .await
        .status,
        204
    );
    assert_eq!(
        app.get(&format!(
            "/api/v1/oauth-apps/{}",
            oauth["id"].as_str().unwrap()
        ))
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn names_are_unique_per_kind() {
    let app = spawn_app().await;
    assert_eq!(
        app.post("/api/v1/oauth-apps", google_app()).await.status,
        201
    );
    let twin = app.post("/api/v1/oauth-apps", google_app()).await;
    assert_eq!(
        (
            twin.status,
            twin.body["error"].as_str(),
            twin.body["field"].as_str()
        ),
        (409, Some("name_taken"), Some("name"))
    );
}
