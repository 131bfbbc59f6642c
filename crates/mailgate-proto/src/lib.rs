//! Mail protocol clients (IMAP, POP3, SMTP, Gmail API, SASL) and connection dialing (TLS,
//! proxies). No storage, no HTTP server.
//!
//! The receiving side: [`dial`] opens a connection (TCP, proxy, TLS); [`pop3`] and [`imap`]
//! speak over any byte stream; [`sasl`] builds the OAuth and password logins; every failure is
//! a [`ProtoError`] that says whether to retry and, through the troubleshooting catalog, what
//! to fix.
//!
//! The sending side: [`smtp`] submits messages (EHLO, STARTTLS, AUTH, PIPELINING); [`gmail`]
//! calls the Gmail API over HTTPS.

mod busy;
pub mod dial;
pub mod error;
pub mod gmail;
pub mod imap;
mod lines;
pub mod pop3;
pub mod sasl;
pub mod smtp;
mod starttls;
pub mod tls;

#[cfg(test)]
mod testing;

pub use error::ProtoError;
pub use lines::Tolerances;
