use super::connected_server;
use mailgate_testkit::spawn_app;

#[tokio::test]
async fn doctor_passes_a_connected_server_and_fails_a_broken_one_with_its_fix() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let (_, good, _) = connected_server(&app, &oauth, "doctor-ok").await;
    let (_, pending) = app.stack_imap_server(&oauth, "doctor-pending").await;

    let report = app.get("/api/v1/doctor").await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.body["ok"], false);
    let checks = report.body["checks"].as_array().unwrap();
    let of = |server: &serde_json::Value, check: &str| {
        checks
            .iter()
            .find(|c| c["server_id"] == server["id"] && c["check"] == check)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(of(&good, "credential")["outcome"], "pass", "{checks:?}");
    assert_eq!(of(&good, "scopes")["outcome"], "pass");
    assert_eq!(of(&good, "redirect_uri")["outcome"], "pass");
    let clock = of(&good, "clock");
    assert_eq!(
        clock["outcome"], "pass",
        "the emulator's Date header agrees with the real clock: {clock}"
    );
    let broken = of(&pending, "credential");
    assert_eq!(
        (broken["outcome"].as_str(), broken["code"].as_str()),
        (Some("fail"), Some("authorization_required"))
    );
    assert!(broken["hint"].as_str().unwrap().contains("authorize"));

    // A clock that drifted is caught.
    app.clock.advance_secs(600);
    let report = app.get("/api/v1/doctor").await.body;
    let skew = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["server_id"] == good["id"] && c["check"] == "clock")
        .cloned()
        .unwrap();
    assert_eq!(
        (skew["outcome"].as_str(), skew["code"].as_str()),
        (Some("fail"), Some("clock_skew")),
        "{skew}"
    );
}
