//! Test harness: `spawn_app()`, the real Dovecot + Postfix stack, and (with the emulator) the
//! shared world tests run against. Nothing here is shared between tests but the stack itself,
//! which they use through fresh users.

pub mod app;
pub mod mailstack;

pub use app::{Answer, TestApp, TestConfig, fresh_postgres_database, spawn_app, spawn_app_with};

/// Once per process: the rustls provider (reqwest is built without one) and test logging.
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
