//! Running the real binary: a served instance that is stopped with SIGTERM when dropped.

use mailgate_testkit::eventually;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn mailgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailgate"));
    // The tests' own environment must not configure the binary under test.
    for (key, _) in std::env::vars() {
        if key.starts_with("MAILGATE") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

pub fn run(args: &[&str]) -> Output {
    mailgate().args(args).stdin(Stdio::null()).output().unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Served {
    pub child: Child,
    pub base: String,
    pub log: std::path::PathBuf,
}

impl Served {
    /// `mailgate serve --data-dir DIR --listen 127.0.0.1:PORT`, ready once /healthz answers.
    pub async fn start(data_dir: &Path) -> Served {
        Self::start_with(data_dir, &[]).await
    }

    /// As [`Served::start`], with extra environment variables.
    pub async fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Served {
        Self::start_command(data_dir, |cmd| {
            cmd.envs(env.iter().copied()).stdout(Stdio::null());
        })
        .await
    }

    /// As [`Served::start`], with the command changed by `change` (arguments, environment,
    /// stdout) before it runs; stderr goes to [`Served::log`].
    pub async fn start_command(data_dir: &Path, change: impl FnOnce(&mut Command)) -> Served {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let log = data_dir.with_extension(format!("{port}.log"));
        let mut cmd = mailgate();
        cmd.args([
            "serve",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        // Debug logs too must be free of secrets.
        .env("MAILGATE__LOG__LEVEL", "debug")
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
        change(&mut cmd);
        let child = cmd.spawn().unwrap();
        let served = Served {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        // Its log is printed if this fails (see `Drop`).
        eventually(
            "mailgate serve healthy",
            Duration::from_secs(20),
            async || {
                let r = reqwest::get(format!("{}/healthz", served.base)).await;
                r.is_ok_and(|r| r.status().is_success()).then_some(())
            },
        )
        .await;
        served
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the exit status (graceful shutdown must exit 0). Waiting on a process
    /// from a plain function: a loop of its own (`eventually` is async).
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "mailgate did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // A test failing while it runs (a wait that timed out) shows what the process said.
        if std::thread::panicking() {
            eprintln!("mailgate's log:\n{}", self.log_text());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `mailgate admin token create` on a data directory: the new token.
pub fn create_token(data_dir: &std::path::Path) -> String {
    let out = run(&[
        "admin",
        "token",
        "create",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The admin API of a served instance, as curl would call it: status and JSON body.
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        )
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
}
