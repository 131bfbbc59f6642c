//! Allow/Ignore filters on senders (incoming) or recipients (outgoing).

use crate::{Domain, EmailAddress, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterKind {
    /// Only matching mail passes.
    Allow,
    /// Matching mail is dropped silently (and counted).
    Ignore,
}

/// A filter as a request gives it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterInput {
    #[serde(rename = "type")]
    pub kind: Option<FilterKind>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// A parsed filter. Entries of all lists are OR-ed; matching is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Filter {
    #[serde(rename = "type")]
    pub kind: FilterKind,
    #[schema(value_type = Vec<String>)]
    pub emails: Vec<EmailAddress>,
    #[schema(value_type = Vec<String>)]
    pub domains: Vec<Domain>,
    pub keywords: Vec<String>,
}

/// Which lists a filter may use: keywords only make sense on incoming mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterUse {
    Incoming,
    Outgoing,
}

impl FilterInput {
    pub fn parse(self, usage: FilterUse) -> Result<Filter, FieldErrors> {
        let mut errors = FieldErrors::new();
        let kind = self.kind;
        if kind.is_none() {
            errors.push(
                FieldError::new("type", "the filter type is missing").with_hint(
                    "set `type` to `allow` (only matches pass) or `ignore` (matches are dropped)",
                ),
            );
        }
        let emails: Vec<_> = (self.emails.iter().enumerate())
            .filter_map(|(i, e)| errors.collect(EmailAddress::parse(&format!("emails[{i}]"), e)))
            .collect();
        let domains: Vec<_> = (self.domains.iter().enumerate())
            .filter_map(|(i, d)| errors.collect(Domain::parse(&format!("domains[{i}]"), d)))
            .collect();
        let mut keywords = Vec::new();
        for (i, k) in self.keywords.iter().enumerate() {
            let k = k.trim();
            if k.is_empty() {
                errors.push(
                    FieldError::new(format!("keywords[{i}]"), "a keyword is empty")
                        .with_hint("remove the empty entry"),
                );
            } else {
                keywords.push(k.to_owned());
            }
        }
        if usage == FilterUse::Outgoing && !keywords.is_empty() {
            errors.push(
                FieldError::new("keywords", "keywords filter incoming mail only")
                    .with_hint("an outgoing filter matches recipients by `emails` and `domains`"),
            );
        }
        if kind == Some(FilterKind::Allow)
            && emails.is_empty()
            && domains.is_empty()
            && keywords.is_empty()
        {
            errors.push(
                FieldError::new(
                    "type",
                    "an allow filter with no entries would block all mail",
                )
                .with_hint("add emails, domains or keywords to allow, or remove the filter"),
            );
        }
        errors.finish(|| Filter {
            kind: kind.unwrap_or(FilterKind::Ignore),
            emails,
            domains,
            keywords,
        })
    }
}

impl Filter {
    /// Whether an address (and, for incoming mail, the subject and body) matches any entry.
    pub fn matches(&self, address: &str, text: &[&str]) -> bool {
        let address = address.trim().to_lowercase();
        let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        self.emails
            .iter()
            .any(|e| e.as_str().to_lowercase() == address)
            || self.domains.iter().any(|d| d.as_str() == domain)
            || self.keywords.iter().any(|k| {
                let k = k.to_lowercase();
                text.iter().any(|t| t.to_lowercase().contains(&k))
            })
    }

    /// Whether mail passes: allow lets only matches through, ignore drops them.
    pub fn passes(&self, address: &str, text: &[&str]) -> bool {
        let matched = self.matches(address, text);
        match self.kind {
            FilterKind::Allow => matched,
            FilterKind::Ignore => !matched,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(
        kind: FilterKind,
        emails: &[&str],
        domains: &[&str],
        keywords: &[&str],
    ) -> FilterInput {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        FilterInput {
            kind: Some(kind),
            emails: own(emails),
            domains: own(domains),
            keywords: own(keywords),
        }
    }

    #[test]
    fn allow_passes_only_matches_and_ignore_drops_them() {
        let allow = input(
            FilterKind::Allow,
            &["Boss@Corp.example"],
            &["example.com"],
            &["urgent"],
        )
        .parse(FilterUse::Incoming)
        .unwrap();
        assert!(allow.passes("boss@corp.example", &[]));
        assert!(allow.passes("anyone@EXAMPLE.com", &[]));
        assert!(allow.passes("x@other.org", &["An URGENT matter"]));
        assert!(!allow.passes("x@other.org", &["hello"]));
        assert!(
            !allow.passes("x@sub.example.com", &[]),
            "domains match exactly, not subdomains"
        );

        let ignore = input(FilterKind::Ignore, &[], &["competitor.example"], &[])
            .parse(FilterUse::Outgoing)
            .unwrap();
        assert!(!ignore.passes("sales@competitor.example", &[]));
        assert!(ignore.passes("friend@example.com", &[]));
    }

    #[test]
    fn every_bad_entry_is_reported_with_its_index() {
        let errors = input(
            FilterKind::Allow,
            &["nope"],
            &["ok.com", "@yahoo.com"],
            &[" "],
        )
        .parse(FilterUse::Outgoing)
        .unwrap_err();
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["emails[0]", "domains[1]", "keywords[0]"]);
    }

    #[test]
    fn keywords_are_refused_on_outgoing_filters_and_empty_allow_lists_are_refused() {
        let e = input(FilterKind::Ignore, &[], &[], &["x"])
            .parse(FilterUse::Outgoing)
            .unwrap_err();
        assert_eq!(e.errors()[0].field, "keywords");
        let e = input(FilterKind::Allow, &[], &[], &[])
            .parse(FilterUse::Incoming)
            .unwrap_err();
        assert!(e.errors()[0].message.contains("block all mail"));
        let e = FilterInput::default()
            .parse(FilterUse::Incoming)
            .unwrap_err();
        assert_eq!(e.errors()[0].field, "type");
    }
}
