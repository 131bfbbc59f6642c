//! What the fuzz targets run: the drivers and checks of the crates' property tests, included
//! from there so that `cargo test` and `cargo fuzz` check the same promises.

#[path = "../../crates/mailgate-proto/tests/props/drive.rs"]
pub mod proto;

#[path = "../../crates/mailgate-domain/tests/props/checks.rs"]
pub mod mail;

#[path = "../../crates/mailgate-core/tests/props/check.rs"]
pub mod config;
