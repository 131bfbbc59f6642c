//! A local emulator of Google's OAuth2 endpoints and the Gmail API.
//!
//! mailgate's tests and its local demo point every Google URL (authorization, token, tokeninfo,
//! userinfo, revoke, Gmail API) at one emulator base URL. The emulator answers with Google's own
//! request and error shapes (see `/work/shared/GOOGLE.md`), keeps its state in memory, runs on a
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

mod clock;
mod config;
mod control;
mod emulator;
mod keys;
mod mail;
mod routes;
mod scopes;
mod state;

pub mod fixtures;
pub mod jwt;

pub use clock::Clock;
pub use config::EmulatorConfig;
pub use control::{
    ClientRegistration, Control, ControlError, Counters, Decision, DelegationGrant, MintAccessToken,
    MintRefreshToken, MintedAccessToken, Outage, PublishingStatus, RateLimit,
    ServiceAccountRegistration,
};
pub use emulator::{BackgroundEmulator, Emulator, RunningEmulator};
pub use scopes::KNOWN_SCOPES;
pub use state::SentMessage;
