use mailgate_testkit::spawn_app;
use serde_json::json;

/// A test-only RSA key (the emulator's fixture), as Google puts it in a key file.
const KEY_PEM: &str =
    include_str!("../../../../mailgate-emulator/testdata/test-only-service-account-key.pem");

fn key_file() -> serde_json::Value {
    json!({
        "type": "service_account", "project_id": "mailgate-test", "private_key_id": "abc123",
        "private_key": KEY_PEM, "client_email": "sender@mailgate-test.iam.gserviceaccount.com",
        "client_id": "103456789012345678901", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token", "universe_domain": "googleapis.com"
    })
}

#[tokio::test]
async fn the_downloaded_key_file_is_accepted_as_it_is_and_the_key_never_returns() {
    let app = spawn_app().await;
    let created = app.post("/api/v1/service-accounts", key_file()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["client_email"],
        "sender@mailgate-test.iam.gserviceaccount.com"
    );
    assert_eq!(
        created.body["name"], "sender@mailgate-test.iam.gserviceaccount.com",
        "named after the account by default"
    );
    assert_eq!(created.body["has_private_key"], true);
    let listed = app.get("/api/v1/service-accounts").await.body.to_string();
    assert!(
        !listed.contains("PRIVATE KEY") && !listed.contains("\"private_key\":"),
        "{listed}"
    );

    let wrapped = app
        .post(
            "/api/v1/service-accounts",
            json!({"name": "Workspace sender", "key": key_file()}),
        )
        .await;
    assert_eq!(wrapped.status, 201, "{}", wrapped.body);
    let renamed = app
        .patch(
            &format!(
                "/api/v1/service-accounts/{}",
                wrapped.body["id"].as_str().unwrap()
            ),
            json!({"name": "Renamed"}),
        )
        .await;
    assert_eq!(
        (
            renamed.status,
            renamed.body["name"].as_str(),
            renamed.body["has_private_key"].as_bool()
        ),
        (200, Some("Renamed"), Some(true)),
        "{}",
        renamed.body
    );
}

#[tokio::test]
async fn a_wrong_or_broken_key_file_says_what_to_download() {
    let app = spawn_app().await;
    let oauth_client_json = json!({"web": {"client_id": "x.apps.googleusercontent.com"}});
    let answer = app
        .post(
            "/api/v1/service-accounts",
            json!({"key": oauth_client_json}),
        )
        .await;
    assert_eq!(
        (answer.status, answer.body["field"].as_str()),
        (400, Some("key.type")),
        "{}",
        answer.body
    );

    let mut broken = key_file();
    broken["private_key"] = json!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    broken["client_id"] = json!("sender");
    let answer = app.post("/api/v1/service-accounts", broken).await;
    let fields: Vec<&str> = answer.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["client_id", "private_key"], "{}", answer.body);
    assert!(
        !answer.body.to_string().contains("AAAA"),
        "the key is not echoed back"
    );

    let mut other_type = key_file();
    other_type["type"] = json!("authorized_user");
    let answer = app.post("/api/v1/service-accounts", other_type).await;
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains("`authorized_user` key file")
    );
}
