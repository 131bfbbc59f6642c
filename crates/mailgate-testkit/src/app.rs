//! `spawn_app()`: the service on port 0 with a fresh data directory and its own admin token,
//! plus a small JSON client for the admin API.

use anyhow::Context;
use mailgate_core::Core;
use mailgate_core::config::{Settings, Sources};
use secrecy::ExposeSecret;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub port: u16,
    pub token: String,
    pub core: Arc<Core>,
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    /// The service's clock: advance it instead of sleeping.
    pub clock: Arc<mailgate_core::clock::ManualClock>,
    config: TestConfig,
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Extra settings for a test, as `section.key` = value (the same keys as the config file), and
/// the clock the service runs on. Background workers are off unless `workers`: tests run their
/// steps by hand.
#[derive(Clone)]
pub struct TestConfig {
    pub settings: Vec<(String, String)>,
    pub clock: Arc<mailgate_core::clock::ManualClock>,
    pub workers: bool,
}

impl Default for TestConfig {
    fn default() -> Self {
        Self {
            settings: Vec::new(),
            clock: mailgate_core::clock::ManualClock::new(),
            workers: false,
        }
    }
}

impl TestConfig {
    pub fn set(mut self, key: &str, value: impl ToString) -> Self {
        self.settings.push((key.to_owned(), value.to_string()));
        self
    }

    /// Runs the background workers as the service does, except that the mailbox supervisor's
    /// safety-net poll is an hour: only its wake-ups start, restart or stop watchers.
    pub fn with_workers(mut self) -> Self {
        self.workers = true;
        self
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestConfig::default()).await
}

pub async fn spawn_app_with(config: TestConfig) -> TestApp {
    crate::init();
    let dir = tempfile::tempdir().expect("a temporary data directory");
    let data_dir = dir.path().join("data");
    let mut app = start(&data_dir, &config)
        .await
        .unwrap_or_else(|e| panic!("spawn_app: {e:#}"));
    app._dir = Some(dir);
    app
}

async fn start(data_dir: &std::path::Path, config: &TestConfig) -> anyhow::Result<TestApp> {
    let settings = settings(data_dir, config)?;
    let options = mailgate_http::Options {
        clock: config.clock.clone(),
        workers: config.workers,
        mailbox_check_every: std::time::Duration::from_secs(3600),
        ..Default::default()
    };
    let app = mailgate_http::Application::build_with(settings, options).await?;
    let port = app.port();
    let core = app.core();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    let token = mailgate_core::admin::create_token(core.store.as_ref(), "test").await?;
    Ok(TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        token: token.token.expose_secret().to_owned(),
        core,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("http client")?,
        data_dir: data_dir.to_owned(),
        clock: config.clock.clone(),
        config: config.clone(),
        _dir: None,
        shutdown: Some(tx),
        server: Some(server),
    })
}

fn settings(data_dir: &std::path::Path, config: &TestConfig) -> anyhow::Result<Settings> {
    let mut sources = Sources::default()
        .flag("storage.data_dir", Some(data_dir.display()), "spawn_app")
        .flag("server.listen", Some("127.0.0.1:0"), "spawn_app")
        .flag("log.level", Some("warn"), "spawn_app");
    for (key, value) in &config.settings {
        sources = sources.flag(key, Some(value), "TestConfig");
    }
    mailgate_core::config::load(&sources).map_err(|e| anyhow::anyhow!("test settings: {e}"))
}

/// An answer: status and JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl TestApp {
    /// Stops the server (graceful shutdown) and starts it again on the same data directory.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        // Same data directory, same clock, same settings.
        let config = self.config.clone();
        let mut again = start(&self.data_dir, &config)
            .await
            .unwrap_or_else(|e| panic!("restart: {e:#}"));
        again._dir = self._dir.take();
        again
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server ran");
        }
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer { status, body }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request(reqwest::Method::GET, path, None).await
    }

    /// The tickets `GET /api/v1/tickets` lists now (none when the answer is not a list).
    pub async fn tickets(&self) -> Vec<Value> {
        self.get("/api/v1/tickets")
            .await
            .body
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.request(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.request(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.request(reqwest::Method::DELETE, path, None).await
    }
}

/// A fresh, empty PostgreSQL database on the server MAILGATE_TEST_POSTGRES_URL names
/// (`scripts/test.sh` starts one). Panics with the fix when the variable is missing.
pub async fn fresh_postgres_database() -> String {
    let Ok(server) = std::env::var("MAILGATE_TEST_POSTGRES_URL") else {
        panic!(
            "MAILGATE_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh, which starts a throwaway PostgreSQL"
        );
    };
    let name = format!("mailgate_test_{}", uuid::Uuid::new_v4().simple());
    let output = tokio::process::Command::new("psql")
        .args([
            server.as_str(),
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            &format!("CREATE DATABASE {name}"),
        ])
        .output()
        .await
        .expect("psql (from postgresql-client) runs");
    assert!(
        output.status.success(),
        "creating the test database failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut url = url::Url::parse(&server).expect("MAILGATE_TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    url.to_string()
}

impl TestApp {
    /// The emulator and mail stack this app's servers talk to (started on first use).
    pub fn world(&self) -> &'static crate::World {
        crate::world()
    }

    /// Registers a fresh OAuth client at the emulator (redirect URI = this app's callback) and
    /// creates the matching Google OAuth app in mailgate, its endpoints pointed at the emulator.
    /// Returns the app as the API shows it.
    pub async fn google_oauth_app(&self) -> Value {
        self.google_oauth_app_with(|r| r).await
    }

    /// As [`TestApp::google_oauth_app`], with the emulator's client registration adjusted
    /// (testing status and test users, refresh-token rotation, Gmail API disabled, ...).
    pub async fn google_oauth_app_with(
        &self,
        adjust: impl FnOnce(
            mailgate_emulator::ClientRegistration,
        ) -> mailgate_emulator::ClientRegistration,
    ) -> Value {
        let world = self.world();
        let client_id = format!(
            "{}.apps.googleusercontent.com",
            uuid::Uuid::new_v4().simple()
        );
        let secret = format!("secret-{}", uuid::Uuid::new_v4().simple());
        let redirect = format!("{}/oauth/callback", self.address);
        world.emulator.control().register_client(adjust(
            mailgate_emulator::ClientRegistration::new(
                client_id.clone(),
                secret.clone(),
                [redirect],
            ),
        ));
        let base = world.emulator.base_url();
        let answer = self
            .post(
                "/api/v1/oauth-apps",
                serde_json::json!({
                    "name": format!("Google emulator {}", &client_id[..8]), "provider": "google",
                    "client_id": client_id, "client_secret": secret,
                    "authorization_url": format!("{base}/o/oauth2/v2/auth"), "token_url": format!("{base}/token"),
                    "userinfo_url": format!("{base}/oauth2/v3/userinfo")
                }),
            )
            .await;
        assert_eq!(
            answer.status, 201,
            "creating the emulator's OAuth app: {}",
            answer.body
        );
        answer.body
    }

    /// An IMAPS incoming server for a fresh mailbox of the stack, authenticated by `oauth_app`.
    pub async fn stack_imap_server(&self, oauth_app: &Value, prefix: &str) -> (String, Value) {
        let world = self.world();
        let email = world.fresh_user(prefix);
        let answer = self
            .post(
                "/api/v1/incoming-servers",
                serde_json::json!({"name": format!("{prefix} {email}"), "email": email, "protocol": "imap", "import_from": "all", "host": "127.0.0.1",
                                   "port": world.stack.imaps_port, "security": "ssl", "auth": "oauth", "oauth_app_id": oauth_app["id"]}),
            )
            .await;
        assert_eq!(
            answer.status, 201,
            "creating the stack's IMAP server: {}",
            answer.body
        );
        (email, answer.body)
    }
}

/// The emulator keeps one queue of scripted consent answers for all clients, and the next
/// authorization request of any test takes the next answer: tests running in parallel take turns
/// between scripting an answer and using it, and a test that opens the real consent page (no
/// script) takes a turn too.
pub async fn provider_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

impl TestApp {
    /// Opens an authorization URL with the emulator scripted to answer as `account`, and
    /// returns where the provider redirects the browser (the callback URL with a code or error).
    pub async fn provider_redirect(
        &self,
        authorization_url: &str,
        account: &str,
        allow: bool,
    ) -> String {
        let decision = if allow {
            mailgate_emulator::Decision::Allow
        } else {
            mailgate_emulator::Decision::Deny
        };
        let _turn = provider_turn().await;
        self.world()
            .emulator
            .control()
            .script_consent(account, decision);
        let provider = self
            .http
            .get(authorization_url)
            .send()
            .await
            .expect("provider reached");
        assert_eq!(
            provider.status(),
            302,
            "the scripted consent redirects: {:?}",
            provider.text().await
        );
        provider.headers()["location"]
            .to_str()
            .expect("a location")
            .to_owned()
    }

    /// Runs the consent for a server the way a browser would, with the emulator scripted to
    /// answer as `account` (`allow` or not): authorize, follow the provider's redirect to
    /// `/oauth/callback`, and return the callback's status and page.
    pub async fn consent(
        &self,
        direction: &str,
        server_id: &str,
        account: &str,
        allow: bool,
    ) -> (u16, String) {
        let start = self
            .post(
                &format!("/api/v1/{direction}-servers/{server_id}/authorize"),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(start.status, 200, "authorize: {}", start.body);
        let back = self
            .provider_redirect(
                start.body["authorization_url"]
                    .as_str()
                    .expect("authorization_url"),
                account,
                allow,
            )
            .await;
        assert!(
            back.starts_with(&format!("{}/oauth/callback?", self.address)),
            "{back}"
        );
        let page = self.http.get(back).send().await.expect("callback reached");
        (
            page.status().as_u16(),
            page.text().await.unwrap_or_default(),
        )
    }
}

/// `spawn_app()` for tests that connect to the mail stack: the world is started first and its
/// test CA is trusted (`tls.extra_ca_file`), as an admin would configure an internal CA.
pub async fn spawn_app_on_world() -> TestApp {
    spawn_app_with(on_world(TestConfig::default())).await
}

/// `config` for a test that connects to the mail stack: its test CA trusted.
pub fn on_world(config: TestConfig) -> TestConfig {
    let ca = crate::world().stack.ca_pem.display().to_string();
    config.set("tls.extra_ca_file", ca)
}

impl TestApp {
    /// Registers a fresh service account (the fixture key) at `emulator` and uploads its key
    /// file to mailgate. Returns the account's client ID (what delegation is granted to) and the
    /// account as the API shows it. No delegation is granted.
    pub async fn service_account(
        &self,
        emulator: &mailgate_emulator::RunningEmulator,
    ) -> (String, Value) {
        use mailgate_emulator::{ServiceAccountRegistration, fixtures};
        let client_id = format!("1{:020}", uuid::Uuid::new_v4().as_u128() % 10u128.pow(20));
        let email = format!(
            "sender-{}@mailgate-test.iam.gserviceaccount.com",
            &client_id[..8]
        );
        emulator
            .control()
            .register_service_account(ServiceAccountRegistration::with_private_key(
                &email,
                &client_id,
                fixtures::SERVICE_ACCOUNT_KEY_PEM,
            ))
            .expect("the emulator registers the service account");
        let key_file: Value = serde_json::from_str(
            &fixtures::service_account_key_json(
                fixtures::SERVICE_ACCOUNT_KEY_PEM,
                &email,
                &client_id,
                emulator.base_url(),
            )
            .expect("a key file"),
        )
        .expect("the key file is JSON");
        let account = self.post("/api/v1/service-accounts", key_file).await;
        assert_eq!(account.status, 201, "{}", account.body);
        (client_id, account.body)
    }
}

impl TestApp {
    /// Creates a server (`direction` is `incoming` or `outgoing`) from `body` and authorizes it
    /// by consent as `account` on the emulator, asserting both. Returns the server as the API
    /// shows it.
    pub async fn authorized_server(&self, direction: &str, body: Value, account: &str) -> Value {
        let created = self
            .post(&format!("/api/v1/{direction}-servers"), body)
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.body["id"].as_str().expect("an id");
        let (status, page) = self.consent(direction, id, account, true).await;
        assert_eq!(status, 200, "{page}");
        created.body
    }
}

/// An incoming server's watcher running in a task, as the supervisor runs it (background
/// workers are off in tests). Its POP3 poll is an hour: only IMAP IDLE brings mail in.
pub struct Watching {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Watching {
    /// Asks the watcher to stop and waits for it, failing the test if it takes over 10 s.
    pub async fn stop(self) {
        self.stop.send(true).expect("the watcher is running");
        tokio::time::timeout(std::time::Duration::from_secs(10), self.task)
            .await
            .expect("the watcher stops")
            .expect("the watcher did not panic");
    }
}

impl TestApp {
    /// Starts the watcher of incoming server `server_id` (its id as the API shows it).
    pub fn watch(&self, server_id: &Value) -> Watching {
        let id = server_id
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("a server id");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(mailgate_core::receive::watch::watch_mailbox(
            self.core.clone(),
            id,
            std::time::Duration::from_secs(3600),
            stopped,
        ));
        Watching { stop, task }
    }
}
