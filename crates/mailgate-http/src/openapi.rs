//! The OpenAPI document, assembled from the annotated handlers.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "mailgate", description = "Self-hosted email channel: OAuth2 mailboxes in, tickets and events out, mail sent with fallback."),
    modifiers(&AdminToken),
    components(schemas(crate::error::ErrorBody, mailgate_domain::FieldError))
)]
pub struct ApiDoc;

struct AdminToken;

impl Modify for AdminToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `mailgate admin token create`"))
                    .build(),
            ),
        );
    }
}

/// The answers any admin API operation may give besides its own: 401 without a valid token,
/// 408, 414 and 431 from the request limits, 500 when mailgate fails; each in the error shape.
/// Applied to the finished document (the routes' operations are added after `ApiDoc`'s own
/// modifiers run).
pub struct SharedErrors;

const SHARED: [(&str, &str); 5] = [
    ("401", "No valid admin token (`unauthorized`)"),
    ("408", "The request took too long (`request_timeout`)"),
    ("414", "The URI is too long (`uri_too_long`)"),
    ("431", "Too many or too large headers (`headers_too_large`)"),
    (
        "500",
        "mailgate failed (`internal`); the server log has the details",
    ),
];

impl Modify for SharedErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_shared_errors(operation);
            }
        }
    }
}

fn add_shared_errors(operation: &mut Operation) {
    for (status, description) in SHARED {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description).into());
    }
}

/// An answer with the error body, described.
fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}
