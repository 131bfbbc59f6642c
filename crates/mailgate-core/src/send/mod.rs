//! Sending: messages are queued in the outbox (`POST /api/v1/messages`, ticket replies), then
//! the outbox worker delivers them over SMTP or the Gmail API, falling back to the primary
//! server when the chosen one is unavailable, retrying passing failures with backoff.
//!
//! The draft is validated and stored when queued; the message is rendered for the server that
//! sends it (its address and sender name in From), with the Message-ID and Date fixed at
//! queueing so every attempt sends the same message.

pub(crate) mod channel;
mod deliver;
pub(crate) mod failure;
mod message;
pub(crate) mod pool;
mod queue;
mod reply;
pub mod retry;
mod round;
pub(crate) mod route;
mod settled;
mod view;
mod worker;

pub use pool::SmtpPools;
pub use queue::{Queued, submit};
pub use reply::reply;
pub use view::{AttemptView, OutboxDetail, OutboxView, get, list};
pub use worker::{Outbox, deliver_due, run};
