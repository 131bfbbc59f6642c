//! Receiving mail into tickets: the pipeline on its own (this file), then the mailbox watchers
//! against Dovecot.

mod bad_link;
mod batches;
mod corpus;
mod duplicates;
mod first_import;
mod pipeline;
mod pop3;
mod rules;
mod start;
mod test_connection;
mod watch;
