use crate::process::run;
use std::io::Write;

#[test]
fn config_example_prints_the_shipped_file_and_it_checks_clean() {
    let out = run(&["config", "example"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[server]") && text.contains("listen = \"127.0.0.1:8025\""));
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    let out = run(&["config", "check", "--config", file.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("redirect URI:  http://127.0.0.1:8025/oauth/callback")
    );
}

#[test]
fn config_check_lists_every_problem_with_its_key_and_exits_2() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"[server]\nlisten = \"localhost\"\nbase_url = \"http://mail.example.com\"\n[database]\nurl = \"mysql://x\"\nmax_conections = 5\n").unwrap();
    let out = run(&["config", "check", "--config", file.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    for key in [
        "server.listen",
        "server.base_url",
        "database.url",
        "database.max_conections",
    ] {
        assert!(
            stderr.contains(&format!("  - {key} (from {}", file.path().display())),
            "{key} missing in:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("known keys in [database]: database.url, database.max_connections"),
        "{stderr}"
    );
}

#[test]
fn a_missing_config_file_is_named() {
    let out = run(&["config", "check", "--config", "/nonexistent/mailgate.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/mailgate.toml"));
}

#[test]
fn doctor_with_nothing_configured_says_so_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["doctor", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no servers to check"));
    let out = run(&[
        "doctor",
        "--json",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report, serde_json::json!({"ok": true, "checks": []}));
}
