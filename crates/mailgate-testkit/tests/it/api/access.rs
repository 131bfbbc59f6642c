use mailgate_testkit::spawn_app;

#[tokio::test]
async fn every_api_route_needs_a_valid_bearer_token() {
    let app = spawn_app().await;
    for (auth, why) in [
        (None, "this API needs an admin token"),
        (Some("Basic YWRtaW46YWRtaW4="), "not `Bearer <token>`"),
        (Some("Bearer mgt_not-a-token"), "not valid"),
    ] {
        for path in [
            "/api/v1/oauth-apps",
            "/api/v1/service-accounts",
            "/api/v1/incoming-servers",
            "/api/v1/outgoing-servers/x",
        ] {
            let mut req = app.http.get(format!("{}{path}", app.address));
            if let Some(auth) = auth {
                req = req.header("Authorization", auth);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 401, "{path} with {auth:?}");
            assert_eq!(res.headers()["www-authenticate"], "Bearer");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["error"], "unauthorized");
            assert!(body["message"].as_str().unwrap().contains(why), "{body}");
            assert!(
                body["hint"]
                    .as_str()
                    .unwrap()
                    .contains("mailgate admin token create")
            );
        }
    }
}

#[tokio::test]
async fn health_and_openapi_are_public_and_the_document_matches_the_routes() {
    let app = spawn_app().await;
    let health: serde_json::Value = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], "sqlite");

    let doc: serde_json::Value = app
        .http
        .get(format!("{}/api/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for resource in [
        "oauth-apps",
        "service-accounts",
        "incoming-servers",
        "outgoing-servers",
    ] {
        let collection = &doc["paths"][format!("/api/v1/{resource}")];
        assert!(
            collection["post"].is_object() && collection["get"].is_object(),
            "{resource}"
        );
        let item = &doc["paths"][format!("/api/v1/{resource}/{{id}}")];
        for method in ["get", "patch", "delete"] {
            assert!(item[method].is_object(), "{resource} {method}");
        }
        // Each documented route answers (401 without a token, never 404 or 405).
        let status = app
            .http
            .get(format!("{}/api/v1/{resource}", app.address))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "{resource}");
    }
    assert!(doc["components"]["securitySchemes"]["admin_token"].is_object());

    app.get("/api/v1/oauth-apps").await;
    let metrics = app
        .http
        .get(format!("{}/metrics", app.address))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("mailgate_http_requests_total{method=\"GET\",route=\"/api/v1/oauth-apps\",status=\"200\"}"), "{metrics}");
}
