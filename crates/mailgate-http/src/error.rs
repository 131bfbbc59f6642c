//! One error contract for every answer: `{"error": code, "message", "hint", "field"?, "errors"?}`.
//! Internal failures are logged once with their chain and answered with an opaque 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mailgate_core::objects::ServiceError;
use mailgate_core::secrets::SecretError;
use mailgate_domain::{FieldError, FieldErrors, error_chain as chain};
use mailgate_store::StoreError;
use serde::Serialize;

/// The hint of an error that has no more specific one.
const DEFAULT_HINT: &str = "the API and its parameters are described in /api/openapi.json";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub error: &'static str,
    /// What went wrong, as a sentence.
    pub message: String,
    /// The request field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// How to fix it.
    pub hint: String,
    /// Every field problem, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: code,
                message: message.into(),
                field: None,
                hint: DEFAULT_HINT.to_owned(),
                errors: Vec::new(),
            },
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.body.hint = hint.into();
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.body.field = Some(field.into());
        self
    }

    pub fn invalid(errors: FieldErrors) -> Self {
        let list = errors.into_vec();
        let first = list
            .first()
            .cloned()
            .unwrap_or_else(|| FieldError::new("", "the request is invalid"));
        let message = if list.len() == 1 {
            first.message.clone()
        } else {
            format!("{} (and {} more problems)", first.message, list.len() - 1)
        };
        let mut e = Self::new(StatusCode::BAD_REQUEST, "validation_failed", message);
        e.body.field = Some(first.field).filter(|f| !f.is_empty());
        if let Some(hint) = first.hint {
            e.body.hint = hint;
        }
        e.body.errors = list;
        e
    }

    /// Logs the full chain once and answers with an opaque message.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "mailgate could not complete the request; the server log has the details",
        )
        .hint("try again; if it keeps failing, the server log says why")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => Self::invalid(errors),
            ServiceError::NotFound { .. } => {
                Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
                    .hint("list the existing ones with GET on the collection")
            }
            ServiceError::NameTaken { .. } => {
                Self::new(StatusCode::CONFLICT, "name_taken", e.to_string())
                    .field("name")
                    .hint("choose another name, or update the existing one")
            }
            ServiceError::InUse { .. } => Self::new(StatusCode::CONFLICT, "in_use", e.to_string())
                .hint("delete or re-link those first"),
            ServiceError::SecretRequired { secret, .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "secret_required", e.to_string())
                    .field(secret)
                    .hint(format!(
                        "give `{secret}` again in the same request: a stored secret is never sent to a new destination"
                    ))
            }
            ServiceError::Store(inner) => Self::store(inner),
            ServiceError::Secret(SecretError::Store(inner)) => Self::store(inner),
            ServiceError::Secret(_) => Self::internal(chain(&e)),
        }
    }
}

impl ApiError {
    /// A store failure: `507 storage_full` when the disk is full (nothing was written; the
    /// same request can be sent again once there is room), otherwise an opaque 500.
    pub fn store(e: StoreError) -> Self {
        if e.is_full() {
            tracing::warn!(error = %chain(&e), "a write was refused: the database's disk is full");
            return Self::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                "mailgate's storage is full: nothing was written",
            )
            .hint("free space on the disk of the data directory (storage.data_dir) or of the database server, then send the request again");
        }
        Self::internal(chain(&e))
    }
}
