use super::*;

fn gmail_imap() -> IncomingServerInput {
    serde_json::from_value(serde_json::json!({
        "name": "Support", "email": "support@example.com", "protocol": "imap", "host": "imap.gmail.com",
        "auth": "oauth", "oauth_app_id": "0b6f7a9e-3c1d-4e57-9a61-2f0c5d1e8b42",
        "filter": {"type": "allow", "domains": ["example.com"]}
    }))
    .unwrap()
}

#[test]
fn defaults_follow_the_protocol_and_security() {
    let spec = gmail_imap().parse(false).unwrap();
    assert_eq!(
        (spec.port, spec.security, spec.folder.as_str()),
        (993, Security::Ssl, "INBOX")
    );
    assert_eq!(spec.after_import, AfterImport::MarkSeen);
    assert!(spec.enabled && !spec.primary);
    let pop = IncomingServerInput {
        protocol: Some(IncomingProtocol::Pop3),
        security: Some(Security::Starttls),
        ..gmail_imap()
    }
    .parse(false)
    .unwrap();
    assert_eq!((pop.port, pop.after_import), (110, AfterImport::Keep));
}

#[test]
fn new_servers_import_from_now_and_stored_ones_keep_importing_all() {
    let spec = gmail_imap().parse(false).unwrap();
    assert_eq!(spec.import_from, ImportFrom::Now);
    let mut stored = serde_json::to_value(&spec).unwrap();
    assert_eq!(stored["import_from"], "now");
    stored.as_object_mut().unwrap().remove("import_from");
    let old: IncomingServerSpec = serde_json::from_value(stored).unwrap();
    assert_eq!(
        old.import_from,
        ImportFrom::All,
        "an upgrade changes nothing"
    );
    for (given, parsed) in [
        ("all", ImportFrom::All),
        ("unseen", ImportFrom::Unseen),
        (
            "2026-01-31",
            ImportFrom::Since(chrono::NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()),
        ),
    ] {
        let spec = IncomingServerInput {
            import_from: Some(given.into()),
            ..gmail_imap()
        }
        .parse(false)
        .unwrap();
        assert_eq!(spec.import_from, parsed);
        assert_eq!(serde_json::to_value(&spec).unwrap()["import_from"], given);
    }
}

#[test]
fn bulk_mail_is_ignored_unless_asked_and_stored_servers_ignore_it() {
    let spec = gmail_imap().parse(false).unwrap();
    assert_eq!(spec.bulk_mail, BulkMail::Ignore);
    let stored = serde_json::to_value(&spec).unwrap();
    assert!(stored.get("bulk_mail").is_none(), "{stored}");
    let spec = IncomingServerInput {
        bulk_mail: Some("create_tickets".into()),
        ..gmail_imap()
    }
    .parse(false)
    .unwrap();
    assert_eq!(spec.bulk_mail, BulkMail::CreateTickets);
    let stored = serde_json::to_value(&spec).unwrap();
    assert_eq!(stored["bulk_mail"], "create_tickets");
    let back: IncomingServerSpec = serde_json::from_value(stored).unwrap();
    assert_eq!(back.bulk_mail, BulkMail::CreateTickets);
    let error = BulkMail::parse("tickets").unwrap_err().to_string();
    assert!(
        error.contains("`tickets`") && error.contains("create_tickets"),
        "{error}"
    );
}

#[test]
fn the_spec_round_trips_through_json() {
    let spec = gmail_imap().parse(false).unwrap();
    let back: IncomingServerSpec =
        serde_json::from_value(serde_json::to_value(&spec).unwrap()).unwrap();
    assert_eq!(back, spec);
}

#[test]
fn each_mistake_names_its_field() {
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (serde_json::json!({"port": 0}), "port"),
        (serde_json::json!({"email": "support"}), "email"),
        (serde_json::json!({"oauth_app_id": null}), "oauth_app_id"),
        (
            serde_json::json!({"security": "starttls", "port": 993}),
            "security",
        ),
        (serde_json::json!({"after_import": "move"}), "move_to"),
        (serde_json::json!({"after_import": "keep"}), "after_import"),
        (
            serde_json::json!({"filter": {"type": "ignore", "domains": ["@gmail.com"]}}),
            "filter.domains[0]",
        ),
        (serde_json::json!({"proxy": "socks4://h:1"}), "proxy"),
        (serde_json::json!({"auth": "basic"}), "oauth_app_id"),
        (
            serde_json::json!({"import_from": "yesterday"}),
            "import_from",
        ),
        (serde_json::json!({"bulk_mail": "tickets"}), "bulk_mail"),
        (
            serde_json::json!({"import_from": "2026-02-30"}),
            "import_from",
        ),
        (
            serde_json::json!({"protocol": "pop3", "port": 995, "import_from": "unseen"}),
            "import_from",
        ),
        (
            serde_json::json!({"protocol": "pop3", "port": 995, "import_from": "2026-01-01"}),
            "import_from",
        ),
    ];
    for (patch, field) in cases {
        let mut body = serde_json::to_value(serde_json::json!({
            "name": "Support", "email": "support@example.com", "protocol": "imap", "host": "imap.gmail.com",
            "auth": "oauth", "oauth_app_id": "0b6f7a9e-3c1d-4e57-9a61-2f0c5d1e8b42"
        }))
        .unwrap();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let input: IncomingServerInput = serde_json::from_value(body).unwrap();
        let errors = input.parse(false).unwrap_err();
        assert!(
            errors.errors().iter().any(|e| e.field == field),
            "{patch}: {errors}"
        );
    }
}

#[test]
fn basic_needs_a_password_once_and_oauth_refuses_one() {
    let basic = IncomingServerInput {
        auth: Some(AuthKind::Basic),
        oauth_app_id: None,
        ..gmail_imap()
    };
    assert_eq!(
        basic.clone().parse(false).unwrap_err().errors()[0].field,
        "password"
    );
    let spec = basic.parse(true).unwrap();
    assert_eq!(
        spec.auth,
        Auth::Basic {
            username: "support@example.com".into()
        }
    );
    let oauth_with_password = IncomingServerInput {
        password: Some("x".into()),
        ..gmail_imap()
    };
    assert_eq!(
        oauth_with_password.parse(false).unwrap_err().errors()[0].field,
        "password"
    );
}
