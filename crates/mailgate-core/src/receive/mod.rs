//! Receiving: mailbox watchers (IMAP, POP3) feed each message through the pipeline into tickets.
//!
//! The supervisor ([`supervisor`]) runs one watcher ([`watch`]) per enabled incoming server. A
//! watcher runs sessions back to back ([`imap`], [`pop3`]); each starts as [`connect`] says, reads
//! in batches ([`batch`]), imports each message through the [`pipeline`], and runs the
//! after-import action ([`after_import`]).
//!
//! Uses point one way; each file uses only files of the groups before its own:
//! `pipeline`, `error`, `numbering` <- `connect`, `batch` <- `first_import`, `after_import`
//! <- `imap`, `pop3` <- `watch` <- `supervisor` (and `crate::test_connection`, which uses `connect`
//! and `after_import`).

pub mod after_import;
pub mod batch;
pub mod connect;
pub mod error;
pub mod first_import;
pub mod imap;
pub mod numbering;
pub mod pipeline;
pub mod pop3;
pub mod supervisor;
pub mod watch;
