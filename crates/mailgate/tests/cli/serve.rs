use crate::process::{Api, Served, create_token, run};
use serde_json::{Value, json};

/// The "done when", as a user would do it with curl.
#[tokio::test]
async fn configure_a_mailbox_restart_and_find_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = Served::start(&data).await;
    assert!(
        data.join("mailgate.db").exists(),
        "SQLite database created in the data directory"
    );
    assert!(
        served.log_text().contains("/oauth/callback"),
        "the redirect URI to register is logged"
    );
    let api = Api {
        base: served.base.clone(),
        token: create_token(&data),
        http: reqwest::Client::new(),
    };

    let (status, unauthorized) = Api {
        token: "mgt_wrong".into(),
        ..Api {
            base: api.base.clone(),
            token: String::new(),
            http: api.http.clone(),
        }
    }
    .get("/oauth-apps")
    .await;
    assert_eq!(
        (status, unauthorized["error"].as_str()),
        (401, Some("unauthorized"))
    );

    let (status, app) = api
        .post("/oauth-apps", json!({"name": "Google", "provider": "google", "client_id": "123.apps.googleusercontent.com", "client_secret": "GOCSPX-client-secret-1"}))
        .await;
    assert_eq!(status, 201, "{app}");
    let (status, smtp) = api
        .post(
            "/outgoing-servers",
            json!({"name": "Notifications", "email": "support@example.com", "sender_name": "IT Support", "protocol": "smtp",
                   "host": "smtp.gmail.com", "port": 587, "security": "starttls", "auth": "oauth", "oauth_app_id": app["id"],
                   "reply_to": "support@example.com", "primary": true, "filter": {"type": "ignore", "domains": ["competitor.example"]}}),
        )
        .await;
    assert_eq!(status, 201, "{smtp}");
    let (status, imap) = api
        .post(
            "/incoming-servers",
            json!({"name": "Support", "email": "support@example.com", "protocol": "imap", "host": "imap.gmail.com", "port": 993,
                   "security": "ssl", "auth": "oauth", "oauth_app_id": app["id"], "folder": "INBOX", "group": "IT", "category": "Hardware",
                   "enabled": true, "primary": true, "outgoing_server_id": smtp["id"],
                   "filter": {"type": "allow", "emails": [], "domains": ["example.com"], "keywords": []}, "after_import": "mark_seen"}),
        )
        .await;
    assert_eq!(status, 201, "{imap}");
    let (status, basic) = api
        .post("/outgoing-servers", json!({"name": "Relay", "email": "noreply@example.com", "protocol": "smtp", "host": "smtp.example.com", "auth": "basic", "password": "relay-password-2"}))
        .await;
    assert_eq!(status, 201, "{basic}");

    // Bad input: 400, the field named, a hint.
    for (path, body, field) in [
        (
            "/oauth-apps",
            json!({"name": "X", "provider": "yahoo", "client_id": "x"}),
            "provider",
        ),
        (
            "/incoming-servers",
            json!({"name": "X", "email": "x@example.com", "protocol": "imap", "host": "h.example.com", "port": 99999, "auth": "basic", "password": "p"}),
            "port",
        ),
        (
            "/incoming-servers",
            json!({"name": "X", "email": "not-an-address", "protocol": "imap", "host": "h.example.com", "auth": "basic", "password": "p"}),
            "email",
        ),
        (
            "/incoming-servers",
            json!({"name": "X", "email": "x@example.com", "protocol": "imap", "host": "h.example.com", "auth": "oauth"}),
            "oauth_app_id",
        ),
        (
            "/incoming-servers",
            json!({"name": "X", "email": "x@example.com", "protocol": "imap", "host": "h.example.com", "auth": "basic", "password": "p", "filter": {"type": "ignore", "domains": ["@spam.example"]}}),
            "filter.domains[0]",
        ),
        (
            "/outgoing-servers",
            json!({"name": "X", "email": "x@example.com", "protocol": "smtp", "host": "smtp.gmail.com", "port": 465, "security": "starttls", "auth": "none"}),
            "security",
        ),
        (
            "/outgoing-servers",
            json!({"name": "X", "email": "x@example.com", "protocol": "smtp", "host": "smtp.gmail.com", "auth": "none", "colour": "red"}),
            "colour",
        ),
    ] {
        let (status, error) = api.post(path, body.clone()).await;
        assert_eq!(status, 400, "{body} -> {error}");
        assert_eq!(error["field"], json!(field), "{body} -> {error}");
        assert!(
            error["hint"].as_str().is_some_and(|h| !h.is_empty()),
            "{error}"
        );
    }

    let listed_before = listing(&api).await;
    assert_eq!(
        served.stop().code(),
        Some(0),
        "graceful shutdown on SIGTERM exits 0"
    );

    // Restart on the same data directory: everything is still there, still without secrets.
    let served = Served::start(&data).await;
    let api = Api {
        base: served.base.clone(),
        ..api
    };
    let listed_after = listing(&api).await;
    assert_eq!(
        listed_after["oauth_apps"][0]["redirect_uri"],
        json!(format!("{}/oauth/callback", served.base)),
        "the redirect URI follows the new address"
    );
    assert_eq!(
        without_redirect_uri(listed_after.clone()),
        without_redirect_uri(listed_before)
    );
    let text = listed_after.to_string();
    for secret in ["GOCSPX-client-secret-1", "relay-password-2"] {
        assert!(!text.contains(secret), "a secret came back in a listing");
    }
    assert_eq!(
        listed_after["oauth_apps"][0]["has_client_secret"],
        json!(true)
    );
    assert_eq!(listed_after["outgoing"][1]["has_password"], json!(true));
    assert_eq!(
        listed_after["incoming"][0]["outgoing_server_id"],
        smtp["id"]
    );
    assert_eq!(
        listed_after["incoming"][0]["filter"]["domains"],
        json!(["example.com"])
    );
    assert_eq!(
        listed_after["incoming"][0]["status"],
        json!("authorization_required")
    );

    // Secrets are encrypted at rest: no file in the data directory holds them (or the admin
    // token, kept as a hash) in the clear, and no log line carries them.
    let secrets = [
        "GOCSPX-client-secret-1",
        "relay-password-2",
        api.token.as_str(),
    ];
    let log = served.log_text();
    for secret in secrets {
        assert!(!log.contains(secret), "{secret} appears in the log");
    }
    for entry in std::fs::read_dir(&data).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for secret in secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} found in clear in the data directory"
            );
        }
    }
    drop(served);

    // `mailgate server list` shows both servers and their state.
    let out = run(&["server", "list", "--data-dir", data.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.lines().any(|l| l.starts_with("incoming")
            && l.contains("Support")
            && l.contains("imap.gmail.com:993 (ssl)")
            && l.contains("authorization_required")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("outgoing") && l.contains("Notifications") && l.contains("yes")),
        "{table}"
    );
}

fn without_redirect_uri(mut listing: Value) -> Value {
    for app in listing["oauth_apps"].as_array_mut().unwrap() {
        app.as_object_mut().unwrap().remove("redirect_uri");
    }
    listing
}

async fn listing(api: &Api) -> Value {
    let (_, oauth_apps) = api.get("/oauth-apps").await;
    let (_, incoming) = api.get("/incoming-servers").await;
    let (_, outgoing) = api.get("/outgoing-servers").await;
    json!({"oauth_apps": oauth_apps, "incoming": incoming, "outgoing": outgoing})
}

#[tokio::test]
async fn a_wrong_master_key_refuses_to_start_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(Served::start(&data).await);
    let out = crate::process::mailgate()
        .args([
            "serve",
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env(
            "MAILGATE__SECRETS__MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the master key does not open the secrets stored in this database"),
        "{stderr}"
    );

    std::fs::remove_file(data.join("master.key")).unwrap();
    let out = run(&["server", "list", "--data-dir", data.to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "a lost key file is not silently replaced"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("restore the file from your backup"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
