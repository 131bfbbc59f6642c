#![allow(clippy::unwrap_used)] // a test binary: a failed unwrap is a failed test
//! The testkit's integration tests: the admin API through `spawn_app()`, and the real mail stack.

mod api;
mod oauth;
mod proto;
mod receive;
mod reports;
mod send;
mod stack;
