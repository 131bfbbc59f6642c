//! A local emulator of Google's OAuth2 endpoints and the Gmail API.
//!
//! mailgate's tests and its local demo point every Google URL (authorization, token, tokeninfo,
//! userinfo, revoke, Gmail API) at one emulator base URL. The emulator answers with Google's own
//! request and error shapes (as Google documents them for OAuth 2.0 web-server apps, service
//! accounts and the Gmail API), keeps its state in memory, runs on a
//! controllable clock, and delivers messages sent through the Gmail API to a real SMTP relay (the
//! local Postfix) when one is configured.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use mailgate_emulator::{ClientRegistration, Emulator, EmulatorConfig};
//!
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! emulator.control().register_client(ClientRegistration::new("app-id", "app-secret", ["http://127.0.0.1:1/cb"]));
//! println!("token URL: {}/token", emulator.base_url());
//! emulator.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Tests drive the emulator through [`Control`] (in process) or the equivalent `/admin/*` HTTP
//! endpoints (from another process, e.g. the demo).
//!
//! | path | what |
//! |---|---|
//! | `GET /o/oauth2/v2/auth` (`/o/oauth2/auth`), `POST /o/oauth2/v2/auth/decision` | consent page and the user's answer |
//! | `POST /token` (`/oauth2/v4/token`) | authorization_code, refresh_token, jwt-bearer grants |
//! | `GET\|POST /tokeninfo` (`/oauth2/v3/tokeninfo`), `POST /introspect` | token checks (Dovecot) |
//! | `GET /oauth2/v3/userinfo` (`/userinfo`), `POST\|GET /revoke` (`/o/oauth2/revoke`) | userinfo, revocation |
//! | `GET /oauth2/v3/certs`, `GET /.well-known/openid-configuration`, `GET /healthz` | id_token keys, discovery, readiness |
//! | `POST /gmail/v1/users/{userId}/messages/send`, `POST /upload/gmail/v1/users/{userId}/messages/send`, `GET /gmail/v1/users/{userId}/profile` | Gmail API |
//! | `POST /admin/{clients,service_accounts,delegations,users,tokens,refresh_tokens,revoke,expire,fail,gmail/fail,gmail/rate_limit,consent,clock/advance,counters/reset}`, `GET /admin/{clock,counters,sent,state}` | control |

mod clock;
mod config;
mod control;
mod emulator;
mod keys;
mod mail;
mod routes;
mod scopes;
mod state;
mod types;

pub mod fixtures;
pub mod jwt;

pub use clock::Clock;
pub use config::EmulatorConfig;
pub use control::{Control, ControlError};
pub use emulator::{BackgroundEmulator, Emulator, RunningEmulator};
pub use keys::KeyError;
pub use scopes::KNOWN_SCOPES;
pub use state::SentMessage;
pub use types::{
    ClientRegistration, Counters, DEFAULT_PROJECT_NUMBER, Decision, DelegationGrant,
    MintAccessToken, MintRefreshToken, MintedAccessToken, Outage, PublishingStatus, RateLimit,
    ServiceAccountRegistration,
};
