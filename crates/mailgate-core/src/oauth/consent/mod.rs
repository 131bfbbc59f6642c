//! The consent flow: `start` makes a single-use `state` (kept hashed, 10 minutes) and a PKCE
//! verifier and builds the provider's authorization URL; `callback` takes the state back, trades
//! the code for tokens, checks that the account that signed in is the server's mailbox, and
//! stores the grant sealed.
//!
//! Files, each using only the ones before it: `error` (why a consent failed, typed, and the
//! diagnosis a person reads), `target` (the server and its OAuth app), `account` (who signed in),
//! `start` (the authorization URL), `callback` (the provider's answer). The browser's pages are
//! the edges: only `start_redirect` and `callback` turn a [`ConsentError`] into a diagnosis.

mod account;
mod callback;
mod error;
mod start;
mod target;

pub use callback::{CallbackOutcome, CallbackParams, callback};
pub use error::ConsentError;
pub use start::{AuthorizationStart, STATE_LIFETIME_MS, start, start_redirect};
pub use target::{ConsentTarget, ServerKind, target};
