//! What every handler is given: the core services and the node's health.

use crate::health::Health;
use mailgate_core::Core;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    /// What `/healthz` and `/readyz` know of the workers and the store.
    pub health: Arc<Health>,
}
