use mailgate_testkit::spawn_app;
use serde_json::json;

#[tokio::test]
async fn malformed_bodies_answer_in_the_error_contract() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/oauth-apps", app.address);
    let send = |body: &'static str, content_type: &'static str| {
        app.http
            .post(&url)
            .bearer_auth(&app.token)
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    let cases = [
        (
            send("{\"name\": ", "application/json").await.unwrap(),
            400,
            "malformed_json",
        ),
        (
            send("", "application/json").await.unwrap(),
            400,
            "body_required",
        ),
        (
            send("name=x", "application/x-www-form-urlencoded")
                .await
                .unwrap(),
            415,
            "unsupported_media_type",
        ),
        (
            send("[1, 2]", "application/json").await.unwrap(),
            400,
            "validation_failed",
        ),
    ];
    for (res, status, code) in cases {
        assert_eq!(res.status(), status);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"], code, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(
            body["hint"].as_str().is_some_and(|h| !h.is_empty()),
            "{body}"
        );
    }
}

#[tokio::test]
async fn unknown_routes_ids_and_methods_answer_in_the_error_contract() {
    let app = spawn_app().await;
    let missing = app.get("/api/v1/nothing-here").await;
    assert_eq!(
        (missing.status, missing.body["error"].as_str()),
        (404, Some("not_found"))
    );
    let id = app.get("/api/v1/oauth-apps/not-an-id").await;
    assert_eq!(
        (id.status, id.body["error"].as_str()),
        (404, Some("not_found"))
    );
    let ghost = app
        .get("/api/v1/incoming-servers/0b6f7a9e-3c1d-4e57-9a61-2f0c5d1e8b42")
        .await;
    assert_eq!(ghost.status, 404);
    assert!(
        ghost.body["message"]
            .as_str()
            .unwrap()
            .contains("no incoming server has the id")
    );
    let method = app
        .request(reqwest::Method::PUT, "/api/v1/oauth-apps", Some(json!({})))
        .await;
    assert_eq!(
        (method.status, method.body["error"].as_str()),
        (405, Some("method_not_allowed"))
    );
}

#[tokio::test]
async fn all_problems_of_one_body_come_back_together() {
    let app = spawn_app().await;
    let answer = app
        .post("/api/v1/incoming-servers", json!({"name": "", "email": "nobody", "protocol": "pop3", "host": "pop.gmail.com", "port": 995, "auth": "basic", "after_import": "mark_seen", "folder": "Archive"}))
        .await;
    assert_eq!(answer.status, 400);
    let fields: Vec<&str> = answer.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["name", "email", "password", "folder", "after_import"],
        "{}",
        answer.body
    );
    assert_eq!(answer.body["field"], "name");
}
