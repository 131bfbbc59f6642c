//! Email addresses and domain names.

use crate::FieldError;
use serde::{Deserialize, Serialize};

/// A mailbox address `local@domain`: no display name, no spaces, no control characters,
/// domain lower-cased. Deliberately stricter than RFC 5322 (no quoted local parts, no
/// comments): such addresses are accepted by no provider this service talks to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let text = text.trim();
        let bad = |why: &str| {
            FieldError::new(field, format!("`{text}` is not an email address: {why}"))
                .with_hint("write a plain address such as support@example.com, without a name or angle brackets")
        };
        if text.is_empty() {
            return Err(FieldError::new(field, "an email address is required")
                .with_hint("write a plain address such as support@example.com"));
        }
        if text.len() > 254 {
            return Err(bad("it is longer than 254 characters"));
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err(bad("it has no `@`"));
        };
        if local.is_empty() {
            return Err(bad("nothing stands before the `@`"));
        }
        if local.len() > 64 {
            return Err(bad("the part before the `@` is longer than 64 characters"));
        }
        let local_ok = local.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || "!#$%&'*+-/=?^_`{|}~.".contains(c)
                || (!c.is_ascii() && !c.is_control())
        });
        if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(bad(
                "the part before the `@` has a character addresses cannot have",
            ));
        }
        let domain = Domain::parse(field, domain)
            .map_err(|_| bad("the part after the `@` is not a domain name"))?;
        Ok(Self(format!("{local}@{}", domain.as_str())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse("email", &text).map_err(serde::de::Error::custom)
    }
}

/// A DNS domain name such as `example.com`, lower-cased, without `@`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Domain(String);

impl Domain {
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let text = text.trim().trim_end_matches('.');
        if let Some(rest) = text.strip_prefix('@') {
            return Err(FieldError::new(field, format!("`{text}` starts with `@`"))
                .with_hint(format!("write the domain without `@`, e.g. `{rest}`")));
        }
        if text.contains('@') {
            return Err(FieldError::new(field, format!("`{text}` is an address, not a domain"))
                .with_hint("list whole addresses under `emails`, and bare domains such as example.com under `domains`"));
        }
        let lower = text.to_ascii_lowercase();
        let labels_ok = !lower.is_empty()
            && lower.len() <= 253
            && lower.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .chars()
                        // Non-ASCII letters of an IDN, but no white space or control
                        // characters (U+202F would be trimmed on the next reading).
                        .all(|c| {
                            c.is_ascii_alphanumeric()
                                || c == '-'
                                || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
                        })
            });
        if !labels_ok {
            return Err(
                FieldError::new(field, format!("`{text}` is not a domain name"))
                    .with_hint("write a domain such as example.com"),
            );
        }
        Ok(Self(lower))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Domain {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse("domain", &text).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_reads_the_same_twice_and_holds_no_white_space() {
        // Found by fuzzing: "Q\u{202f}......." read as "q\u{202f}", then as "q".
        for text in ["Q\u{202f}.......", "exa\u{a0}mple.com", "exa\u{85}mple.com"] {
            assert!(Domain::parse("domain", text).is_err(), "{text:?}");
        }
        for text in ["Example.COM.", "bücher.example", "xn--bcher-kva.example"] {
            let once = Domain::parse("domain", text).unwrap();
            let twice = Domain::parse("domain", once.as_str()).unwrap();
            assert_eq!(once, twice, "{text:?}");
        }
    }

    #[test]
    fn addresses_that_parse() {
        for (input, expected) in [
            ("support@example.com", "support@example.com"),
            ("  Support@Example.COM ", "Support@example.com"),
            ("a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk"),
        ] {
            assert_eq!(
                EmailAddress::parse("email", input).unwrap().as_str(),
                expected
            );
        }
    }

    #[test]
    fn addresses_that_do_not_parse_name_the_field() {
        for input in [
            "",
            "support",
            "@example.com",
            "a@",
            "a b@example.com",
            "Name <a@example.com>",
            "a..b@example.com",
            "a@-bad.com",
            "a@exa mple.com",
        ] {
            let err = EmailAddress::parse("email", input).unwrap_err();
            assert_eq!(err.field, "email", "{input}");
            assert!(err.hint.is_some(), "{input}");
        }
    }

    #[test]
    fn a_domain_with_at_gets_a_hint_without_it() {
        let err = Domain::parse("domains[0]", "@yahoo.com").unwrap_err();
        assert_eq!(
            err.hint.as_deref(),
            Some("write the domain without `@`, e.g. `yahoo.com`")
        );
        assert_eq!(
            Domain::parse("d", "Yahoo.COM").unwrap().as_str(),
            "yahoo.com"
        );
        assert!(
            Domain::parse("d", "a@b.com")
                .unwrap_err()
                .message
                .contains("address")
        );
    }
}
