//! Property tests of the configuration loader: any file, any `MAILGATE__*` override, gives
//! settings or a list of problems that each name a key and say what is wrong; never a panic.
//! The cases are bounded so that `cargo test` stays fast; `fuzz/` runs the loader for longer
//! (see the README, "Fuzzing").

mod check;

use check::check;
use mailgate_core::config::{ConfigErrors, Sources, load};
use proptest::prelude::*;

const KEYS: &[(&str, &str)] = &[
    ("server", "listen"),
    ("server", "base_url"),
    ("storage", "data_dir"),
    ("database", "url"),
    ("database", "max_connections"),
    ("secrets", "master_key_file"),
    ("secrets", "master_key"),
    ("log", "level"),
    ("log", "format"),
    ("receive", "max_message_bytes"),
    ("receive", "poll_interval_secs"),
    ("send", "max_attempts"),
    ("send", "retry_base_secs"),
    ("send", "retry_max_secs"),
    ("send", "concurrency"),
    ("send", "connections_per_server"),
    ("server", "unknown"),
    ("nosuch", "key"),
];

/// A TOML value of any type, as text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0i64..100_000).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<String>().prop_map(|s| toml::Value::String(s).to_string()),
        proptest::sample::select(
            &[
                "\"127.0.0.1:0\"",
                "\"[::1]:8025\"",
                "\"http://localhost:8025\"",
                "\"https://x/\"",
                "\"sqlite::memory:\"",
                "\"postgres://u:p@127.0.0.1:1/db\"",
                "\"debug\"",
                "\"json\"",
                "\"info,mailgate=trace\"",
                "\"AAAA\"",
                "\"\"",
                "\" \"",
                "[]",
                "[1, \"a\"]",
                "{}",
                "{ a = 1 }",
                "1979-05-27T07:32:00Z",
                "inf",
                "nan",
                "-0",
                "0x10",
                "1_000",
            ][..]
        )
        .prop_map(str::to_owned),
    ]
}

fn document() -> impl Strategy<Value = String> {
    proptest::collection::vec((proptest::sample::select(KEYS), value()), 0..12).prop_map(
        |entries| {
            let mut text = String::new();
            for ((section, key), value) in entries {
                text.push_str(&format!("[{section}]\n{key} = {value}\n"));
            }
            text
        },
    )
}

/// Found by the property test below: `MAILGATE__=x` was reported under an empty key.
#[test]
fn an_override_with_nothing_after_the_prefix_names_the_variable() {
    let sources = Sources {
        env: vec![("MAILGATE__".into(), "x".into())],
        ..Sources::default()
    };
    let Err(ConfigErrors(problems)) = load(&sources) else {
        panic!("MAILGATE__ was accepted");
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].key, "MAILGATE__");
    assert_eq!(
        problems[0].to_string(),
        "MAILGATE__ (from MAILGATE__): an override names a section and a key; \
         write MAILGATE__SECTION__KEY, e.g. MAILGATE__SERVER__LISTEN=127.0.0.1:8025"
    );
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        // The same cases on every run: CI never fails by chance.
        rng_seed: proptest::test_runner::RngSeed::Fixed(13),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_as_the_file_loads_or_names_its_problems(text in any::<String>()) {
        check(Some(&text), Vec::new());
    }

    #[test]
    fn any_values_of_known_keys_load_or_name_their_problems(text in document()) {
        if let Some(settings) = check(Some(&text), Vec::new()) {
            prop_assert!(settings.send.max_attempts > 0);
            prop_assert!(settings.send.concurrency > 0);
            prop_assert!(settings.send.connections_per_server > 0);
            prop_assert!(!settings.base_url.ends_with('/'));
        }
    }

    #[test]
    fn any_environment_override_loads_or_names_its_problem(
        name in prop_oneof![
            proptest::sample::select(KEYS).prop_map(|(s, k)| format!("MAILGATE__{}__{}", s.to_uppercase(), k.to_uppercase())),
            "MAILGATE__[A-Z_]{0,12}",
        ],
        value in any::<String>(),
    ) {
        check(None, vec![(name, value)]);
    }
}
