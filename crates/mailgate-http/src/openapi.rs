//! The OpenAPI document, assembled from the annotated handlers.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
