use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use mailgate_core::doctor::Report;

/// Checks every server's credential end to end, with the fix for each failure.
#[utoipa::path(get, path = "/doctor", operation_id = "run_doctor", tag = "doctor", security(("admin_token" = [])), responses((status = 200, body = Report), (status = 401, body = ErrorBody)))]
pub async fn run(State(state): State<AppState>) -> Result<Json<Report>, ApiError> {
    Ok(Json(
        mailgate_core::doctor::run(&state.core)
            .await
            .map_err(ApiError::internal)?,
    ))
}
