//! Configuration: defaults, then the TOML file, then `MAILGATE__SECTION__KEY` environment
//! variables, then command-line flags. Every problem is collected and reported at once, each
//! naming its key, where the value came from, and the fix.

mod schema;

pub use schema::EXAMPLE;

use mailgate_store::DatabaseUrl;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The resolved settings the service runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Public URL of this service, without a trailing slash.
    pub base_url: String,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub database_max_connections: u32,
    /// PostgreSQL: start although the server acknowledges commits before flushing them.
    pub database_allow_async_commit: bool,
    pub master_key: MasterKeySource,
    pub log_level: String,
    pub log_json: bool,
    pub tls_extra_ca_file: Option<PathBuf>,
    /// Messages larger than this are not imported (the mailbox goes on; the failure is logged).
    pub receive_max_message_bytes: usize,
    /// How often POP3 mailboxes are read (IMAP mailboxes are pushed by IDLE).
    pub receive_poll_interval: std::time::Duration,
    /// Who may add a message to a ticket by its tag (`[#n]`) in the subject.
    pub receive_thread_by_tag: ThreadByTag,
    pub send: SendSettings,
    pub http: HttpSettings,
}

/// How the HTTP server protects itself from slow or idle clients, and who reads `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// `/metrics` answers without an admin token.
    pub metrics_public: bool,
    /// A request's line and headers must arrive within this; the connection is closed after.
    pub header_read_timeout: std::time::Duration,
    /// A request (its body read, handled and answered) must complete within this.
    pub request_timeout: std::time::Duration,
    /// A connection with no request under way and no byte moving for this long is closed.
    pub idle_timeout: std::time::Duration,
    /// Connections served at once; further ones wait in the listen queue until one closes.
    pub max_connections: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            metrics_public: false,
            header_read_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(120),
            idle_timeout: std::time::Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// `[receive] thread_by_tag`: who may add a message to a ticket by writing its tag in the
/// subject. Ticket numbers are sequential, so with `Any` anyone can write into any ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThreadByTag {
    /// The ticket's participants (requester, anyone who wrote to it or was written to), or
    /// mail from the mailbox the ticket came in through. Anyone else opens a new ticket.
    #[default]
    ParticipantsOrMailbox,
    /// Whoever sends it (the rule before 2026-12).
    Any,
}

/// How the outbox delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendSettings {
    /// Delivery rounds before a message that keeps failing for a transient reason fails.
    pub max_attempts: u32,
    /// The wait after the first failed round; it doubles each round (with jitter) up to
    /// `retry_max`.
    pub retry_base: std::time::Duration,
    pub retry_max: std::time::Duration,
    /// Messages being sent at once, over all servers.
    pub concurrency: usize,
    /// SMTP connections kept open per server and reused.
    pub connections_per_server: usize,
}

impl Default for SendSettings {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            retry_base: std::time::Duration::from_secs(30),
            retry_max: std::time::Duration::from_secs(3_600),
            concurrency: 8,
            connections_per_server: 3,
        }
    }
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum MasterKeySource {
    /// A file holding the base64 key; generated on first start when missing.
    File(PathBuf),
    /// The base64 key itself (from `MAILGATE__SECRETS__MASTER_KEY`).
    Inline(SecretString),
}

impl Settings {
    /// The OAuth redirect URI to register at the provider.
    pub fn redirect_uri(&self) -> String {
        format!("{}/oauth/callback", self.base_url)
    }
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// `section.key`
    pub key: String,
    /// The file, the environment variable or the flag the value came from.
    pub origin: String,
    pub message: String,
    pub hint: Option<String>,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (from {}): {}", self.key, self.origin, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// All the problems found; `Display` puts one per line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

/// What to load from.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// `--config FILE` or `MAILGATE_CONFIG`.
    pub file: Option<PathBuf>,
    /// Environment variables (all of them; only `MAILGATE__*` are read).
    pub env: Vec<(String, String)>,
    /// Command-line flags as `(section.key, value, flag name)`.
    pub flags: Vec<(String, String, String)>,
}

impl Sources {
    /// The file named by `--config` or else `MAILGATE_CONFIG`, and the process environment.
    pub fn from_process(config_flag: Option<PathBuf>) -> Self {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let file = config_flag.or_else(|| {
            env.iter()
                .find(|(k, _)| k == "MAILGATE_CONFIG")
                .map(|(_, v)| PathBuf::from(v))
        });
        Self {
            file,
            env,
            flags: Vec::new(),
        }
    }

    pub fn flag(mut self, key: &str, value: Option<impl ToString>, flag: &str) -> Self {
        if let Some(value) = value {
            self.flags
                .push((key.to_owned(), value.to_string(), flag.to_owned()));
        }
        self
    }
}

/// A raw value and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub value: toml::Value,
    pub origin: String,
}

/// Loads and checks the settings; every problem is reported, not just the first.
pub fn load(sources: &Sources) -> Result<Settings, ConfigErrors> {
    let mut problems = Vec::new();
    let mut values: BTreeMap<String, Raw> = BTreeMap::new();
    if let Some(path) = &sources.file {
        read_file(path, &mut values, &mut problems);
    }
    for (name, value) in &sources.env {
        let Some(rest) = name.strip_prefix("MAILGATE__") else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            problems.push(ConfigProblem {
                // `MAILGATE__=...` has nothing after the prefix: name the variable itself.
                key: match rest {
                    "" => name.clone(),
                    rest => rest.to_ascii_lowercase(),
                },
                origin: name.clone(),
                message: "an override names a section and a key".into(),
                hint: Some(
                    "write MAILGATE__SECTION__KEY, e.g. MAILGATE__SERVER__LISTEN=127.0.0.1:8025"
                        .into(),
                ),
            });
            continue;
        };
        let key = format!(
            "{}.{}",
            section.to_ascii_lowercase(),
            key.to_ascii_lowercase()
        );
        values.insert(
            key,
            Raw {
                value: toml::Value::String(value.clone()),
                origin: name.clone(),
            },
        );
    }
    for (key, value, flag) in &sources.flags {
        values.insert(
            key.clone(),
            Raw {
                value: toml::Value::String(value.clone()),
                origin: flag.clone(),
            },
        );
    }
    let settings = schema::resolve(&values, &mut problems);
    match settings {
        Some(s) if problems.is_empty() => Ok(s),
        _ => Err(ConfigErrors(problems)),
    }
}

fn read_file(path: &Path, values: &mut BTreeMap<String, Raw>, problems: &mut Vec<ConfigProblem>) {
    let origin = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            problems.push(ConfigProblem {
                key: "config".into(),
                origin,
                message: format!("cannot read the configuration file: {e}"),
                hint: Some("check the path given with --config or MAILGATE_CONFIG; `mailgate config example` prints a starting point".into()),
            });
            return;
        }
    };
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            problems.push(ConfigProblem {
                key: "config".into(),
                origin,
                message: format!("not valid TOML: {e}"),
                hint: None,
            });
            return;
        }
    };
    for (section, body) in table {
        match body {
            toml::Value::Table(keys) => {
                for (key, value) in keys {
                    values.insert(
                        format!("{section}.{key}"),
                        Raw {
                            value,
                            origin: origin.clone(),
                        },
                    );
                }
            }
            _ => problems.push(ConfigProblem {
                key: section.clone(),
                origin: origin.clone(),
                message: "a top-level key must be a [section]".into(),
                hint: Some(format!(
                    "put `{section}` inside its section; `mailgate config example` lists them"
                )),
            }),
        }
    }
}
