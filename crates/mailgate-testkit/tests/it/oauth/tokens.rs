use super::{connected_server, token_requests};
use mailgate_core::tokens;
use mailgate_core::workers::{refresh_once, step::Outcome};
use mailgate_testkit::spawn_app;

#[tokio::test]
async fn two_hundred_concurrent_requests_for_one_credential_cause_one_refresh() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let (_, _, key) = connected_server(&app, &oauth, "flight").await;
    // Past the token's life: every caller needs a new token at the same moment.
    app.clock.advance_secs(3700);
    let before = token_requests(&app, &oauth);
    let core = app.core.clone();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (core, key) = (core.clone(), key.clone());
            tokio::spawn(async move {
                tokens::access_token(&core, &key)
                    .await
                    .map(|t| secrecy::ExposeSecret::expose_secret(&t.token).to_owned())
            })
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for task in tasks {
        seen.insert(task.await.unwrap().expect("a token"));
    }
    assert_eq!(
        token_requests(&app, &oauth) - before,
        1,
        "one refresh for 200 callers"
    );
    assert_eq!(seen.len(), 1, "all got the same new token");
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let (_, server, key) = connected_server(&app, &oauth, "ahead").await;
    let first = tokens::access_token(&app.core, &key).await.unwrap();
    let before = token_requests(&app, &oauth);

    // At two thirds of the token's life nothing is due.
    app.clock.advance_secs(40 * 60);
    assert_eq!(refresh_once(&app.core).await.unwrap(), Outcome::Idle);
    assert_eq!(token_requests(&app, &oauth), before);
    // Past 80% (and any jitter) the refresher renews it while the old one is still valid.
    app.clock.advance_secs(10 * 60);
    assert!(
        first.expires_at_ms > mailgate_core::clock::Clock::now_ms(app.clock.as_ref()),
        "the old token is still valid"
    );
    assert_eq!(refresh_once(&app.core).await.unwrap(), Outcome::DidWork(1));
    assert_eq!(token_requests(&app, &oauth) - before, 1);
    // When the first token would have expired, callers get the renewed one without waiting for
    // a request.
    app.clock.advance_secs(15 * 60);
    let renewed = tokens::access_token(&app.core, &key).await.unwrap();
    assert!(renewed.expires_at_ms > first.expires_at_ms);
    assert_eq!(
        token_requests(&app, &oauth) - before,
        1,
        "no request on the hot path"
    );
    let shown = app
        .get(&format!(
            "/api/v1/incoming-servers/{}",
            server["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(shown["status"], "connected");
}

#[tokio::test]
async fn a_rotated_refresh_token_is_kept() {
    let app = spawn_app().await;
    // Microsoft-like: every refresh answers a new refresh token and kills the old one.
    let oauth = app
        .google_oauth_app_with(|r| r.rotate_refresh_tokens(true))
        .await;
    let (_, _, key) = connected_server(&app, &oauth, "rotate").await;
    for round in 1..=3 {
        app.clock.advance_secs(3700);
        let token = tokens::access_token(&app.core, &key).await;
        assert!(
            token.is_ok(),
            "refresh {round} used the latest refresh token: {token:?}"
        );
    }
    // A restart reads the rotated token from the store, not a stale copy.
    let app = app.restart().await;
    app.clock.advance_secs(3700);
    assert!(tokens::access_token(&app.core, &key).await.is_ok());
}

#[tokio::test]
async fn a_revoked_grant_needs_reauthorization_and_leaves_the_others_working() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let (dead_mailbox, dead_server, dead_key) = connected_server(&app, &oauth, "revoked").await;
    let (_, live_server, live_key) = connected_server(&app, &oauth, "alive").await;
    // The user revokes access (or changes the password): the provider kills every token.
    assert!(app.world().emulator.control().expire_tokens(&dead_mailbox) > 0);
    app.clock.advance_secs(55 * 60);
    assert_eq!(
        refresh_once(&app.core).await.unwrap(),
        Outcome::DidWork(1),
        "only the live one renews"
    );

    let error = tokens::access_token(&app.core, &dead_key)
        .await
        .unwrap_err()
        .into_diagnosis();
    assert_eq!(
        (error.code.as_str(), error.needs_reauthorization()),
        ("oauth_grant_revoked", true),
        "{error:?}"
    );
    assert!(error.hint.to_lowercase().contains("authoriz"), "{error:?}");
    assert!(tokens::access_token(&app.core, &live_key).await.is_ok());

    let dead = app
        .get(&format!(
            "/api/v1/incoming-servers/{}",
            dead_server["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(dead["status"], "needs_reauthorization", "{dead}");
    assert_eq!(
        dead["credential"]["last_error"]["code"], "oauth_grant_revoked",
        "{dead}"
    );
    let live = app
        .get(&format!(
            "/api/v1/incoming-servers/{}",
            live_server["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(live["status"], "connected");
    let metrics = app
        .http
        .get(format!("{}/metrics", app.address))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("mailgate_token_failures_total{cause=\"oauth_grant_revoked\"}"),
        "{metrics}"
    );
    let events = app.get("/api/v1/events").await.body;
    let raised: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "credential.needs_reauthorization")
        .collect();
    assert_eq!(raised.len(), 1, "{events}");
    assert_eq!(raised[0]["data"]["mailbox"], dead_mailbox.as_str());

    // Re-authorizing is the same flow, one click: the server is connected again.
    let (status, _) = app
        .consent(
            "incoming",
            dead_server["id"].as_str().unwrap(),
            &dead_mailbox,
            true,
        )
        .await;
    assert_eq!(status, 200);
    assert!(tokens::access_token(&app.core, &dead_key).await.is_ok());
}

#[tokio::test]
async fn an_unreachable_provider_keeps_the_current_token_and_retries_later() {
    let app = spawn_app().await;
    // A private provider: its outage affects only this test.
    let (emulator, _, server, key) = super::private_provider(&app).await;
    emulator
        .control()
        .set_oauth_outage(mailgate_emulator::Outage::status(503));
    app.clock.advance_secs(55 * 60);
    assert_eq!(refresh_once(&app.core).await.unwrap(), Outcome::Idle);
    assert!(
        tokens::access_token(&app.core, &key).await.is_ok(),
        "the current token is still handed out"
    );
    let shown = app
        .get(&format!(
            "/api/v1/incoming-servers/{}",
            server["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(
        shown["status"], "connected",
        "a transient failure is not a dead grant: {shown}"
    );
    assert_eq!(
        shown["credential"]["last_error"]["severity"], "transient",
        "{shown}"
    );
    // Back online: nothing is due during the backoff, then the retry succeeds.
    emulator
        .control()
        .set_oauth_outage(mailgate_emulator::Outage::NONE);
    assert_eq!(refresh_once(&app.core).await.unwrap(), Outcome::Idle);
    app.clock.advance_secs(31);
    assert_eq!(refresh_once(&app.core).await.unwrap(), Outcome::DidWork(1));
    assert_eq!(
        app.get(&format!(
            "/api/v1/incoming-servers/{}",
            server["id"].as_str().unwrap()
        ))
        .await
        .body["credential"]
            .get("last_error"),
        None
    );
}
