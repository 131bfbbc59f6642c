//! The database URL: a secret (it may carry a password), printed with the password hidden.

use secrecy::{ExposeSecret, SecretString};

#[derive(Clone)]
pub struct DatabaseUrl {
    url: SecretString,
    scheme: String,
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let Some((scheme, _)) = text.split_once(':') else {
            return Err("a database URL starts with sqlite:// or postgres://".to_owned());
        };
        Ok(Self {
            url: SecretString::from(text.to_owned()),
            scheme: scheme.to_ascii_lowercase(),
        })
    }

    /// A SQLite database file at `path`.
    pub fn sqlite_file(path: &std::path::Path) -> Self {
        Self {
            url: SecretString::from(format!("sqlite://{}", path.display())),
            scheme: "sqlite".to_owned(),
        }
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    pub(crate) fn expose(&self) -> &str {
        self.url.expose_secret()
    }

    /// The URL with any password replaced by `***`, for logs and messages.
    pub fn redacted(&self) -> String {
        match ::url::Url::parse(self.expose()) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.expose().to_owned(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_print() {
        let url = DatabaseUrl::parse("postgres://mailgate:hunter2@db.internal/mailgate").unwrap();
        assert_eq!(url.scheme(), "postgres");
        assert!(!format!("{url} {url:?}").contains("hunter2"));
        assert!(url.to_string().contains("mailgate:***@db.internal"));
    }
}
