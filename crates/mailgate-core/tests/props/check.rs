//! The check the property tests (`tests/props`) and the fuzz target (`fuzz/`) share: the
//! configuration loader gives settings, or problems that each say where and what.

use mailgate_core::config::{ConfigErrors, Settings, Sources, load};

/// Loads `file` (written to a temporary file) with `env`; checks what an error must say.
pub fn check(file: Option<&str>, env: Vec<(String, String)>) -> Option<Settings> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("mailgate.toml");
    if let Some(text) = file {
        std::fs::write(&path, text).expect("write the file");
    }
    let sources = Sources {
        file: file.map(|_| path),
        env,
        flags: Vec::new(),
    };
    match load(&sources) {
        Ok(settings) => Some(settings),
        Err(ConfigErrors(problems)) => {
            assert!(!problems.is_empty(), "an error without a problem");
            for p in &problems {
                assert!(!p.key.is_empty() && !p.message.is_empty(), "{p:?}");
                assert!(!p.origin.is_empty(), "{p:?}");
            }
            let _ = ConfigErrors(problems).to_string();
            None
        }
    }
}
