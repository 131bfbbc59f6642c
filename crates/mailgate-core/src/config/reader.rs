//! The raw values read from the file, the environment and the flags, each with where it came
//! from; the problems found in them; and a reader that turns a value into a type or a problem.

use std::collections::BTreeMap;

/// A raw value and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub value: toml::Value,
    pub origin: String,
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// `section.key`
    pub key: String,
    /// The file, the environment variable or the flag the value came from.
    pub origin: String,
    pub message: String,
    pub hint: Option<String>,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (from {}): {}", self.key, self.origin, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// All the problems found; `Display` puts one per line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

pub(super) struct Reader<'a> {
    pub values: &'a BTreeMap<String, Raw>,
    pub problems: &'a mut Vec<ConfigProblem>,
}

impl Reader<'_> {
    pub fn problem(&mut self, key: &str, message: impl Into<String>, hint: impl Into<String>) {
        let origin = self
            .values
            .get(key)
            .map(|r| r.origin.clone())
            .unwrap_or_else(|| "default".into());
        self.problems.push(ConfigProblem {
            key: key.into(),
            origin,
            message: message.into(),
            hint: Some(hint.into()),
        });
    }

    /// A string value; empty strings count as unset so the example file can show them.
    pub fn string(&mut self, key: &str) -> Option<String> {
        match &self.values.get(key)?.value {
            toml::Value::String(s) if s.trim().is_empty() => None,
            toml::Value::String(s) => Some(s.trim().to_owned()),
            other => {
                let kind = other.type_str();
                self.problem(
                    key,
                    format!("expected a string, found a {kind}"),
                    "put the value in double quotes",
                );
                None
            }
        }
    }

    /// `true`/`false`, also as text (environment variables).
    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        match &self.values.get(key)?.value {
            toml::Value::Boolean(b) => Some(*b),
            toml::Value::String(s) if s.trim().is_empty() => None,
            toml::Value::String(s) => match s.trim() {
                "true" => Some(true),
                "false" => Some(false),
                other => {
                    let text = other.to_owned();
                    self.problem(
                        key,
                        format!("`{text}` is not true or false"),
                        "give true or false",
                    );
                    None
                }
            },
            other => {
                let kind = other.type_str();
                self.problem(
                    key,
                    format!("expected true or false, found a {kind}"),
                    "give true or false",
                );
                None
            }
        }
    }

    pub fn integer(&mut self, key: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        let n = match &self.values.get(key)?.value {
            toml::Value::Integer(n) => *n,
            toml::Value::String(s) => match s.trim().parse() {
                Ok(n) => n,
                Err(_) => {
                    self.problem(
                        key,
                        format!("`{s}` is not a whole number"),
                        format!("give a number from {} to {}", range.start(), range.end()),
                    );
                    return None;
                }
            },
            other => {
                let kind = other.type_str();
                self.problem(
                    key,
                    format!("expected a number, found a {kind}"),
                    format!("give a number from {} to {}", range.start(), range.end()),
                );
                return None;
            }
        };
        if !range.contains(&n) {
            self.problem(
                key,
                format!("{n} is out of range"),
                format!("give a number from {} to {}", range.start(), range.end()),
            );
            return None;
        }
        Some(n)
    }

    pub fn seconds(
        &mut self,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
        default: std::time::Duration,
    ) -> std::time::Duration {
        self.integer(key, range)
            .map(|n| std::time::Duration::from_secs(n as u64))
            .unwrap_or(default)
    }
}
