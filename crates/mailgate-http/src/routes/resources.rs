//! The four configuration resources: POST create, GET list, GET/PATCH/DELETE by id.

use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::routes::JsonBody;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use mailgate_core::objects::{
    IncomingServers, OAuthApps, Objects, OutgoingServers, ServiceAccounts,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

macro_rules! resource {
    ($module:ident, $one:literal, $resource:ty, $view:ty, $input:ty, $collection:literal, $item:literal, $tag:literal) => {
        pub mod $module {
            use super::*;

            /// Create one.
            #[utoipa::path(post, path = $collection, operation_id = concat!("create_", $one), tag = $tag, request_body = $input, security(("admin_token" = [])),
                responses((status = 201, body = $view), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
            pub async fn create(State(state): State<AppState>, JsonBody(body): JsonBody) -> Result<(StatusCode, Json<$view>), ApiError> {
                Ok((StatusCode::CREATED, Json(Objects::<$resource>::create(&state.core, body).await?)))
            }

            /// List all, oldest first.
            #[utoipa::path(get, path = $collection, operation_id = concat!("list_", $one, "s"), tag = $tag, security(("admin_token" = [])),
                responses((status = 200, body = Vec<$view>), (status = 401, body = ErrorBody)))]
            pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<$view>>, ApiError> {
                Ok(Json(Objects::<$resource>::list(&state.core).await?))
            }

            /// Read one.
            #[utoipa::path(get, path = $item, operation_id = concat!("get_", $one), tag = $tag, params(("id" = String, Path)), security(("admin_token" = [])),
                responses((status = 200, body = $view), (status = 404, body = ErrorBody)))]
            pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<$view>, ApiError> {
                Ok(Json(Objects::<$resource>::get(&state.core, &id).await?))
            }

            /// Change some fields (JSON merge patch: given fields replace, null clears; secrets left out are kept).
            #[utoipa::path(patch, path = $item, operation_id = concat!("update_", $one), tag = $tag, params(("id" = String, Path)), request_body = $input, security(("admin_token" = [])),
                responses((status = 200, body = $view), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
            pub async fn update(State(state): State<AppState>, Path(id): Path<String>, JsonBody(body): JsonBody) -> Result<Json<$view>, ApiError> {
                Ok(Json(Objects::<$resource>::update(&state.core, &id, body).await?))
            }

            /// Delete one; refused while other objects link to it.
            #[utoipa::path(delete, path = $item, operation_id = concat!("delete_", $one), tag = $tag, params(("id" = String, Path)), security(("admin_token" = [])),
                responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
            pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
                Objects::<$resource>::delete(&state.core, &id).await?;
                Ok(StatusCode::NO_CONTENT)
            }
        }
    };
}

resource!(
    oauth_apps,
    "oauth_app",
    OAuthApps,
    mailgate_core::objects::OAuthAppView,
    mailgate_domain::oauth_app::OAuthAppInput,
    "/oauth-apps",
    "/oauth-apps/{id}",
    "oauth-apps"
);
resource!(
    service_accounts,
    "service_account",
    ServiceAccounts,
    mailgate_core::objects::ServiceAccountView,
    mailgate_domain::service_account::ServiceAccountKeyFile,
    "/service-accounts",
    "/service-accounts/{id}",
    "service-accounts"
);
resource!(
    incoming_servers,
    "incoming_server",
    IncomingServers,
    mailgate_core::objects::IncomingServerView,
    mailgate_domain::incoming::IncomingServerInput,
    "/incoming-servers",
    "/incoming-servers/{id}",
    "incoming-servers"
);
resource!(
    outgoing_servers,
    "outgoing_server",
    OutgoingServers,
    mailgate_core::objects::OutgoingServerView,
    mailgate_domain::outgoing::OutgoingServerInput,
    "/outgoing-servers",
    "/outgoing-servers/{id}",
    "outgoing-servers"
);

/// The admin API, relative to `/api/v1`.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(oauth_apps::create, oauth_apps::list))
        .routes(routes!(
            oauth_apps::get,
            oauth_apps::update,
            oauth_apps::delete
        ))
        .routes(routes!(service_accounts::create, service_accounts::list))
        .routes(routes!(
            service_accounts::get,
            service_accounts::update,
            service_accounts::delete
        ))
        .routes(routes!(incoming_servers::create, incoming_servers::list))
        .routes(routes!(
            incoming_servers::get,
            incoming_servers::update,
            incoming_servers::delete
        ))
        .routes(routes!(outgoing_servers::create, outgoing_servers::list))
        .routes(routes!(
            outgoing_servers::get,
            outgoing_servers::update,
            outgoing_servers::delete
        ))
        .routes(routes!(super::incoming_servers::authorize))
        .routes(routes!(super::outgoing_servers::authorize))
        .routes(routes!(super::events::list))
        .routes(routes!(super::doctor::run))
        .routes(routes!(super::incoming_servers::test))
        .routes(routes!(super::tickets::list))
        .routes(routes!(super::tickets::get))
        .routes(routes!(super::tickets::attachment))
        .routes(routes!(super::messages::create, super::messages::list))
        .routes(routes!(super::messages::get))
        .routes(routes!(super::messages::reply))
        .routes(routes!(super::messages::retry))
        .routes(routes!(super::messages::retry_all))
        .routes(routes!(super::outgoing_servers::test))
}
