use mailgate_testkit::spawn_app;
use mailgate_testkit::wire::{Conn, xoauth2};
use serde_json::json;

#[tokio::test]
async fn the_full_consent_flow_through_the_consent_page_connects_the_server() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let (mailbox, server) = app.stack_imap_server(&oauth, "consent-page").await;
    let id = server["id"].as_str().unwrap();

    let start = app
        .post(
            &format!("/api/v1/incoming-servers/{id}/authorize"),
            json!({}),
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.body);
    let url = url::Url::parse(start.body["authorization_url"].as_str().unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        (
            q["access_type"].as_str(),
            q["prompt"].as_str(),
            q["response_type"].as_str()
        ),
        ("offline", "consent", "code")
    );
    assert_eq!(q["login_hint"], mailbox);
    assert_eq!(q["redirect_uri"], format!("{}/oauth/callback", app.address));
    assert_eq!(q["code_challenge"].len(), 43, "base64url of a SHA-256");
    assert_eq!(start.body["redirect_uri"], q["redirect_uri"].as_str());

    // The browser goes through mailgate's start URL to the emulator's sign-in page.
    let via = app
        .http
        .get(start.body["start_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(via.status(), 303, "start_url redirects to the provider");
    assert_eq!(via.headers()["location"].to_str().unwrap(), url.as_str());
    // This test opens the real page: no scripted answer of another test may take its place.
    let turn = mailgate_testkit::app::provider_turn().await;
    let page = app
        .http
        .get(url.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    drop(turn);
    let request_id = page
        .split("name=\"request_id\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a consent form");
    // The admin signs in as the mailbox and clicks Allow.
    let decided = app
        .http
        .post(format!(
            "{}/o/oauth2/v2/auth/decision",
            app.world().emulator.base_url()
        ))
        .form(&[
            ("request_id", request_id),
            ("email", mailbox.as_str()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), 302);
    let back = decided.headers()["location"].to_str().unwrap().to_owned();
    let landed = app.http.get(&back).send().await.unwrap();
    assert_eq!(landed.status(), 200);
    let html = landed.text().await.unwrap();
    assert!(
        html.contains("Connected") && html.contains(&mailbox),
        "{html}"
    );

    let shown = app
        .get(&format!("/api/v1/incoming-servers/{id}"))
        .await
        .body;
    assert_eq!(shown["status"], "connected", "{shown}");
    assert_eq!(shown["credential"]["account"], mailbox.as_str());
    assert!(
        shown["credential"]["granted_scope"]
            .as_str()
            .unwrap()
            .contains("https://mail.google.com/")
    );
    let events = app.get("/api/v1/events").await.body;
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "credential.connected" && e["subject_id"] == id),
        "{events}"
    );

    // The stored grant really opens the mailbox on the real IMAP server.
    let key = super::connected_key(&oauth, &mailbox);
    let token = mailgate_core::tokens::access_token(&app.core, &key)
        .await
        .unwrap();
    let stack = &app.world().stack;
    let mut imap = Conn::tls(stack, stack.imaps_port).await;
    imap.line().await;
    let reply = imap
        .imap(
            "a1",
            &format!(
                "AUTHENTICATE XOAUTH2 {}",
                xoauth2(&mailbox, secrecy::ExposeSecret::expose_secret(&token.token))
            ),
        )
        .await;
    assert!(reply.last().unwrap().starts_with("a1 OK"), "{reply:?}");

    // Nothing of the grant is stored in the clear.
    let tokens_in_db = std::fs::read(app.data_dir.join("mailgate.db-wal")).unwrap_or_default();
    let needle = secrecy::ExposeSecret::expose_secret(&token.token).as_bytes();
    assert!(
        !tokens_in_db.windows(needle.len()).any(|w| w == needle),
        "the access token is sealed at rest"
    );
}

#[tokio::test]
async fn tampered_expired_and_replayed_states_are_refused() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let (mailbox, server) = app.stack_imap_server(&oauth, "state").await;
    let id = server["id"].as_str().unwrap();
    let page = |url: String| {
        let http = app.http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    let (status, html) = page(format!(
        "{}/oauth/callback?code=abc&state=forged",
        app.address
    ))
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("oauth_state_invalid"), "{html}");
    let (_, html) = page(format!("{}/oauth/callback?code=abc", app.address)).await;
    assert!(html.contains("oauth_state_invalid"), "{html}");

    // A real state with one character changed is just as unknown.
    let start = app
        .post(
            &format!("/api/v1/incoming-servers/{id}/authorize"),
            json!({}),
        )
        .await
        .body;
    let real = url::Url::parse(start["authorization_url"].as_str().unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let mut tampered = real.clone();
    tampered.replace_range(0..1, if real.starts_with('A') { "B" } else { "A" });
    let (_, html) = page(format!(
        "{}/oauth/callback?code=abc&state={tampered}",
        app.address
    ))
    .await;
    assert!(html.contains("oauth_state_invalid"), "{html}");

    // Older than ten minutes: expired (the service's clock moves, nobody sleeps).
    app.clock.advance_secs(601);
    let (status, html) = page(format!(
        "{}/oauth/callback?code=abc&state={real}",
        app.address
    ))
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("oauth_state_expired"), "{html}");
    let (_, html) = page(start["start_url"].as_str().unwrap().to_owned()).await;
    assert!(
        html.contains("oauth_state_expired"),
        "the start URL expires too: {html}"
    );

    // Used once: the same callback again is a replay.
    let start = app
        .post(
            &format!("/api/v1/incoming-servers/{id}/authorize"),
            json!({}),
        )
        .await
        .body;
    let back = app
        .provider_redirect(start["authorization_url"].as_str().unwrap(), &mailbox, true)
        .await;
    assert_eq!(page(back.clone()).await.0, 200);
    let (status, html) = page(back).await;
    assert_eq!(status, 400);
    assert!(html.contains("oauth_state_reused"), "{html}");
}

#[tokio::test]
async fn the_code_is_bound_to_the_pkce_challenge_mailgate_sent() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let (mailbox, server) = app.stack_imap_server(&oauth, "pkce").await;
    let start = app
        .post(
            &format!(
                "/api/v1/incoming-servers/{}/authorize",
                server["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await
        .body;
    let back = url::Url::parse(
        &app.provider_redirect(start["authorization_url"].as_str().unwrap(), &mailbox, true)
            .await,
    )
    .unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    // Someone who intercepted the code, but not mailgate's verifier, gets nothing.
    let (_, _, secrets) =
        mailgate_core::objects::Objects::<mailgate_core::objects::OAuthApps>::load(
            &app.core,
            oauth["id"].as_str().unwrap().parse().unwrap(),
        )
        .await
        .unwrap();
    let stolen: serde_json::Value = app
        .http
        .post(format!("{}/token", app.world().emulator.base_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", &format!("{}/oauth/callback", app.address)),
            ("client_id", oauth["client_id"].as_str().unwrap()),
            (
                "client_secret",
                secrecy::ExposeSecret::expose_secret(&secrets["client_secret"]),
            ),
            (
                "code_verifier",
                "an-attacker-guess-that-is-long-enough-to-be-a-verifier",
            ),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stolen["error"], "invalid_grant", "{stolen}");
    // (The full consent test shows mailgate's own verifier is accepted.)
}

#[tokio::test]
async fn provider_errors_on_the_callback_say_what_to_fix() {
    let app = spawn_app().await;
    // The user clicks Deny.
    let oauth = app.google_oauth_app().await;
    let (mailbox, server) = app.stack_imap_server(&oauth, "deny").await;
    let (status, html) = app
        .consent("incoming", server["id"].as_str().unwrap(), &mailbox, false)
        .await;
    assert_eq!(status, 400);
    assert!(html.contains("access_denied"), "{html}");

    // The app is in Testing and the mailbox is not a test user.
    let testing = app
        .google_oauth_app_with(|r| r.testing(["someone-else@example.test"]))
        .await;
    let (mailbox, server) = app.stack_imap_server(&testing, "not-a-tester").await;
    let (status, html) = app
        .consent("incoming", server["id"].as_str().unwrap(), &mailbox, true)
        .await;
    assert_eq!(status, 400);
    assert!(
        html.contains("access_denied") && html.to_lowercase().contains("test user"),
        "{html}"
    );

    // The admin signs in with another account than the server's mailbox.
    let (_, server) = app.stack_imap_server(&oauth, "mismatch").await;
    let other = app.world().fresh_user("someone-else");
    let (status, html) = app
        .consent("incoming", server["id"].as_str().unwrap(), &other, true)
        .await;
    assert_eq!(status, 400);
    assert!(
        html.contains("account_mismatch") && html.contains(&other),
        "{html}"
    );
    let shown = app
        .get(&format!(
            "/api/v1/incoming-servers/{}",
            server["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(
        shown["status"], "authorization_required",
        "a refused consent stores nothing"
    );

    let events = app.get("/api/v1/events").await.body;
    let failures = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "oauth.consent_failed")
        .count();
    assert_eq!(failures, 3, "{events}");

    // A server without an OAuth app needs no consent, and says so.
    let basic = app.post("/api/v1/outgoing-servers", json!({"name": "Relay", "email": "r@example.com", "protocol": "smtp", "host": "127.0.0.1", "auth": "none"})).await.body;
    let refused = app
        .post(
            &format!(
                "/api/v1/outgoing-servers/{}/authorize",
                basic["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.body["field"].as_str()),
        (400, Some("auth"))
    );
}
