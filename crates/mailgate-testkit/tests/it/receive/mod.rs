//! Receiving mail into tickets: the pipeline on its own (this file), then the mailbox watchers
//! against Dovecot.

mod batches;
mod passwords;
mod pipeline;
mod rules;
mod watch;
