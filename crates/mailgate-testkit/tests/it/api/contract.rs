//! Every refusal is the one JSON error shape, including those made before a handler runs: bad
//! query values, unreadable path segments, too long URIs, too many headers; and the token is
//! checked before anything else is said about a route.

use mailgate_testkit::{TestConfig, spawn_app, spawn_app_with};
use serde_json::Value;

/// Status, content type and the JSON body (which must parse) of a raw answer.
async fn read(res: reqwest::Response) -> (u16, String, Value) {
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{status} {content_type}: not JSON: {text:?}"));
    (status, content_type, body)
}

fn assert_contract(answer: &(u16, String, Value), status: u16, code: &str) {
    let (got, content_type, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(content_type, "application/json");
    assert_eq!(body["error"], code, "{body}");
    for key in ["message", "hint"] {
        assert!(
            body[key].as_str().is_some_and(|s| !s.is_empty()),
            "{key}: {body}"
        );
    }
}

#[tokio::test]
async fn bad_query_values_and_unreadable_paths_answer_in_the_error_contract() {
    let app = spawn_app().await;
    let get = |path: &str| {
        app.http
            .get(format!("{}{path}", app.address))
            .bearer_auth(&app.token)
            .send()
    };
    for (path, field) in [
        ("/api/v1/events?limit=abc", "limit"),
        ("/api/v1/tickets?before=yesterday", "before"),
        ("/api/v1/messages?ticket=%23one", "ticket"),
    ] {
        let answer = read(get(path).await.unwrap()).await;
        assert_contract(&answer, 400, "invalid_query");
        assert_eq!(answer.2["field"], field, "{path}: {}", answer.2);
    }
    // %FF is no UTF-8: no object can have that id.
    let answer = read(get("/api/v1/oauth-apps/%FF%FE").await.unwrap()).await;
    assert_contract(&answer, 404, "not_found");
}

#[tokio::test]
async fn too_long_uris_and_too_many_headers_answer_in_the_error_contract() {
    let app = spawn_app().await;
    let long = format!("{}/api/v1/tickets?q={}", app.address, "a".repeat(20_000));
    let res = app
        .http
        .get(long)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_contract(&read(res).await, 414, "uri_too_long");

    let mut req = app
        .http
        .get(format!("{}/api/v1/tickets", app.address))
        .bearer_auth(&app.token);
    for n in 0..150 {
        req = req.header(format!("x-extra-{n}"), "1");
    }
    assert_contract(
        &read(req.send().await.unwrap()).await,
        431,
        "headers_too_large",
    );

    let big = app
        .http
        .get(format!("{}/api/v1/tickets", app.address))
        .bearer_auth(&app.token)
        .header("cookie", "c".repeat(70_000))
        .send()
        .await
        .unwrap();
    assert_contract(&read(big).await, 431, "headers_too_large");
}

#[tokio::test]
async fn without_a_token_no_route_method_or_absence_is_revealed() {
    let app = spawn_app().await;
    for (method, path) in [
        (reqwest::Method::PUT, "/api/v1/oauth-apps"),
        (reqwest::Method::DELETE, "/api/v1/tickets"),
        (reqwest::Method::GET, "/api/v1/nothing-here"),
        (reqwest::Method::GET, "/api/v1"),
    ] {
        let res = app
            .http
            .request(method.clone(), format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_contract(&read(res).await, 401, "unauthorized");
    }
    // With the token, the same requests are told what is wrong.
    let method = app
        .request(reqwest::Method::PUT, "/api/v1/oauth-apps", None)
        .await;
    assert_eq!(method.status, 405);
    assert_eq!(app.get("/api/v1/nothing-here").await.status, 404);
}

async fn metrics(app: &mailgate_testkit::TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(format!("{}/metrics", app.address));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn metrics_need_a_token_unless_configured_public() {
    let app = spawn_app().await;
    assert_contract(&read(metrics(&app, None).await).await, 401, "unauthorized");
    assert_contract(
        &read(metrics(&app, Some("mgt_not-a-token")).await).await,
        401,
        "unauthorized",
    );
    let res = metrics(&app, Some(&app.token)).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("mailgate_http_requests_total")
    );

    let public = spawn_app_with(TestConfig::default().set("server.metrics_public", true)).await;
    assert_eq!(metrics(&public, None).await.status(), 200);
    // The API itself still needs the token.
    let res = public
        .http
        .get(format!("{}/api/v1/tickets", public.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn metrics_label_requests_by_route_pattern_and_known_methods_only() {
    let app = spawn_app().await;
    let send = |method: &str, path: &str| {
        app.http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", app.address),
            )
            .bearer_auth(&app.token)
            .send()
    };
    send(
        "GET",
        "/api/v1/oauth-apps/3f1d6c0e-0000-4000-8000-000000000001",
    )
    .await
    .unwrap();
    send("BREW-COFFEE-4711", "/api/v1/oauth-apps")
        .await
        .unwrap();
    send("GET", "/no/such/route/4711").await.unwrap();
    let text = metrics(&app, Some(&app.token)).await.text().await.unwrap();
    let requests: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("mailgate_http_requests_total{"))
        .collect();
    assert!(
        requests
            .iter()
            .any(|l| l.contains("method=\"GET\",route=\"/api/v1/oauth-apps/{id}\",status=\"404\"")),
        "{requests:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|l| l.contains("method=\"other\",route=\"/api/v1/oauth-apps\",status=\"405\"")),
        "{requests:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|l| l.contains("route=\"unmatched\",status=\"404\"")),
        "{requests:#?}"
    );
    // Only the labels are checked: a value (a byte count, a duration) may hold the digits.
    let labels: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| Some(&l[l.find('{')?..=l.rfind('}')?]))
        .collect();
    assert!(!labels.is_empty(), "{text}");
    for secret in ["BREW", "4711", "3f1d6c0e"] {
        assert!(
            labels.iter().all(|l| !l.contains(secret)),
            "{secret} leaked into a label: {labels:#?}"
        );
    }
}
