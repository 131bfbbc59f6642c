//! Mail protocol clients (IMAP, POP3, SMTP, Gmail API, SASL) and connection dialing (TLS,
//! proxies). No storage, no HTTP server.

pub mod tls;
