//! The only crate that talks SQL. One [`Store`] trait, named in domain terms, with a SQLite and a
//! PostgreSQL implementation chosen once by the database URL ([`open`]).

mod backend;
mod error;
mod model;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod url;

pub use backend::open;

pub use error::{DriverError, StoreError};
pub use model::{
    AdminTokenRow, AttachmentRow, AttemptRow, CredentialKind, CredentialRow, EventFor, EventRow,
    ImportOutcome, ImportRequest, ImportedBatch, Link, MailSource, MessageImport, MessageRow,
    NewEvent, NewTicket, OAuthStateRow, ObjectKind, ObjectRow, OutboxFinish, OutboxQuery,
    OutboxRetry, OutboxRow, Sealed, StateUse, TicketQuery, TicketRow,
};
pub use store::{Store, StoreOptions};
pub use url::DatabaseUrl;
