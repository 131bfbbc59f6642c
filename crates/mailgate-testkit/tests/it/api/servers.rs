use super::{google_app, imap_server};
use mailgate_testkit::spawn_app;
use serde_json::json;

#[tokio::test]
async fn links_must_name_existing_objects() {
    let app = spawn_app().await;
    let ghost = "0b6f7a9e-3c1d-4e57-9a61-2f0c5d1e8b42";
    let answer = app.post("/api/v1/incoming-servers", json!({"name": "S", "email": "s@example.com", "protocol": "imap", "host": "imap.gmail.com", "auth": "oauth", "oauth_app_id": ghost, "outgoing_server_id": ghost})).await;
    assert_eq!(answer.status, 400);
    let fields: Vec<&str> = answer.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["oauth_app_id", "outgoing_server_id"]);
    assert!(
        answer.body["hint"]
            .as_str()
            .unwrap()
            .contains("GET /api/v1/oauth-apps")
    );
}

#[tokio::test]
async fn patch_merges_fields_clears_nulls_and_keeps_the_password() {
    let app = spawn_app().await;
    let created = app
        .post("/api/v1/incoming-servers", json!({"name": "Legacy", "email": "help@example.com", "protocol": "imap", "host": "mail.example.com", "auth": "basic", "password": "old-password",
               "filter": {"type": "ignore", "emails": ["noreply@example.com"]}, "proxy": "socks5://127.0.0.1:1080"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        (
            created.body["username"].as_str(),
            created.body["has_password"].as_bool()
        ),
        (Some("help@example.com"), Some(true))
    );
    let path = format!(
        "/api/v1/incoming-servers/{}",
        created.body["id"].as_str().unwrap()
    );

    // A new port and no proxy change where the password goes: it is given again.
    let patched = app.patch(&path, json!({"port": 143, "security": "starttls", "proxy": null, "password": "old-password", "filter": {"domains": ["spam.example"]}, "enabled": false})).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(
        (
            patched.body["port"].as_u64(),
            patched.body["security"].as_str()
        ),
        (Some(143), Some("starttls"))
    );
    assert!(
        patched.body.get("proxy").is_none(),
        "null cleared the proxy"
    );
    assert_eq!(
        patched.body["filter"],
        json!({"type": "ignore", "emails": ["noreply@example.com"], "domains": ["spam.example"], "keywords": []})
    );
    assert_eq!(
        (
            patched.body["has_password"].as_bool(),
            patched.body["status"].as_str()
        ),
        (Some(true), Some("disabled"))
    );

    // A patch that breaks a rule is refused whole: nothing changes.
    let refused = app
        .patch(&path, json!({"port": 993, "name": "Renamed"}))
        .await;
    assert_eq!(
        (refused.status, refused.body["field"].as_str()),
        (400, Some("security"))
    );
    assert_eq!(app.get(&path).await.body["name"], "Legacy");
}

#[tokio::test]
async fn one_primary_outgoing_server_at_a_time_and_it_survives_a_restart() {
    let app = spawn_app().await;
    let smtp = |name: &str| json!({"name": name, "email": "n@example.com", "protocol": "smtp", "host": "smtp.example.com", "auth": "basic", "password": "p", "primary": true});
    let first = app
        .post("/api/v1/outgoing-servers", smtp("first"))
        .await
        .body;
    let second = app
        .post("/api/v1/outgoing-servers", smtp("second"))
        .await
        .body;
    let primaries = |list: &serde_json::Value| {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|s| s["primary"] == true)
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        primaries(&app.get("/api/v1/outgoing-servers").await.body),
        ["second"]
    );
    app.patch(
        &format!("/api/v1/outgoing-servers/{}", first["id"].as_str().unwrap()),
        json!({"primary": true}),
    )
    .await;
    assert_eq!(
        primaries(&app.get("/api/v1/outgoing-servers").await.body),
        ["first"]
    );

    let app = app.restart().await;
    let listed = app.get("/api/v1/outgoing-servers").await.body;
    assert_eq!(primaries(&listed), ["first"]);
    assert_eq!(listed[1]["id"], second["id"]);
}

#[tokio::test]
async fn gmail_api_servers_take_an_api_url_and_oauth() {
    let app = spawn_app().await;
    let oauth = app.post("/api/v1/oauth-apps", google_app()).await.body;
    let created = app
        .post("/api/v1/outgoing-servers", json!({"name": "Gmail API", "email": "support@example.com", "protocol": "gmail_api", "auth": "oauth", "oauth_app_id": oauth["id"], "api_base_url": "http://127.0.0.1:9/"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["api_base_url"], "http://127.0.0.1:9");
    assert!(created.body.get("host").is_none());
    let imap = app
        .post("/api/v1/incoming-servers", imap_server(&oauth["id"]))
        .await;
    let linked = app
        .patch(
            &format!(
                "/api/v1/incoming-servers/{}",
                imap.body["id"].as_str().unwrap()
            ),
            json!({"outgoing_server_id": created.body["id"]}),
        )
        .await;
    assert_eq!(linked.body["outgoing_server_id"], created.body["id"]);
}

#[tokio::test]
async fn the_api_runs_on_postgresql_and_keeps_secrets_sealed_there() {
    let url = mailgate_testkit::fresh_postgres_database().await;
    let app = mailgate_testkit::spawn_app_with(
        mailgate_testkit::TestConfig::default().set("database.url", &url),
    )
    .await;
    let health = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(health["database"], "postgres");
    let oauth = app.post("/api/v1/oauth-apps", google_app()).await;
    assert_eq!(oauth.status, 201, "{}", oauth.body);
    let server = app
        .post("/api/v1/incoming-servers", imap_server(&oauth.body["id"]))
        .await;
    assert_eq!(server.status, 201, "{}", server.body);
    assert_eq!(
        app.get("/api/v1/incoming-servers").await.body[0]["oauth_app_id"],
        oauth.body["id"]
    );

    let dump = tokio::process::Command::new("psql")
        .args([
            url.as_str(),
            "-Atc",
            "SELECT spec || encode(coalesce(sealed, ''), 'escape') FROM config_objects",
        ])
        .output()
        .await
        .unwrap();
    assert!(dump.status.success());
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.contains("123.apps.googleusercontent.com"),
        "the dump reads the table: {dump}"
    );
    assert!(
        !dump.contains("GOCSPX-first-secret"),
        "the client secret is sealed in PostgreSQL too"
    );
}
