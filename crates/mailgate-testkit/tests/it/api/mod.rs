//! The admin API through `spawn_app()`: what issue-2 users rely on beyond the CLI walk-through.

mod access;
mod broken_secrets;
mod contract;
mod document;
mod errors;
mod health;
mod oauth_apps;
mod secret_endpoints;
mod secrets;
mod servers;
mod service_accounts;
mod slow_clients;
mod tokens;
mod wired;

use serde_json::{Value, json};

pub fn google_app() -> Value {
    json!({"name": "Google", "provider": "google", "client_id": "123.apps.googleusercontent.com", "client_secret": "GOCSPX-first-secret"})
}

pub fn imap_server(app_id: &Value) -> Value {
    json!({"name": "Support", "email": "support@example.com", "protocol": "imap", "host": "imap.gmail.com",
           "auth": "oauth", "oauth_app_id": app_id, "group": "IT", "category": "Hardware"})
}
