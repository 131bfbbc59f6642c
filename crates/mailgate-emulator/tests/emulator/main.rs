//! Integration tests: a real emulator on port 0 per test, driven over HTTP with reqwest, each
//! asserting Google's exact shapes.

mod consent;
mod control;
mod gmail_errors;
mod gmail_send;
mod helpers;
mod refresh;
mod service_account;
mod smtp_sink;
mod token;
mod tokeninfo;
