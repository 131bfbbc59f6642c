#![allow(clippy::unwrap_used)] // a test binary: a failed unwrap is a failed test
//! The `mailgate` binary as a user runs it: `serve` on the embedded SQLite default, an admin
//! token from `admin token create`, the admin API, a restart, `server list`, `config check`.

mod admin;
mod config;
mod crash;
mod crash_send;
mod logs;
mod outbox;
mod process;
mod serve;
