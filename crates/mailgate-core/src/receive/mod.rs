//! Receiving: mailbox watchers (IMAP, POP3) feed each message through the pipeline into tickets.

pub mod batch;
pub mod pipeline;
pub mod supervisor;
pub mod watch;
