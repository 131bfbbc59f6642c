//! Health that tells the truth: a full disk answers `507 storage_full`, makes `/healthz` and
//! `/readyz` 503 with the reason and records one `storage.full` event; a background worker that
//! dies makes them 503 too.

use mailgate_testkit::eventually;
use mailgate_testkit::{TestConfig, spawn_app_with};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A small tmpfs mounted for one test, unmounted when dropped. Mounting needs root (the tests
/// run as root, see the README); a test that cannot mount fails.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().expect("a mount point");
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "cannot mount a tmpfs at {} ({status}): the full-disk tests run as root",
            dir.path().display()
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Writes a file until the file system has no room left.
fn fill(path: &Path) -> PathBuf {
    use std::io::Write;
    let filler = path.join("filler");
    let mut file = std::fs::File::create(&filler).expect("filler file");
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    // What is left is smaller than a chunk: take it byte by byte.
    while file.write_all(&[0u8]).is_ok() {}
    filler
}

fn codes(body: &Value) -> Vec<String> {
    body["reasons"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|r| r["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn get(app: &mailgate_testkit::TestApp, path: &str) -> (u16, Value) {
    let res = app
        .http
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("health answered");
    let status = res.status().as_u16();
    (status, res.json().await.expect("a JSON health report"))
}

#[tokio::test]
async fn a_full_disk_answers_507_storage_full_and_healthz_503_until_space_is_freed() {
    let disk = Tmpfs::mount("24m");
    let data_dir = disk.path().join("data");
    let app =
        spawn_app_with(TestConfig::default().set("storage.data_dir", data_dir.display())).await;
    assert!(
        data_dir.join("mailgate.db").exists(),
        "the database is on the tmpfs"
    );
    let created = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Primary", "email": "robot@example.test", "protocol": "smtp", "host": "127.0.0.1",
                   "port": 2525, "security": "none", "auth": "none", "primary": true}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(get(&app, "/healthz").await.0, 200);

    let filler = fill(disk.path());
    // Larger than the WAL written so far: the write needs room it cannot get.
    let message =
        json!({"to": ["ann@example.com"], "subject": "Big", "text": "x".repeat(3_000_000)});
    let refused = app.post("/api/v1/messages", message.clone()).await;
    assert_eq!(refused.status, 507, "{}", refused.body);
    assert_eq!(refused.body["error"], "storage_full", "{}", refused.body);
    assert!(
        refused.body["hint"]
            .as_str()
            .unwrap()
            .contains("storage.data_dir")
    );

    for path in ["/healthz", "/readyz"] {
        let (status, body) = get(&app, path).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body["status"], "unavailable");
        assert_eq!(codes(&body), ["storage_full"], "{path}: {body}");
    }
    // Still full: nothing more to record.
    assert_eq!(
        app.post("/api/v1/messages", message.clone()).await.status,
        507
    );

    std::fs::remove_file(filler).expect("space freed");
    let (status, body) = get(&app, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(codes(&body), Vec::<String>::new());
    assert_eq!(app.post("/api/v1/messages", message).await.status, 202);

    let events = app.get("/api/v1/events?limit=500").await.body;
    let full: Vec<_> = events
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "storage.full")
        .collect();
    assert_eq!(full.len(), 1, "one event while the disk was full: {events}");
    drop(app);
}

/// The application on a fresh data directory, serving with its workers and `extra` until the
/// returned sender is used: its address, that sender, its task.
async fn serve_with_worker(
    dir: &Path,
    extra: mailgate_core::workers::Worker,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    mailgate_testkit::init();
    let sources = mailgate_core::config::Sources::default()
        .flag("storage.data_dir", Some(dir.display()), "test")
        .flag("server.listen", Some("127.0.0.1:0"), "test")
        .flag("log.level", Some("warn"), "test");
    let settings = mailgate_core::config::load(&sources).expect("settings");
    let app = mailgate_http::Application::build_with(
        settings,
        mailgate_http::Options {
            workers: true,
            extra_workers: vec![extra],
            ..Default::default()
        },
    )
    .await
    .expect("application");
    let address = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    (address, stop, server)
}

#[tokio::test]
async fn a_background_worker_that_dies_makes_healthz_503_with_its_name() {
    let dir = tempfile::tempdir().expect("data dir");
    // A worker that panics once told to, started with the real ones.
    let fail = Arc::new(tokio::sync::Notify::new());
    let told = fail.clone();
    let injected = mailgate_core::workers::Worker::new("injected", move |mut stop| {
        let told = told.clone();
        async move {
            tokio::select! {
                _ = told.notified() => panic!("injected failure"),
                _ = stop.wait_for(|stopped| *stopped) => {}
            }
        }
    });
    let (address, stop, server) = serve_with_worker(dir.path(), injected).await;
    let http = reqwest::Client::new();
    let report = |path: &'static str| {
        let http = http.clone();
        let url = format!("{address}{path}");
        async move {
            let res = http.get(url).send().await.expect("answered");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.expect("JSON"))
        }
    };

    let body = eventually(
        "/readyz to answer 200",
        Duration::from_secs(10),
        async || {
            let (status, body) = report("/readyz").await;
            (status == 200).then_some(body)
        },
    )
    .await;
    let workers: Vec<_> = body["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap().to_owned(),
                w["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for name in [
        "token_refresher",
        "mailbox_supervisor",
        "outbox",
        "injected",
    ] {
        assert!(
            workers.contains(&(name.to_owned(), "running".to_owned())),
            "{body}"
        );
    }

    // The injected worker panics (it waits again once started after its pause).
    fail.notify_one();
    let body = eventually(
        "/healthz to answer 503",
        Duration::from_secs(10),
        async || {
            let (status, body) = report("/healthz").await;
            (status == 503).then_some(body)
        },
    )
    .await;
    assert_eq!(codes(&body), ["worker_stopped"], "{body}");
    let message = body["reasons"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("`injected`") && message.contains("panicked: injected failure"),
        "{message}"
    );
    assert_eq!(report("/readyz").await.0, 503);
    // After its pause it is started again (it waits for the next notification), and the
    // node is healthy again.
    let body = eventually(
        "the injected worker to be started again",
        Duration::from_secs(10),
        async || {
            let (status, body) = report("/healthz").await;
            (status == 200).then_some(body)
        },
    )
    .await;
    assert_eq!(codes(&body), Vec::<String>::new(), "{body}");

    // Both are in the API document.
    let doc: Value = http
        .get(format!("{address}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["paths"]["/readyz"]["get"].is_object(),
        "{}",
        doc["paths"]
    );
    assert!(doc["paths"]["/healthz"]["get"].is_object());

    // A shutdown is not a death.
    let _ = stop.send(());
    server.await.expect("server task").expect("server ran");
}

/// Shutdown is bounded: a worker that ignores it is aborted after the workers' grace period,
/// and the application ends.
#[tokio::test]
async fn a_worker_that_ignores_shutdown_does_not_hold_the_application() {
    let dir = tempfile::tempdir().expect("data dir");
    let stubborn =
        mailgate_core::workers::Worker::new("stubborn", |_stop| std::future::pending::<()>());
    let (address, stop, server) = serve_with_worker(dir.path(), stubborn).await;
    eventually(
        "/readyz to answer 200",
        Duration::from_secs(10),
        async || {
            let res = reqwest::get(format!("{address}/readyz")).await.ok()?;
            (res.status() == 200).then_some(())
        },
    )
    .await;

    let _ = stop.send(());
    // A generous bound: the grace period is far shorter; without it this waits forever.
    let grace = mailgate_core::workers::SHUTDOWN_GRACE;
    tokio::time::timeout(grace * 6, server)
        .await
        .expect("the application ends although a worker ignores shutdown")
        .expect("server task")
        .expect("server ran");
}
