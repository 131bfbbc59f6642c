use crate::error::{ApiError, ErrorBody};
use crate::extract::Query;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use mailgate_core::events::EventView;

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events with an id above this (a cursor: pass the last id you saw).
    #[serde(default)]
    after: i64,
    /// At most this many (1 to 1000, default 100).
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    100
}

/// What happened, oldest first.
#[utoipa::path(get, path = "/events", operation_id = "list_events", tag = "events", params(EventsQuery), security(("admin_token" = [])),
    responses((status = 200, body = Vec<EventView>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<Vec<EventView>>, ApiError> {
    Ok(Json(
        mailgate_core::events::list(&state.core, query.after, query.limit)
            .await
            .map_err(ApiError::internal)?,
    ))
}
