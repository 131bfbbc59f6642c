//! The resolved settings the service runs with.

use mailgate_store::DatabaseUrl;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;

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
