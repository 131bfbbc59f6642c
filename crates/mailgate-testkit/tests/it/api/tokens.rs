//! Checking an admin token reads the database; it writes `last_used` at most once a minute, and
//! never for a token that does not exist.

use mailgate_testkit::spawn_app;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::test]
async fn a_token_is_checked_read_only_and_its_use_recorded_once_a_minute() {
    let app = spawn_app().await;
    let last_used = || async {
        let tokens = app.core.store.list_admin_tokens().await.unwrap();
        assert_eq!(tokens.len(), 1);
        tokens[0].last_used_at_ms
    };
    assert_eq!(last_used().await, None);
    assert_eq!(app.get("/api/v1/tickets").await.status, 200);
    let first = last_used().await.expect("the first use is recorded");

    // Another process holds the database's write lock: reads go on (WAL), writes would wait
    // for it (then fail after the busy timeout).
    let mut writer = tokio::process::Command::new("sqlite3")
        .arg(app.data_dir.join("mailgate.db"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sqlite3 (installed by scripts/install-test-deps.sh) runs");
    let stdin = writer.stdin.as_mut().unwrap();
    stdin
        .write_all(b"BEGIN IMMEDIATE;\nSELECT 'locked';\n")
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    let mut said = String::new();
    BufReader::new(writer.stdout.as_mut().unwrap())
        .read_line(&mut said)
        .await
        .unwrap();
    assert_eq!(said.trim(), "locked");

    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/tickets").await.status, 200);
    }
    for wrong in [
        "mgt_not-a-token",
        "mgt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let res = app
            .http
            .get(format!("{}/api/v1/tickets", app.address))
            .bearer_auth(wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{wrong}");
    }
    writer.kill().await.unwrap();
    assert_eq!(last_used().await, Some(first), "no write within the minute");
}
