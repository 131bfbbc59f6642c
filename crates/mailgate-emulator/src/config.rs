//! How one emulator instance is set up.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Settings of one emulator instance. `Default` binds `127.0.0.1:0`, keeps sent mail in memory
/// and treats `example.test` as the local domain.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where to listen. Port 0 picks a free port; read it back with `base_url()`.
    pub listen: SocketAddr,
    /// The URL clients reach the emulator at, when it differs from `http://{listen}` (behind a
    /// proxy or in a container). Used in the service-account key file's `token_uri`, in the
    /// accepted JWT audiences and in the OpenID discovery document.
    pub public_url: Option<String>,
    /// SMTP server (plain SMTP, no auth: the local Postfix inbound port) that receives the
    /// messages sent through the Gmail API. `None` keeps them in memory only.
    pub smtp_relay: Option<SocketAddr>,
    /// Mail domain whose users exist: recipients in it are delivered as they are, and service
    /// accounts may impersonate (`sub`) any of its addresses.
    pub local_domain: String,
    /// Where recipients outside `local_domain` are redirected on delivery, as the test mail stack
    /// does; `None` delivers them unchanged.
    pub catchall: Option<String>,
    /// Upper bound for one SMTP delivery (connect + whole transaction).
    pub smtp_timeout: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            public_url: None,
            smtp_relay: None,
            local_domain: "example.test".to_owned(),
            catchall: None,
            smtp_timeout: Duration::from_secs(10),
        }
    }
}
