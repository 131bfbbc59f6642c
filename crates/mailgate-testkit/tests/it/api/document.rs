//! `/api/openapi.json` describes what the routes take and answer, so generated clients work.

use mailgate_testkit::spawn_app;
use serde_json::Value;
use std::collections::BTreeSet;

async fn document() -> Value {
    let app = spawn_app().await;
    app.http
        .get(format!("{}/api/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every operation of the document: `(path, method, operation)`.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                all.push((path.clone(), method.clone(), operation.clone()));
            }
        }
    }
    all
}

#[tokio::test]
async fn a_path_parameter_is_one_the_path_template_names_and_the_rest_are_query_parameters() {
    let doc = document().await;
    let mut query = BTreeSet::new();
    for (path, method, operation) in operations(&doc) {
        let empty = Vec::new();
        for parameter in operation["parameters"].as_array().unwrap_or(&empty) {
            let name = parameter["name"].as_str().unwrap();
            match parameter["in"].as_str().unwrap() {
                "path" => assert!(
                    path.contains(&format!("{{{name}}}")),
                    "{method} {path}: `{name}` is declared in the path, which has no {{{name}}}"
                ),
                "query" => {
                    assert_ne!(
                        parameter["required"],
                        Value::Bool(true),
                        "{method} {path}: `{name}` is optional"
                    );
                    query.insert(format!("{method} {path} {name}"));
                }
                other => panic!("{method} {path}: `{name}` is in {other}"),
            }
        }
        // And every {name} of the template is declared.
        for piece in path.split('/').filter(|p| p.starts_with('{')) {
            let name = piece.trim_matches(['{', '}']);
            assert!(
                operation["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path")),
                "{method} {path}: {piece} is not declared"
            );
        }
    }
    for expected in [
        "get /api/v1/events limit",
        "get /api/v1/messages status",
        "get /api/v1/tickets q",
    ] {
        assert!(query.contains(expected), "{expected} in {query:?}");
    }
}

#[tokio::test]
async fn operations_have_unique_ids_and_every_error_answer_is_the_error_shape() {
    let doc = document().await;
    let mut ids = BTreeSet::new();
    for (path, method, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap().to_owned();
        assert!(
            ids.insert(id.clone()),
            "{method} {path}: {id} is used twice"
        );
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let responses = operation["responses"].as_object().unwrap();
        for status in ["401", "500"] {
            assert!(responses.contains_key(status), "{method} {path}: {status}");
        }
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
    let error = &doc["components"]["schemas"]["ErrorBody"];
    let required: BTreeSet<&str> = error["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, BTreeSet::from(["error", "message", "hint"]));
}

/// Issue 19: `import_from` is in what an incoming server takes and what it answers.
#[tokio::test]
async fn incoming_servers_document_import_from() {
    let doc = document().await;
    for schema in ["IncomingServerInput", "IncomingServerView"] {
        let field = &doc["components"]["schemas"][schema]["properties"]["import_from"];
        assert!(
            field.to_string().contains("\"string\""),
            "{schema}: {field}"
        );
        assert!(
            field["description"]
                .as_str()
                .unwrap_or_default()
                .contains("`now`")
        );
    }
}

#[tokio::test]
async fn incoming_servers_document_bulk_mail_and_messages_their_bulk_flag() {
    let doc = document().await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["BulkMail"]["enum"],
        serde_json::json!(["ignore", "create_tickets"]),
        "{}",
        schemas["BulkMail"]
    );
    for schema in ["IncomingServerInput", "IncomingServerView"] {
        let field = &schemas[schema]["properties"]["bulk_mail"];
        assert!(field.to_string().contains("BulkMail"), "{schema}: {field}");
    }
    assert_eq!(
        schemas["MessageView"]["properties"]["bulk"]["type"], "boolean",
        "{}",
        schemas["MessageView"]
    );
}
