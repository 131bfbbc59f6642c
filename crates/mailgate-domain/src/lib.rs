//! mailgate's domain: the values the rest of the system passes around, each built only through
//! a parser that returns a typed error (parse, don't validate). No I/O lives here.

pub mod email;
pub mod error;
pub mod error_chain;
pub mod event;
pub mod filter;
pub mod ids;
pub mod incoming;
pub mod mail;
pub mod oauth_app;
pub mod outbox;
pub mod outgoing;
pub mod proxy;
pub mod server;
pub mod service_account;
pub mod troubleshoot;

pub use email::{Domain, EmailAddress};
pub use error::{FieldError, FieldErrors};
pub use error_chain::error_chain;
pub use event::EventKind;
pub use filter::{Filter, FilterInput, FilterKind};
pub use ids::Id;
pub use secrecy::{ExposeSecret, SecretString};
