//! Configuration: defaults, then the TOML file, then `MAILGATE__SECTION__KEY` environment
//! variables, then command-line flags. Every problem is collected and reported at once, each
//! naming its key, where the value came from, and the fix.
//!
//! `settings.rs` holds what the service runs with, `reader.rs` the raw values and their
//! problems, `schema.rs` the keys, their defaults and how each is checked.

mod reader;
mod schema;
mod settings;

pub(crate) use reader::Raw;
pub use reader::{ConfigErrors, ConfigProblem};
pub use schema::EXAMPLE;
pub use settings::{HttpSettings, MasterKeySource, SendSettings, Settings, ThreadByTag};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to load from.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// `--config FILE` or `MAILGATE_CONFIG`.
    pub file: Option<PathBuf>,
    /// Environment variables (all of them; only `MAILGATE__*` are read).
    pub env: Vec<(String, String)>,
    /// Command-line flags as `(section.key, value, flag name)`.
    pub flags: Vec<(String, String, String)>,
}

impl Sources {
    /// The file named by `--config` or else `MAILGATE_CONFIG`, and the process environment.
    pub fn from_process(config_flag: Option<PathBuf>) -> Self {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let file = config_flag.or_else(|| {
            env.iter()
                .find(|(k, _)| k == "MAILGATE_CONFIG")
                .map(|(_, v)| PathBuf::from(v))
        });
        Self {
            file,
            env,
            flags: Vec::new(),
        }
    }

    pub fn flag(mut self, key: &str, value: Option<impl ToString>, flag: &str) -> Self {
        if let Some(value) = value {
            self.flags
                .push((key.to_owned(), value.to_string(), flag.to_owned()));
        }
        self
    }
}

/// Loads and checks the settings; every problem is reported, not just the first.
pub fn load(sources: &Sources) -> Result<Settings, ConfigErrors> {
    let mut problems = Vec::new();
    let mut values: BTreeMap<String, Raw> = BTreeMap::new();
    if let Some(path) = &sources.file {
        read_file(path, &mut values, &mut problems);
    }
    for (name, value) in &sources.env {
        let Some(rest) = name.strip_prefix("MAILGATE__") else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            problems.push(ConfigProblem {
                // `MAILGATE__=...` has nothing after the prefix: name the variable itself.
                key: match rest {
                    "" => name.clone(),
                    rest => rest.to_ascii_lowercase(),
                },
                origin: name.clone(),
                message: "an override names a section and a key".into(),
                hint: Some(
                    "write MAILGATE__SECTION__KEY, e.g. MAILGATE__SERVER__LISTEN=127.0.0.1:8025"
                        .into(),
                ),
            });
            continue;
        };
        let key = format!(
            "{}.{}",
            section.to_ascii_lowercase(),
            key.to_ascii_lowercase()
        );
        values.insert(
            key,
            Raw {
                value: toml::Value::String(value.clone()),
                origin: name.clone(),
            },
        );
    }
    for (key, value, flag) in &sources.flags {
        values.insert(
            key.clone(),
            Raw {
                value: toml::Value::String(value.clone()),
                origin: flag.clone(),
            },
        );
    }
    let settings = schema::resolve(&values, &mut problems);
    match settings {
        Some(s) if problems.is_empty() => Ok(s),
        _ => Err(ConfigErrors(problems)),
    }
}

fn read_file(path: &Path, values: &mut BTreeMap<String, Raw>, problems: &mut Vec<ConfigProblem>) {
    let origin = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            problems.push(ConfigProblem {
                key: "config".into(),
                origin,
                message: format!("cannot read the configuration file: {e}"),
                hint: Some("check the path given with --config or MAILGATE_CONFIG; `mailgate config example` prints a starting point".into()),
            });
            return;
        }
    };
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            problems.push(ConfigProblem {
                key: "config".into(),
                origin,
                message: format!("not valid TOML: {e}"),
                hint: None,
            });
            return;
        }
    };
    for (section, body) in table {
        match body {
            toml::Value::Table(keys) => {
                for (key, value) in keys {
                    values.insert(
                        format!("{section}.{key}"),
                        Raw {
                            value,
                            origin: origin.clone(),
                        },
                    );
                }
            }
            _ => problems.push(ConfigProblem {
                key: section.clone(),
                origin: origin.clone(),
                message: "a top-level key must be a [section]".into(),
                hint: Some(format!(
                    "put `{section}` inside its section; `mailgate config example` lists them"
                )),
            }),
        }
    }
}
