//! Logs an operator can use: no colour codes in a file or a pipe, `--log-format json` for
//! collectors, the API address on start, and no mail content or personal data at info level.

use crate::process::{Api, Served, create_token};
use mailgate_testkit::eventually;
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;

/// `serve` with stdout and stderr to files (not a terminal) and colour not turned off by the
/// environment; returns the served instance and its stdout file.
async fn serve_to_files(
    data: &std::path::Path,
    args: &[&str],
    level: &str,
    env: &[(&str, &str)],
) -> (Served, std::path::PathBuf) {
    let stdout = data.with_extension("stdout");
    let file = std::fs::File::create(&stdout).unwrap();
    let served = Served::start_command(data, |cmd| {
        cmd.args(args)
            .env_remove("NO_COLOR")
            .env("MAILGATE__LOG__LEVEL", level)
            .envs(env.iter().copied())
            .stdout(Stdio::from(file));
    })
    .await;
    (served, stdout)
}

#[tokio::test]
async fn logs_to_a_file_have_no_colour_codes_and_json_gives_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (served, stdout) = serve_to_files(&data, &[], "debug", &[]).await;
    let base = served.base.clone();
    let _ = reqwest::get(format!("{base}/api/v1/tickets"))
        .await
        .unwrap();
    let log = served.log_text();
    assert_eq!(served.stop().code(), Some(0));
    let printed = std::fs::read_to_string(&stdout).unwrap();
    assert!(!log.is_empty());
    assert!(!log.contains("\x1b["), "colour codes in a log file:\n{log}");
    assert!(!printed.contains("\x1b["), "{printed}");
    assert!(
        printed.contains(&format!("API {base}/api/v1"))
            && printed.contains(&format!("{base}/api/openapi.json")),
        "serve prints the API address and its document: {printed}"
    );

    let (served, _) = serve_to_files(&data, &["--log-format", "json"], "debug", &[]).await;
    let _ = reqwest::get(format!("{}/api/v1/tickets", served.base))
        .await
        .unwrap();
    let log = served.log_text();
    assert_eq!(served.stop().code(), Some(0));
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 2, "{log}");
    for line in lines {
        let parsed: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
        assert!(parsed.is_object() && parsed["level"].is_string(), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn info_logs_name_ids_not_the_subjects_or_addresses_of_mail() {
    mailgate_testkit::init();
    let world = mailgate_testkit::world();
    let (alice, password) = mailgate_testkit::mailstack::ALICE;
    let mark = uuid::Uuid::new_v4().simple().to_string();
    let sender = format!("zed-{mark}@customer.example");
    let subject = format!("Private matter {mark}");
    world
        .deliver(
            &sender,
            alice,
            &format!(
                "From: Zed Privacy <{sender}>\r\nTo: {alice}\r\nSubject: {subject}\r\nMessage-ID: <{}@customer.example>\r\n\r\nMy account number is 12345.\r\n",
                uuid::Uuid::new_v4()
            ),
        )
        .await;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca = world.stack.ca_pem.display().to_string();
    let (served, _) = serve_to_files(
        &data,
        &[],
        "info",
        &[("MAILGATE__TLS__EXTRA_CA_FILE", ca.as_str())],
    )
    .await;
    let api = Api {
        base: served.base.clone(),
        token: create_token(&data),
        http: reqwest::Client::new(),
    };
    let (status, created) = api
        .post(
            "/incoming-servers",
            json!({"name": "Alice", "email": alice, "protocol": "imap", "host": "127.0.0.1",
                   "port": world.stack.imaps_port, "security": "ssl", "auth": "basic",
                   "password": password, "after_import": "leave", "import_from": "all"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");

    // The ticket's event, found through the API (which shows the data).
    let mut after = 0;
    let event = eventually(
        "the message imported",
        Duration::from_secs(60),
        async || {
            let (_, events) = api.get(&format!("/events?after={after}&limit=1000")).await;
            let events = events.as_array().unwrap();
            after = events.last().map_or(after, |e| e["id"].as_i64().unwrap());
            events
                .iter()
                .find(|e| e["kind"] == "ticket.created" && e["data"].to_string().contains(&mark))
                .cloned()
        },
    )
    .await;
    let log = served.log_text();
    assert_eq!(served.stop().code(), Some(0));
    assert!(
        log.contains("ticket.created"),
        "the event is logged:\n{log}"
    );
    let id = event["subject_id"].as_str().unwrap();
    assert!(
        log.contains(id),
        "the log names the event by its id {id}:\n{log}"
    );
    for private in [mark.as_str(), sender.as_str(), "Zed Privacy"] {
        assert!(
            !log.contains(private),
            "`{private}` in the info log:\n{log}"
        );
    }
}
