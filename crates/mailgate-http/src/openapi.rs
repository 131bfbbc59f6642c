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

/// Adds links from each create answer (`POST` on a collection, 201/202) to the operations on
/// the object it made (`{collection}/{id}` and below), with `id` from the answer's body: clients
/// and Schemathesis' stateful tests follow them to real objects. Done on the JSON because
/// utoipa 5 writes a link's `operationId` as `operation_id`.
pub fn add_created_links(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let operation_ids = |item: &serde_json::Value| -> Vec<String> {
        ["get", "put", "post", "delete", "patch"]
            .iter()
            .filter_map(|m| item[m]["operationId"].as_str().map(str::to_owned))
            .collect()
    };
    let mut links = Vec::new();
    for (collection, item) in paths.iter() {
        let prefix = format!("{collection}/{{id}}");
        let targets: Vec<String> = paths
            .iter()
            .filter(|(path, _)| path.starts_with(&prefix))
            .flat_map(|(_, item)| operation_ids(item))
            .collect();
        if item.get("post").is_some() && !targets.is_empty() {
            links.push((collection.clone(), targets));
        }
    }
    for (collection, targets) in links {
        let Some(responses) = paths[&collection]["post"]["responses"].as_object_mut() else {
            continue;
        };
        for status in ["201", "202"] {
            let Some(response) = responses.get_mut(status).and_then(|r| r.as_object_mut()) else {
                continue;
            };
            let map: serde_json::Map<String, serde_json::Value> = targets
                .iter()
                .map(|target| {
                    let link = serde_json::json!({
                        "operationId": target,
                        "parameters": {"id": "$response.body#/id"},
                    });
                    (target.clone(), link)
                })
                .collect();
            response.insert("links".to_owned(), map.into());
        }
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
