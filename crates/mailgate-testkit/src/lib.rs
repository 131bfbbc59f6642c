//! Test harness: `spawn_app()`, the real Dovecot + Postfix stack, the Google emulator, and the
//! world that ties them together. Nothing is shared between tests but the world's servers, which
//! tests use through fresh users.
// A harness reports failure by panicking: unwrap and expect say where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod app;
pub mod corpus;
mod eventually;
pub mod mailstack;
pub mod peer;
pub mod proxy;
pub mod samples;
pub mod wire;
pub mod world;

pub use app::{
    Answer, TestApp, TestConfig, Watching, fresh_postgres_database, on_world, spawn_app,
    spawn_app_on_world, spawn_app_with,
};
pub use eventually::eventually;
pub use world::{World, world};

/// Once per process: the rustls provider (reqwest is built without one).
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
