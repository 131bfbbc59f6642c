use mailgate_core::receive::{connect, error, imap, pipeline, pop3, supervisor};
use mailgate_core::workers::step::Outcome;
use mailgate_store::testing::TestQueries as _;
use mailgate_testkit::eventually;
use mailgate_testkit::{TestApp, spawn_app_on_world as spawn_app};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Waits (bounded) until the store holds `count` ticket messages for this test's mailboxes.
pub(super) async fn until_tickets(app: &TestApp, count: usize, within: Duration) -> Vec<Value> {
    eventually(&format!("{count} ticket messages"), within, async || {
        let messages = ticket_messages(app).await;
        (messages.len() >= count).then_some(messages)
    })
    .await
}

/// The ticket messages the store holds now for this test's mailboxes.
pub(super) async fn ticket_messages(app: &TestApp) -> Vec<Value> {
    let tickets = app.tickets().await;
    let mut messages = Vec::new();
    for t in &tickets {
        let detail = app
            .get(&format!("/api/v1/tickets/{}", t["number"]))
            .await
            .body;
        messages.extend(detail["messages"].as_array().cloned().unwrap_or_default());
    }
    messages
}

pub(super) fn mail(to: &str, subject: &str) -> String {
    format!(
        "From: Customer <customer@example.com>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@customer.example>\r\n\r\nBody of {subject}.\r\n",
        uuid::Uuid::new_v4()
    )
}

/// One IMAP session of the server's mailbox in a task, and the switch that stops it.
pub(super) async fn imap_session(
    app: &TestApp,
    server_id: &str,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<Result<connect::Ended, error::WatchError>>,
) {
    let mb = connect::load_mailbox(&app.core, server_id.parse().unwrap())
        .await
        .unwrap();
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let core = app.core.clone();
    let session = tokio::spawn(async move { imap::imap_session(&core, &mb, &mut stopped).await });
    (stop, session)
}

/// An OAuth (emulator) server for a fresh mailbox of the stack, connected by consent.
pub(super) async fn oauth_server(app: &TestApp, body: Value) -> (String, Value) {
    let oauth = app.google_oauth_app().await;
    let mailbox = app.world().fresh_user("watch");
    let mut server = json!({"name": format!("Watch {mailbox}"), "email": mailbox, "host": "127.0.0.1", "auth": "oauth", "oauth_app_id": oauth["id"], "protocol": "imap", "import_from": "all", "port": app.world().stack.imaps_port, "security": "ssl"});
    for (k, v) in body.as_object().unwrap() {
        server[k] = v.clone();
    }
    let server = app.authorized_server("incoming", server, &mailbox).await;
    (mailbox, server)
}

#[tokio::test]
async fn imap_imports_what_is_there_then_idle_brings_new_mail_in() {
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(&app, json!({})).await;
    let world = app.world();
    world
        .deliver("customer@example.com", &mailbox, &mail(&mailbox, "Before"))
        .await;
    world.read_inbox(&mailbox, 1, Duration::from_secs(10)).await;

    let watching = app.watch(&server["id"]);
    assert_eq!(
        until_tickets(&app, 1, Duration::from_secs(15)).await.len(),
        1,
        "existing mail imported"
    );

    // The watcher is now in IDLE: a new message arrives without any polling (the POP3 poll
    // interval above is an hour, and IMAP does not poll).
    let sent = Instant::now();
    world
        .deliver("customer@example.com", &mailbox, &mail(&mailbox, "After"))
        .await;
    let messages = until_tickets(&app, 2, Duration::from_secs(15)).await;
    assert_eq!(messages.len(), 2, "IDLE delivered the new message");
    eprintln!("SMTP acceptance to ticket over IDLE: {:?}", sent.elapsed());
    watching.stop().await;

    // Default after-import action is mark_seen: the mail stays in the mailbox.
    assert_eq!(
        world
            .read_inbox(&mailbox, 2, Duration::from_secs(1))
            .await
            .len(),
        2
    );
    let events = app.get("/api/v1/events").await.body;
    assert_eq!(
        events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "ticket.created")
            .count(),
        2
    );
}

#[tokio::test]
async fn pop3_imports_once_and_deletes_after_the_commit() {
    let app = spawn_app().await;
    let stack = &app.world().stack;
    let (mailbox, server) = oauth_server(
        &app,
        json!({"protocol": "pop3", "port": stack.pop3s_port, "after_import": "delete"}),
    )
    .await;
    for n in 1..=3 {
        app.world()
            .deliver(
                "customer@example.com",
                &mailbox,
                &mail(&mailbox, &format!("POP {n}")),
            )
            .await;
    }
    app.world()
        .read_inbox(&mailbox, 3, Duration::from_secs(10))
        .await;
    let mb = connect::load_mailbox(&app.core, server["id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    assert_eq!(
        pop3::pop3_session(&app.core, &mb, &stopped).await.unwrap(),
        connect::Ended::Again
    );
    assert_eq!(app.core.store.count_messages().await.unwrap(), 3);
    assert_eq!(
        app.world()
            .read_inbox(&mailbox, 0, Duration::ZERO)
            .await
            .len(),
        0,
        "deleted after import"
    );
    pop3::pop3_session(&app.core, &mb, &stopped).await.unwrap();
    assert_eq!(
        app.core.store.count_messages().await.unwrap(),
        3,
        "nothing imported twice"
    );
}

#[tokio::test]
async fn a_password_mailbox_moves_imported_mail_to_a_folder() {
    let app = spawn_app().await;
    let (alice, password) = mailgate_testkit::mailstack::ALICE;
    let stack = &app.world().stack;
    let server = app
        .post(
            "/api/v1/incoming-servers",
            json!({"name": "Alice", "email": alice, "protocol": "imap", "import_from": "all", "host": "127.0.0.1", "port": stack.imap_port, "security": "starttls",
                   "auth": "basic", "password": password, "after_import": "move", "move_to": "Archive"}),
        )
        .await;
    assert_eq!(server.status, 201, "{}", server.body);
    let subject = format!("Moved {}", uuid::Uuid::new_v4());
    app.world()
        .deliver("customer@example.com", alice, &mail(alice, &subject))
        .await;
    app.world()
        .read_inbox(alice, 1, Duration::from_secs(10))
        .await;
    let (stop, session) = imap_session(&app, server.body["id"].as_str().unwrap()).await;
    let messages = until_tickets(&app, 1, Duration::from_secs(15)).await;
    assert!(
        messages.iter().any(|m| m["subject"] == subject.as_str()),
        "{messages:?}"
    );
    stop.send(true).unwrap();
    assert_eq!(session.await.unwrap().unwrap(), connect::Ended::Stopped);
    let inbox = app.world().read_inbox(alice, 0, Duration::ZERO).await;
    assert!(
        !inbox.iter().any(|m| m.contains(&subject)),
        "moved out of INBOX"
    );
}

#[tokio::test]
async fn a_revoked_mailbox_raises_an_event_and_the_others_keep_working() {
    let app = spawn_app().await;
    let (dead, dead_server) = oauth_server(&app, json!({})).await;
    let (alive, alive_server) = oauth_server(&app, json!({})).await;
    app.world().emulator.control().expire_tokens(&dead);
    // Past the access token's life: the dead mailbox's next session needs a refresh, which fails.
    app.clock.advance_secs(3700);

    // The supervisor's step starts both watchers; no loop is needed for that.
    let mut sup = supervisor::Supervisor::new(app.core.clone(), Duration::from_secs(3600));
    assert_eq!(
        sup.run_once().await.unwrap(),
        Outcome::DidWork(2),
        "both watchers started"
    );
    app.world()
        .deliver(
            "customer@example.com",
            &alive,
            &mail(&alive, "Still flowing"),
        )
        .await;
    app.world()
        .deliver("customer@example.com", &dead, &mail(&dead, "Lost"))
        .await;
    let messages = until_tickets(&app, 1, Duration::from_secs(15)).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["subject"], "Still flowing");

    let event = eventually(
        "a server.auth_failed event",
        Duration::from_secs(10),
        async || {
            let events = app.get("/api/v1/events").await.body;
            events
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["kind"] == "server.auth_failed")
                .cloned()
        },
    )
    .await;
    assert_eq!(event["subject_id"], dead_server["id"]);
    assert_eq!(
        event["data"]["diagnosis"]["code"], "oauth_grant_revoked",
        "{event}"
    );
    let shown = app
        .get(&format!(
            "/api/v1/incoming-servers/{}",
            dead_server["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(shown["status"], "needs_reauthorization");
    let shown = app
        .get(&format!(
            "/api/v1/incoming-servers/{}",
            alive_server["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(shown["status"], "connected");
    tokio::time::timeout(Duration::from_secs(15), sup.stop_all())
        .await
        .expect("the supervisor stops its watchers");
    let _ = pipeline::TAG_PREFIX;
}

#[tokio::test]
async fn test_connection_reports_each_step_and_the_fix_for_the_failing_one() {
    let app = spawn_app().await;
    let (_, server) = oauth_server(&app, json!({})).await;
    let report = app
        .post(
            &format!(
                "/api/v1/incoming-servers/{}/test",
                server["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.body["ok"], true, "{}", report.body);
    let steps: Vec<&str> = report.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["credential", "connect", "tls", "authenticate", "select"]
    );
    assert!(
        report.body["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["ok"] == true && s["millis"].is_u64()),
        "{}",
        report.body
    );

    // Nothing listens on that port.
    let closed = app
        .post("/api/v1/incoming-servers", json!({"name": "Closed", "email": "x@example.test", "protocol": "pop3", "host": "127.0.0.1", "port": 1, "security": "ssl", "auth": "basic", "password": "p"}))
        .await;
    let report = app
        .post(
            &format!(
                "/api/v1/incoming-servers/{}/test",
                closed.body["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await
        .body;
    let last = report["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            report["ok"].as_bool(),
            last["step"].as_str(),
            last["diagnosis"]["code"].as_str()
        ),
        (Some(false), Some("connect"), Some("connection_refused")),
        "{report}"
    );

    // A wrong password.
    let (alice, _) = mailgate_testkit::mailstack::ALICE;
    let wrong = app
        .post("/api/v1/incoming-servers", json!({"name": "Wrong", "email": alice, "protocol": "imap", "host": "127.0.0.1", "port": app.world().stack.imaps_port, "security": "ssl", "auth": "basic", "password": "not-her-password"}))
        .await;
    let report = app
        .post(
            &format!(
                "/api/v1/incoming-servers/{}/test",
                wrong.body["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await
        .body;
    let last = report["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["step"].as_str(), last["ok"].as_bool()),
        (Some("authenticate"), Some(false)),
        "{report}"
    );
    assert!(
        last["diagnosis"]["hint"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
}

/// Dovecot restarts under a watcher in IDLE: it reconnects (with backoff) and the next message
/// still becomes a ticket. A private stack: a restart would disturb the tests
/// sharing the world's.
#[tokio::test]
async fn a_dovecot_restart_under_idle_is_survived() {
    let emulator = mailgate_emulator::Emulator::start(mailgate_emulator::EmulatorConfig::default())
        .await
        .unwrap();
    let url = emulator.base_url().to_owned();
    let stack = tokio::task::spawn_blocking({
        let url = url.clone();
        move || mailgate_testkit::mailstack::MailStack::start(&url)
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{e:#}"));
    let app = mailgate_testkit::spawn_app_with(
        mailgate_testkit::TestConfig::default().set("tls.extra_ca_file", stack.ca_pem.display()),
    )
    .await;
    let (alice, password) = mailgate_testkit::mailstack::ALICE;
    let server = app
        .post("/api/v1/incoming-servers", json!({"name": "Alice", "email": alice, "protocol": "imap", "import_from": "all", "host": "127.0.0.1", "port": stack.imaps_port, "security": "ssl", "auth": "basic", "password": password, "after_import": "leave"}))
        .await;
    let watching = app.watch(&server.body["id"]);
    mailgate_testkit::world::deliver_to(
        &stack,
        "customer@example.com",
        alice,
        &mail(alice, "Before the restart"),
    )
    .await;
    assert_eq!(
        until_tickets(&app, 1, Duration::from_secs(15)).await.len(),
        1
    );

    let stack = tokio::task::spawn_blocking(move || {
        stack.restart_dovecot(&url).unwrap();
        stack
    })
    .await
    .unwrap();
    mailgate_testkit::world::deliver_to(
        &stack,
        "customer@example.com",
        alice,
        &mail(alice, "After the restart"),
    )
    .await;
    let messages = until_tickets(&app, 2, Duration::from_secs(40)).await;
    assert_eq!(messages.len(), 2, "the watcher came back after the restart");
    watching.stop().await;
    tokio::task::spawn_blocking(move || stack.stop())
        .await
        .unwrap()
        .unwrap();
}

/// An app on the shared stack that imports messages of at most `bytes`.
pub(super) async fn app_taking_at_most(bytes: usize) -> TestApp {
    let ca = mailgate_testkit::world().stack.ca_pem.display().to_string();
    mailgate_testkit::spawn_app_with(
        mailgate_testkit::TestConfig::default()
            .set("tls.extra_ca_file", ca)
            .set("receive.max_message_bytes", bytes),
    )
    .await
}

/// A message of about 20 KB to `mailbox`, subject `Huge`.
pub(super) fn huge(mailbox: &str) -> String {
    format!(
        "From: customer@example.com\r\nTo: {mailbox}\r\nSubject: Huge\r\n\r\n{}\r\n",
        "x".repeat(20_000)
    )
}

#[tokio::test]
async fn a_message_over_the_size_limit_is_skipped_and_the_mailbox_goes_on() {
    let app = app_taking_at_most(4096).await;
    let (mailbox, server) = oauth_server(&app, json!({})).await;
    let world = app.world();
    world
        .deliver(
            "customer@example.com",
            &mailbox,
            &mail(&mailbox, "Small one"),
        )
        .await;
    let big = huge(&mailbox);
    world.deliver("customer@example.com", &mailbox, &big).await;
    world
        .deliver(
            "customer@example.com",
            &mailbox,
            &mail(&mailbox, "Small two"),
        )
        .await;
    world.read_inbox(&mailbox, 3, Duration::from_secs(10)).await;

    let (stop, session) = imap_session(&app, server["id"].as_str().unwrap()).await;
    let messages = until_tickets(&app, 2, Duration::from_secs(15)).await;
    let subjects: Vec<&str> = messages
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(
        subjects.contains(&"Small one") && subjects.contains(&"Small two"),
        "{subjects:?}"
    );
    stop.send(true).unwrap();
    assert_eq!(
        session.await.unwrap().unwrap(),
        connect::Ended::Stopped,
        "the session did not fail on the big one"
    );
    let events = app.get("/api/v1/events").await.body;
    let skipped = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "message.ignored")
        .cloned()
        .expect("an event for the big one");
    assert!(
        skipped["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("receive.max_message_bytes"),
        "{skipped}"
    );
}

/// The emulator's client ID of an OAuth-authenticated server.
async fn client_id_of(app: &TestApp, server: &Value) -> String {
    let oauth = app
        .get(&format!(
            "/api/v1/oauth-apps/{}",
            server["oauth_app_id"].as_str().unwrap()
        ))
        .await
        .body;
    oauth["client_id"].as_str().unwrap().to_owned()
}

fn token_requests(app: &TestApp, client_id: &str) -> u64 {
    let counters = app.world().emulator.control().counters();
    counters
        .token_requests_by_client
        .get(client_id)
        .copied()
        .unwrap_or(0)
}

/// Four minutes of token left: inside the margin in which a session reconnects.
/// (The emulator's access tokens live 3599 s.)
const INTO_THE_MARGIN_SECS: i64 = 3599 - 240;

#[tokio::test]
async fn a_session_near_its_tokens_end_reconnects_only_with_a_new_token() {
    let app = spawn_app().await;
    let (_, server) = oauth_server(&app, json!({})).await;
    let client_id = client_id_of(&app, &server).await;
    let before = token_requests(&app, &client_id);
    // The background refresher (off in tests) is late: the cached token, still good for
    // minutes, is inside the reconnect margin.
    app.clock.advance_secs(INTO_THE_MARGIN_SECS);

    let (_stop, session) = imap_session(&app, server["id"].as_str().unwrap()).await;
    let ended = tokio::time::timeout(Duration::from_secs(30), session)
        .await
        .expect("the session ends to change tokens")
        .unwrap()
        .unwrap();
    assert_eq!(ended, connect::Ended::Again);
    // It renewed the token before ending, so the next session does not get the same one back.
    assert_eq!(token_requests(&app, &client_id), before + 1);
}

#[tokio::test]
async fn a_session_near_its_tokens_end_goes_on_while_no_new_token_can_be_had() {
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(&app, json!({})).await;
    app.clock.advance_secs(INTO_THE_MARGIN_SECS);
    // The token endpoint is down for this app's client: every renewal fails for now.
    let client_id = client_id_of(&app, &server).await;
    app.world()
        .emulator
        .control()
        .set_client_token_outage(&client_id, mailgate_emulator::Outage::status(503));
    let world = app.world();
    world
        .deliver("customer@example.com", &mailbox, &mail(&mailbox, "Before"))
        .await;
    world.read_inbox(&mailbox, 1, Duration::from_secs(10)).await;

    let (stop, session) = imap_session(&app, server["id"].as_str().unwrap()).await;
    assert_eq!(
        until_tickets(&app, 1, Duration::from_secs(15)).await.len(),
        1
    );
    // Reconnecting would only bring the same token back: the session stays, and IDLE brings
    // the next message in.
    world
        .deliver("customer@example.com", &mailbox, &mail(&mailbox, "After"))
        .await;
    assert_eq!(
        until_tickets(&app, 2, Duration::from_secs(15)).await.len(),
        2,
        "the same session imported the next message"
    );
    assert!(!session.is_finished(), "{:?}", session.await);
    stop.send(true).unwrap();
    assert_eq!(session.await.unwrap().unwrap(), connect::Ended::Stopped);
}

#[tokio::test]
async fn an_access_token_the_server_refuses_is_replaced_once() {
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(&app, json!({})).await;
    let world = app.world();
    world
        .deliver(
            "customer@example.com",
            &mailbox,
            &mail(&mailbox, "Refused token"),
        )
        .await;
    world.read_inbox(&mailbox, 1, Duration::from_secs(10)).await;
    // The provider no longer accepts the cached access token (mailgate's clock still gives it
    // an hour); the refresh token is still good.
    assert!(world.emulator.control().expire_access_tokens(&mailbox) > 0);

    let watching = app.watch(&server["id"]);
    assert_eq!(
        until_tickets(&app, 1, Duration::from_secs(15)).await.len(),
        1,
        "imported with a new token"
    );
    watching.stop().await;
    let events = app.get("/api/v1/events").await.body;
    assert!(
        !events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "server.auth_failed"),
        "{events}"
    );
}

#[tokio::test]
async fn a_pop3_login_refusing_the_access_token_is_retried_with_a_new_one() {
    let app = spawn_app().await;
    let stack = &app.world().stack;
    let (mailbox, server) =
        oauth_server(&app, json!({"protocol": "pop3", "port": stack.pop3s_port})).await;
    app.world()
        .deliver(
            "customer@example.com",
            &mailbox,
            &mail(&mailbox, "POP refused token"),
        )
        .await;
    app.world()
        .read_inbox(&mailbox, 1, Duration::from_secs(10))
        .await;
    assert!(
        app.world()
            .emulator
            .control()
            .expire_access_tokens(&mailbox)
            > 0
    );
    let mb = connect::load_mailbox(&app.core, server["id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let ended = pop3::pop3_session(&app.core, &mb, &stopped).await;
    assert_eq!(ended.unwrap(), connect::Ended::Again);
    assert_eq!(app.core.store.count_messages().await.unwrap(), 1);
}
