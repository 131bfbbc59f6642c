//! Access tokens: cached in memory and sealed in the store, renewed *before* they expire by a
//! background task (at about 80% of their life, with jitter), one request per credential however
//! many callers wait (single flight). A rotated refresh token is stored with the new access token.
//! A dead grant marks its credential and raises an event; it never touches other credentials.
//!
//! Files, each using only the ones before it: `key` (what identifies a credential), `cache` (the
//! in-memory slots and the sealed form in the store), `record` (what is written to a credential:
//! a grant, a refusal, a failure), `refresh` (handing out and renewing tokens). Every failure is
//! a [`TokenError`](crate::token_error::TokenError); a diagnosis is read from it only at the edges.

mod cache;
mod key;
mod record;
mod refresh;

pub use cache::{AccessToken, TokenManager};
pub use key::{CredentialKey, SCOPE_GMAIL_SEND, SCOPE_MAIL};
#[cfg(test)]
pub(crate) use record::stored_diagnosis;
pub use record::{
    AUTHORIZATION_REQUIRED, CONNECTED, FAILED, NEEDS_REAUTHORIZATION, authorization_required,
    drop_grants_of, record_refused_consent, store_grant,
};
pub use refresh::{access_token, access_token_lasting, refresh_due, replace_rejected};
