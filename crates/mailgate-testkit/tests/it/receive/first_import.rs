//! Issue 19: connecting a mailbox full of old mail does not flood. The first connection imports
//! what `import_from` says of the mail already there (`now` by default: none of it), records
//! the rest as left (never imported later, never deleted), and reports both counts.

use super::watch::{imap_session, mail, oauth_server, ticket_messages, until_tickets};
use crate::send::events;
use mailgate_core::receive::supervisor::Supervisor;
use mailgate_core::receive::{connect, pop3};
use mailgate_core::workers::step::Outcome;
use mailgate_store::testing::TestQueries as _;
use mailgate_testkit::{TestApp, eventually, spawn_app_on_world as spawn_app};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

/// Old mail in `mailbox`'s INBOX, appended with its received date and flags.
const OLD: [(&str, &str, &str); 4] = [
    ("Old seen", "\\Seen", "01-Jan-2020 10:00:00 +0000"),
    ("Old unseen", "", "01-Jan-2020 10:00:00 +0000"),
    ("Recent seen", "\\Seen", "01-Jun-2025 10:00:00 +0000"),
    ("Recent unseen", "", "01-Jun-2025 10:00:00 +0000"),
];

async fn seed_old_mail(app: &TestApp, mailbox: &str) {
    append(app, mailbox, "INBOX", &OLD).await;
}

/// Appends `(subject, flags, received)` messages to `folder`, creating it when needed.
async fn append(app: &TestApp, mailbox: &str, folder: &str, messages: &[(&str, &str, &str)]) {
    let (mut imap, _) = app.world().open_folder(mailbox, None, "INBOX").await;
    if folder != "INBOX" {
        imap.imap("c0", &format!("CREATE {folder}")).await;
    }
    for (n, (subject, flags, date)) in messages.iter().enumerate() {
        let message = mail(mailbox, subject);
        let tag = format!("s{n}");
        imap.send(&format!(
            "{tag} APPEND {folder} ({flags}) \"{date}\" {{{}+}}",
            message.len()
        ))
        .await;
        imap.send(&message).await;
        let appended = imap.imap_reply(&tag).await;
        assert!(
            appended
                .last()
                .is_some_and(|l| l.starts_with(&format!("{tag} OK"))),
            "{appended:?}"
        );
    }
    imap.imap("s9", "LOGOUT").await;
}

/// The `mailbox.first_sync` events, waiting (bounded) for `at_least` of them.
async fn first_sync_events(app: &TestApp, at_least: usize, within: Duration) -> Vec<Value> {
    let what = format!("{at_least} mailbox.first_sync events");
    eventually(&what, within, async || {
        let found = events(app, "mailbox.first_sync").await;
        (found.len() >= at_least).then_some(found)
    })
    .await
}

fn subjects(messages: &[Value]) -> BTreeSet<String> {
    messages
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A server for a fresh mailbox holding [`OLD`], with `import_from` as given (`None`: the
/// default), and one IMAP session of it running.
async fn connect_with_old_mail(
    app: &TestApp,
    import_from: Option<&str>,
) -> (String, Value, tokio::sync::watch::Sender<bool>) {
    let (mailbox, server) = oauth_server(app, json!({"import_from": import_from})).await;
    seed_old_mail(app, &mailbox).await;
    let (stop, _session) = imap_session(app, server["id"].as_str().unwrap()).await;
    (mailbox, server, stop)
}

#[tokio::test]
async fn by_default_old_mail_is_left_and_new_mail_is_imported() {
    let app = spawn_app().await;
    let (mailbox, server, _stop) = connect_with_old_mail(&app, None).await;
    assert_eq!(server["import_from"], "now", "{server}");
    let events = first_sync_events(&app, 1, Duration::from_secs(15)).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["imported"], 0);
    assert_eq!(events[0]["data"]["left"], 4);
    assert_eq!(events[0]["subject_id"], server["id"]);
    // The event is recorded once the first pass is over: nothing was imported by it.
    assert!(ticket_messages(&app).await.is_empty());

    app.world()
        .deliver(
            "customer@example.com",
            &mailbox,
            &mail(&mailbox, "Brand new"),
        )
        .await;
    let messages = until_tickets(&app, 1, Duration::from_secs(15)).await;
    assert_eq!(
        subjects(&messages),
        BTreeSet::from(["Brand new".to_owned()])
    );
    // The old mail stays as it was: still four there, two of them unseen.
    let (mut imap, exists) = app.world().open_folder(&mailbox, None, "INBOX").await;
    assert_eq!(exists, 5);
    let unseen = imap.imap("u1", "SEARCH UNSEEN").await;
    assert_eq!(unseen[0], "* SEARCH 2 4", "{unseen:?}");
}

/// Under `import_from`, the first connection imports the old mail named `chosen` and leaves
/// the rest, with an event that counts both.
async fn imports_only(import_from: &str, chosen: [&str; 2]) {
    let app = spawn_app().await;
    let (_, server, _stop) = connect_with_old_mail(&app, Some(import_from)).await;
    assert_eq!(server["import_from"], import_from);
    let events = first_sync_events(&app, 1, Duration::from_secs(15)).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (&events[0]["data"]["imported"], &events[0]["data"]["left"]),
        (&json!(2), &json!(2))
    );
    let messages = until_tickets(&app, 2, Duration::from_secs(5)).await;
    assert_eq!(subjects(&messages), chosen.map(str::to_owned).into());
}

#[tokio::test]
async fn unseen_imports_the_unseen_old_mail_only() {
    imports_only("unseen", ["Old unseen", "Recent unseen"]).await;
}

#[tokio::test]
async fn a_day_imports_the_mail_received_since() {
    imports_only("2025-01-01", ["Recent seen", "Recent unseen"]).await;
}

#[tokio::test]
async fn all_imports_everything_there() {
    let app = spawn_app().await;
    let (_, _, _stop) = connect_with_old_mail(&app, Some("all")).await;
    let messages = until_tickets(&app, 4, Duration::from_secs(15)).await;
    assert_eq!(subjects(&messages).len(), 4, "{messages:?}");
}

#[tokio::test]
async fn pop3_with_delete_leaves_old_mail_on_the_server() {
    let app = spawn_app().await;
    let stack = &app.world().stack;
    let (mailbox, server) = oauth_server(
        &app,
        json!({"protocol": "pop3", "port": stack.pop3s_port, "after_import": "delete", "import_from": null}),
    )
    .await;
    assert_eq!(server["import_from"], "now");
    for subject in ["Old one", "Old two"] {
        app.world()
            .deliver("customer@example.com", &mailbox, &mail(&mailbox, subject))
            .await;
    }
    app.world()
        .read_inbox(&mailbox, 2, Duration::from_secs(10))
        .await;
    let mb = connect::load_mailbox(&app.core, server["id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    pop3::pop3_session(&app.core, &mb, &stopped).await.unwrap();
    assert_eq!(app.core.store.count_messages().await.unwrap(), 0);
    let events = first_sync_events(&app, 1, Duration::ZERO).await;
    assert_eq!(
        (&events[0]["data"]["imported"], &events[0]["data"]["left"]),
        (&json!(0), &json!(2))
    );

    app.world()
        .deliver("customer@example.com", &mailbox, &mail(&mailbox, "New one"))
        .await;
    app.world()
        .read_inbox(&mailbox, 3, Duration::from_secs(10))
        .await;
    pop3::pop3_session(&app.core, &mb, &stopped).await.unwrap();
    pop3::pop3_session(&app.core, &mb, &stopped).await.unwrap();
    assert_eq!(
        app.core.store.count_messages().await.unwrap(),
        1,
        "the new one only"
    );
    let left = app.world().read_inbox(&mailbox, 0, Duration::ZERO).await;
    assert_eq!(left.len(), 2, "the old mail stays, the new one is deleted");
    assert!(left.iter().all(|m| m.contains("Subject: Old")));
    assert_eq!(first_sync_events(&app, 1, Duration::ZERO).await.len(), 1);
}

#[tokio::test]
async fn import_from_is_checked_with_its_field() {
    let app = spawn_app().await;
    let body = json!({"name": "Pop", "email": "pop@example.test", "protocol": "pop3", "host": "127.0.0.1",
                      "auth": "basic", "password": "p", "import_from": "unseen"});
    let answer = app.post("/api/v1/incoming-servers", body).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["field"], "import_from", "{}", answer.body);
    let body = json!({"name": "Imap", "email": "imap@example.test", "protocol": "imap", "host": "127.0.0.1",
                      "auth": "basic", "password": "p", "import_from": "last week"});
    let answer = app.post("/api/v1/incoming-servers", body).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body.to_string().contains("2026-01-31"),
        "{}",
        answer.body
    );
}

/// A folder set later (or renumbered) is not read from scratch under `now`: its unseen mail is
/// read, the rest left; going back to a folder read before imports none of what was left there.
#[tokio::test]
async fn another_folder_reads_its_unseen_mail_and_left_mail_stays_left() {
    let app = spawn_app().await;
    // The supervisor's step follows each change (the loop around it is tested in start.rs).
    let mut supervisor = Supervisor::new(app.core.clone(), Duration::from_secs(3600));
    let mut follow = async |change: &str| {
        let outcome = supervisor.run_once().await.unwrap();
        assert!(
            matches!(outcome, Outcome::DidWork(_)),
            "{change}: {outcome:?}"
        );
    };
    let (mailbox, server) =
        oauth_server(&app, json!({"import_from": null, "enabled": false})).await;
    seed_old_mail(&app, &mailbox).await;
    let other = [
        ("Other seen", "\\Seen", "01-Jan-2020 10:00:00 +0000"),
        ("Other unseen", "", "01-Jan-2020 10:00:00 +0000"),
    ];
    append(&app, &mailbox, "Other", &other).await;
    let path = format!(
        "/api/v1/incoming-servers/{}",
        server["id"].as_str().unwrap()
    );
    let counts = |e: &Value| (e["data"]["imported"].clone(), e["data"]["left"].clone());

    assert_eq!(app.patch(&path, json!({"enabled": true})).await.status, 200);
    follow("enabled").await;
    let events = first_sync_events(&app, 1, Duration::from_secs(15)).await;
    assert_eq!(counts(&events[0]), (json!(0), json!(4)));

    assert_eq!(
        app.patch(&path, json!({"folder": "Other"})).await.status,
        200
    );
    follow("folder Other").await;
    let events = first_sync_events(&app, 2, Duration::from_secs(15)).await;
    assert_eq!(events.len(), 2, "{events:?}");
    let other_folder = events.iter().find(|e| counts(e) != counts(&events[0]));
    assert_eq!(
        other_folder.map(counts),
        Some((json!(1), json!(1))),
        "{events:?}"
    );
    let messages = until_tickets(&app, 1, Duration::from_secs(5)).await;
    assert_eq!(
        subjects(&messages),
        BTreeSet::from(["Other unseen".to_owned()])
    );

    assert_eq!(
        app.patch(&path, json!({"folder": "INBOX"})).await.status,
        200
    );
    follow("folder INBOX").await;
    first_sync_events(&app, 3, Duration::from_secs(15)).await;
    app.world()
        .deliver(
            "customer@example.com",
            &mailbox,
            &mail(&mailbox, "Back home"),
        )
        .await;
    let messages = until_tickets(&app, 2, Duration::from_secs(15)).await;
    assert_eq!(
        subjects(&messages),
        BTreeSet::from(["Other unseen".to_owned(), "Back home".to_owned()]),
        "the unseen mail left in INBOX stays left"
    );
    supervisor.stop_all().await;
}
