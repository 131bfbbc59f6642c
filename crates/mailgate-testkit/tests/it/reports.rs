//! Test Connection reports as the API answers them, for the incoming and outgoing tests.

use mailgate_testkit::TestApp;
use serde_json::{Value, json};

/// `POST /api/v1/{direction}-servers/{id}/test`, which answers 200 whatever the outcome.
pub async fn test_connection(app: &TestApp, direction: &str, id: &Value) -> Value {
    let id = id.as_str().expect("a server id");
    let report = app
        .post(&format!("/api/v1/{direction}-servers/{id}/test"), json!({}))
        .await;
    assert_eq!(report.status, 200, "{}", report.body);
    report.body
}

/// The report's step called `name`.
pub fn step<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {report:#}"))
}

/// The report's steps, in order.
pub fn names(report: &Value) -> Vec<&str> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect()
}

/// Asserts that the report stopped at its `tls` step (after `credential` and `connect`) with
/// the diagnosis `code`, and returns that step.
pub fn stopped_at_tls<'a>(report: &'a Value, code: &str) -> &'a Value {
    assert_eq!(report["ok"], false, "{report:#}");
    assert_eq!(
        names(report),
        ["credential", "connect", "tls"],
        "{report:#}"
    );
    let tls = step(report, "tls");
    assert_eq!(tls["ok"], false, "{tls:#}");
    assert_eq!(tls["diagnosis"]["code"], code, "{tls:#}");
    tls
}
