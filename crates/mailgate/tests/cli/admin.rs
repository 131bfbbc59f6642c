//! `mailgate admin token`: a token is created in the data directory the running server uses
//! (the same config file), never in a new one made by accident; tokens can be listed and
//! revoked.

use crate::process::{Served, mailgate};
use std::path::Path;
use std::process::{Output, Stdio};

/// `mailgate ARGS` run from directory `cwd`, with extra environment variables.
fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    mailgate()
        .current_dir(cwd)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The status of `GET /api/v1/oauth-apps` with `token`.
async fn api_status(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/oauth-apps"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn token_create_follows_the_config_file_and_never_makes_a_data_directory_by_accident() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = Served::start(&data).await;
    let config = dir.path().join("mailgate.toml");
    std::fs::write(
        &config,
        format!("[storage]\ndata_dir = \"{}\"\n", data.display()),
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();

    // From another directory, without the server's configuration: refused, nothing created.
    let refused = run_in(elsewhere.path(), &["admin", "token", "create"], &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("does not exist")
            && stderr.contains("--config")
            && stderr.contains("--init"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty());
    assert!(!elsewhere.path().join("mailgate-data").exists());

    // With --config, or MAILGATE_CONFIG: the server's data directory, said on stderr.
    let config_arg = config.to_str().unwrap();
    for (args, env) in [
        (
            vec!["admin", "token", "create", "--config", config_arg],
            vec![],
        ),
        (
            vec!["admin", "token", "create"],
            vec![("MAILGATE_CONFIG", config_arg)],
        ),
    ] {
        let out = run_in(elsewhere.path(), &args, &env);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(&format!("data directory {}", data.display())),
            "{}",
            text(&out.stderr)
        );
        let token = text(&out.stdout).trim().to_owned();
        assert_eq!(
            api_status(&served.base, &token).await,
            200,
            "the server knows the token"
        );
    }

    // --init creates a new one on purpose.
    let out = run_in(
        elsewhere.path(),
        &["admin", "token", "create", "--init"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(elsewhere.path().join("mailgate-data").is_dir());
}

#[tokio::test]
async fn tokens_are_listed_and_a_revoked_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = Served::start(&data).await;
    let data_arg = data.to_str().unwrap();
    let create = |name: &str| {
        let out = run_in(
            dir.path(),
            &[
                "admin",
                "token",
                "create",
                "--data-dir",
                data_arg,
                "--name",
                name,
            ],
            &[],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let id = text(&out.stderr)
            .split_whitespace()
            .skip_while(|w| *w != "token")
            .nth(1)
            .unwrap()
            .to_owned();
        (id, text(&out.stdout).trim().to_owned())
    };
    let (ci_id, ci_token) = create("ci");
    let (_, ops_token) = create("ops");

    let list = run_in(
        dir.path(),
        &["admin", "token", "list", "--data-dir", data_arg],
        &[],
    );
    assert!(list.status.success(), "{}", text(&list.stderr));
    let listed = text(&list.stdout);
    assert!(
        listed.contains(&ci_id) && listed.contains("ci") && listed.contains("ops"),
        "{listed}"
    );
    assert!(
        !listed.contains(&ci_token),
        "a token's text is never shown again"
    );

    assert_eq!(api_status(&served.base, &ci_token).await, 200);
    let revoke = run_in(
        dir.path(),
        &["admin", "token", "revoke", "--data-dir", data_arg, &ci_id],
        &[],
    );
    assert!(revoke.status.success(), "{}", text(&revoke.stderr));
    assert_eq!(api_status(&served.base, &ci_token).await, 401, "revoked");
    assert_eq!(
        api_status(&served.base, &ops_token).await,
        200,
        "the other still works"
    );
    let listed = text(
        &run_in(
            dir.path(),
            &["admin", "token", "list", "--data-dir", data_arg],
            &[],
        )
        .stdout,
    );
    assert!(!listed.contains(&ci_id), "{listed}");

    let unknown = run_in(
        dir.path(),
        &["admin", "token", "revoke", "--data-dir", data_arg, &ci_id],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("admin token list"),
        "{}",
        text(&unknown.stderr)
    );
}
