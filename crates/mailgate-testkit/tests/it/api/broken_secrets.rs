//! One object whose stored secrets cannot be decrypted does not break the list it is in.

use mailgate_store::ObjectKind;
use mailgate_testkit::spawn_app;
use serde_json::json;

#[tokio::test]
async fn a_server_whose_secret_cannot_be_decrypted_is_listed_as_broken_among_the_others() {
    let app = spawn_app().await;
    let smtp = |name: &str| json!({"name": name, "email": "n@example.com", "protocol": "smtp", "host": "smtp.example.com", "auth": "basic", "password": "p"});
    let mut ids = Vec::new();
    for name in ["Good", "Damaged"] {
        let created = app.post("/api/v1/outgoing-servers", smtp(name)).await;
        assert_eq!(created.status, 201, "{}", created.body);
        ids.push(created.body["id"].as_str().unwrap().to_owned());
    }
    // One flipped bit in the damaged server's sealed secrets.
    let damaged: mailgate_domain::Id = ids[1].parse().unwrap();
    let mut row = app
        .core
        .store
        .get_object(ObjectKind::OutgoingServer, damaged)
        .await
        .unwrap()
        .unwrap();
    let mut sealed = row.sealed.unwrap().into_vec();
    *sealed.last_mut().unwrap() ^= 1;
    row.sealed = Some(sealed.into());
    app.core.store.update_object(&row).await.unwrap();

    let listed = app.get("/api/v1/outgoing-servers").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let servers = listed.body.as_array().unwrap();
    assert_eq!(servers.len(), 2, "{}", listed.body);
    let good = servers.iter().find(|s| s["id"] == ids[0]).unwrap();
    assert!(good.get("error").is_none(), "{good}");
    assert_eq!(good["has_password"], true);
    let broken = servers.iter().find(|s| s["id"] == ids[1]).unwrap();
    let error = broken["error"].as_str().expect("the broken one says why");
    assert!(
        error.contains(&ids[1]) && error.contains("cannot be decrypted"),
        "{error}"
    );
    assert_eq!(broken["name"], "Damaged");
}
