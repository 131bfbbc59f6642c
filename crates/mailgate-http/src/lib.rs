//! mailgate's HTTP surface (axum only): the admin API under `/api/v1`, health, metrics, the
//! OpenAPI document, and the application lifecycle that ties them to the core.

mod auth;
mod error;
mod extract;
mod health;
mod limits;
mod metrics;
mod openapi;
mod pages;
mod routes;
mod serve;
mod startup;
mod state;

pub use error::ApiError;
pub use health::Health;
pub use startup::{Application, Options};
