//! The HTTP surface, on one base URL: Google's paths (and their common aliases), the Gmail API,
//! and `/admin/*`. One module per resource.

mod admin;
mod authorize;
mod discovery;
mod gmail;
mod gmail_error;
mod jwt_bearer;
mod oauth_error;
mod outage;
mod pages;
mod params;
mod token;
mod tokeninfo;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::Shared;

/// Gmail accepts messages up to 35 MB through the upload endpoint; base64 in JSON adds a third.
const BODY_LIMIT_BYTES: usize = 64 * 1024 * 1024;

pub fn router(shared: Arc<Shared>) -> Router {
    let oauth = Router::new()
        .route("/o/oauth2/v2/auth", get(authorize::authorize))
        .route("/o/oauth2/auth", get(authorize::authorize))
        .route("/o/oauth2/v2/auth/decision", post(authorize::decision))
        .route("/token", post(token::token))
        .route("/oauth2/v4/token", post(token::token))
        .route(
            "/tokeninfo",
            get(tokeninfo::tokeninfo).post(tokeninfo::tokeninfo),
        )
        .route(
            "/oauth2/v3/tokeninfo",
            get(tokeninfo::tokeninfo).post(tokeninfo::tokeninfo),
        )
        .route(
            "/userinfo",
            get(tokeninfo::userinfo).post(tokeninfo::userinfo),
        )
        .route(
            "/oauth2/v3/userinfo",
            get(tokeninfo::userinfo).post(tokeninfo::userinfo),
        )
        .route("/introspect", post(tokeninfo::introspect))
        .route("/revoke", post(tokeninfo::revoke).get(tokeninfo::revoke))
        .route(
            "/o/oauth2/revoke",
            post(tokeninfo::revoke).get(tokeninfo::revoke),
        )
        .route("/oauth2/v3/certs", get(discovery::certs))
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/healthz", get(discovery::healthz));

    let gmail = Router::new()
        .route(
            "/gmail/v1/users/{user_id}/messages/send",
            post(gmail::send::send_json),
        )
        .route(
            "/upload/gmail/v1/users/{user_id}/messages/send",
            post(gmail::send::send_upload),
        )
        .route("/gmail/v1/users/{user_id}/profile", get(gmail::profile));

    let admin = Router::new()
        .route("/admin/clients", post(admin::register_client))
        .route(
            "/admin/service_accounts",
            post(admin::register_service_account),
        )
        .route("/admin/delegations", post(admin::grant_delegation))
        .route("/admin/users", post(admin::add_user))
        .route("/admin/tokens", post(admin::mint_access_token))
        .route("/admin/refresh_tokens", post(admin::mint_refresh_token))
        .route("/admin/revoke", post(admin::revoke))
        .route("/admin/expire", post(admin::expire))
        .route("/admin/fail", post(admin::oauth_outage))
        .route("/admin/gmail/fail", post(admin::gmail_outage))
        .route("/admin/gmail/rate_limit", post(admin::gmail_rate_limit))
        .route("/admin/consent", post(admin::script_consent))
        .route("/admin/clock", get(admin::clock))
        .route("/admin/clock/advance", post(admin::advance_clock))
        .route("/admin/counters", get(admin::counters))
        .route("/admin/counters/reset", post(admin::reset_counters))
        .route("/admin/sent", get(admin::sent))
        .route("/admin/state", get(admin::state));

    oauth
        .merge(gmail)
        .merge(admin)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(shared)
}
