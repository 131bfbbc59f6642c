//! axum's `Query` and `Path` extractors, refused in the error contract: axum's own rejections
//! answer `text/plain`.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// The query string as `T`; a value of the wrong type answers 400 `invalid_query` naming it.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(query_rejected(&rejection)),
        }
    }
}

fn query_rejected(rejection: &QueryRejection) -> ApiError {
    let detail = rejection.body_text();
    // serde's words follow axum's prefix: "Failed to deserialize query string: limit: ...".
    let detail = detail
        .split_once(": ")
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or(detail);
    let field = detail.split_once(": ").map(|(f, _)| f.to_owned());
    let mut error = ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        format!("the query string is not valid: {detail}"),
    )
    .hint("the parameters and their types are listed in /api/openapi.json");
    if let Some(field) = field.filter(|f| !f.contains(' ')) {
        error = error.field(field);
    }
    error
}

/// A path parameter as `T`; one that cannot be read (e.g. invalid UTF-8 once percent-decoded)
/// names nothing that exists: 404 `not_found`.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(path_rejected(&rejection)),
        }
    }
}

fn path_rejected(rejection: &PathRejection) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(e) = rejection else {
        return ApiError::internal(format!("path parameters: {rejection}"));
    };
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("nothing has that id: {}", e.body_text()),
    )
    .hint("ids are printable text; list the existing ones with GET on the collection")
}
