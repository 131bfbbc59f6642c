use super::super::{Sources, load};
use std::io::Write;

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn defaults_give_sqlite_in_the_data_dir_on_loopback() {
    let s = load(&Sources::default()).unwrap();
    assert_eq!(s.listen.to_string(), "127.0.0.1:8025");
    assert_eq!(s.redirect_uri(), "http://127.0.0.1:8025/oauth/callback");
    assert_eq!(
        s.database_url.to_string(),
        "sqlite://./mailgate-data/mailgate.db"
    );
}

#[test]
fn the_shipped_example_loads_as_it_is() {
    let f = file(super::EXAMPLE);
    load(&Sources {
        file: Some(f.path().into()),
        ..Default::default()
    })
    .unwrap();
}

#[test]
fn the_http_limits_default_to_a_closed_metrics_endpoint_and_bounded_clients() {
    let defaults = load(&Sources::default()).unwrap().http;
    assert_eq!(defaults, super::HttpSettings::default());
    assert!(!defaults.metrics_public);
    let f = file(
        "[server]\nmetrics_public = true\nheader_read_timeout_secs = 5\nmax_connections = 64\n",
    );
    let set = load(&Sources {
        file: Some(f.path().into()),
        ..Default::default()
    })
    .unwrap()
    .http;
    assert!(set.metrics_public);
    assert_eq!(set.header_read_timeout.as_secs(), 5);
    assert_eq!(set.max_connections, 64);

    let f = file("[server]\nmetrics_public = \"yes\"\nidle_timeout_secs = 0\n");
    let errors = load(&Sources {
        file: Some(f.path().into()),
        ..Default::default()
    })
    .unwrap_err();
    let keys: Vec<_> = errors.0.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["server.metrics_public", "server.idle_timeout_secs"]);
}

#[test]
fn thread_by_tag_defaults_to_participants_and_names_its_key() {
    use super::super::ThreadByTag;
    let s = load(&Sources::default()).unwrap();
    assert_eq!(s.receive_thread_by_tag, ThreadByTag::ParticipantsOrMailbox);
    let with = |text: &str| {
        let f = file(text);
        load(&Sources {
            file: Some(f.path().into()),
            ..Default::default()
        })
    };
    let s = with("[receive]\nthread_by_tag = \"any\"\n").unwrap();
    assert_eq!(s.receive_thread_by_tag, ThreadByTag::Any);
    let errors = with("[receive]\nthread_by_tag = \"everyone\"\n").unwrap_err();
    assert_eq!(errors.0[0].key, "receive.thread_by_tag");
    assert!(
        errors.0[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("participants_or_mailbox")
    );
}

#[test]
fn every_problem_is_listed_with_its_key_and_origin() {
    let f = file(
        "[server]\nlisten = \"nowhere\"\ncolour = \"blue\"\n[database]\nmax_connections = 0\n[loggin]\nlevel = \"info\"\n",
    );
    let env = vec![
        ("MAILGATE__LOG__FORMAT".to_owned(), "xml".to_owned()),
        ("PATH".to_owned(), "/bin".to_owned()),
    ];
    let errors = load(&Sources {
        file: Some(f.path().into()),
        env,
        flags: vec![],
    })
    .unwrap_err();
    let keys: Vec<_> = errors.0.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "loggin.level",
            "server.colour",
            "server.listen",
            "database.max_connections",
            "log.format"
        ]
    );
    let format = errors.0.iter().find(|p| p.key == "log.format").unwrap();
    assert_eq!(format.origin, "MAILGATE__LOG__FORMAT");
    assert!(
        errors.0[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("the sections are")
    );
    assert!(
        errors.0[1]
            .hint
            .as_deref()
            .unwrap()
            .contains("server.listen")
    );
}

#[test]
fn environment_beats_file_and_flags_beat_environment() {
    let f = file("[server]\nlisten = \"127.0.0.1:1111\"\n");
    let env = vec![(
        "MAILGATE__SERVER__LISTEN".to_owned(),
        "127.0.0.1:2222".to_owned(),
    )];
    let s = load(&Sources {
        file: Some(f.path().into()),
        env: env.clone(),
        flags: vec![],
    })
    .unwrap();
    assert_eq!(s.listen.port(), 2222);
    let s = load(
        &Sources {
            file: Some(f.path().into()),
            env,
            flags: vec![],
        }
        .flag("server.listen", Some("127.0.0.1:3333"), "--listen"),
    )
    .unwrap();
    assert_eq!(s.listen.port(), 3333);
}

#[test]
fn a_public_listener_needs_an_https_base_url() {
    let env = |pairs: &[(&str, &str)]| Sources {
        env: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let e = load(&env(&[("MAILGATE__SERVER__LISTEN", "0.0.0.0:8025")])).unwrap_err();
    assert_eq!(e.0[0].key, "server.base_url");
    let e = load(&env(&[(
        "MAILGATE__SERVER__BASE_URL",
        "http://mail.example.com",
    )]))
    .unwrap_err();
    assert!(e.0[0].hint.as_deref().unwrap().contains("HTTPS"));
    let s = load(&env(&[
        ("MAILGATE__SERVER__LISTEN", "0.0.0.0:8025"),
        ("MAILGATE__SERVER__BASE_URL", "https://mail.example.com/"),
    ]))
    .unwrap();
    assert_eq!(s.redirect_uri(), "https://mail.example.com/oauth/callback");
}

#[test]
fn a_master_key_is_checked_and_never_shown() {
    let env = vec![(
        "MAILGATE__SECRETS__MASTER_KEY".to_owned(),
        "too-short".to_owned(),
    )];
    let e = load(&Sources {
        env,
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.0[0].key, "secrets.master_key");
    assert!(!e.to_string().contains("too-short"));
}
