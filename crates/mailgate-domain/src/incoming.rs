//! Incoming servers: a mailbox read over IMAP or POP3 and turned into tickets.

use crate::filter::FilterUse;
use crate::server::{self, Auth, AuthFields, AuthKind, Security};
use crate::{EmailAddress, FieldError, FieldErrors, Filter, FilterInput, Id, proxy::ProxyUrl};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncomingProtocol {
    Imap,
    Pop3,
}

/// What happens to a message on the server once its ticket message is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AfterImport {
    /// IMAP: leave it as it is (progress is tracked by UID).
    Leave,
    /// IMAP: set \Seen.
    MarkSeen,
    /// IMAP: move it to `move_to`.
    Move,
    /// IMAP or POP3: delete it.
    Delete,
    /// POP3: keep it on the server (progress is tracked by UIDL).
    Keep,
}

/// Which mail already in the folder the first connection imports (later mail is always read).
/// Written as `now`, `unseen`, `all` or a day `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ImportFrom {
    /// None of it: only mail that arrives after the first connection.
    Now,
    /// IMAP: the messages without `\Seen`.
    Unseen,
    /// IMAP: the messages received on or after this day (the server's `SEARCH SINCE`).
    Since(chrono::NaiveDate),
    /// All of it (what servers stored before `import_from` existed do).
    All,
}

impl ImportFrom {
    /// A server stored before `import_from` existed: it keeps importing as it did.
    pub fn stored_default() -> Self {
        ImportFrom::All
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value.trim() {
            "now" => Ok(ImportFrom::Now),
            "unseen" => Ok(ImportFrom::Unseen),
            "all" => Ok(ImportFrom::All),
            day => chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map(ImportFrom::Since)
                .map_err(|_| {
                    FieldError::new(
                        "import_from",
                        format!("`{day}` is neither `now`, `unseen`, `all` nor a day"),
                    )
                    .with_hint(
                        "use `now` (only new mail), `unseen`, `all`, or a day such as 2026-01-31",
                    )
                }),
        }
    }
}

impl std::fmt::Display for ImportFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportFrom::Now => f.write_str("now"),
            ImportFrom::Unseen => f.write_str("unseen"),
            ImportFrom::All => f.write_str("all"),
            ImportFrom::Since(day) => write!(f, "{}", day.format("%Y-%m-%d")),
        }
    }
}

impl TryFrom<String> for ImportFrom {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        ImportFrom::parse(&value).map_err(|e| e.to_string())
    }
}

impl From<ImportFrom> for String {
    fn from(value: ImportFrom) -> String {
        value.to_string()
    }
}

/// What happens to bulk and list mail (`Precedence: bulk|list`, `List-Id`,
/// `List-Unsubscribe`) that does not answer a ticket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkMail {
    /// It joins a ticket it threads into; otherwise it is recorded as ignored.
    #[default]
    Ignore,
    /// It opens tickets like mail a person wrote (still flagged `bulk`).
    CreateTickets,
}

impl BulkMail {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value.trim() {
            "ignore" => Ok(BulkMail::Ignore),
            "create_tickets" => Ok(BulkMail::CreateTickets),
            other => Err(FieldError::new(
                "bulk_mail",
                format!("`{other}` is neither `ignore` nor `create_tickets`"),
            )
            .with_hint(
                "use `ignore` (list mail only joins tickets it answers) or `create_tickets`",
            )),
        }
    }

    fn is_default(&self) -> bool {
        *self == BulkMail::Ignore
    }
}

/// An incoming server as a request gives it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingServerInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub protocol: Option<IncomingProtocol>,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub security: Option<Security>,
    pub auth: Option<AuthKind>,
    pub oauth_app_id: Option<String>,
    pub service_account_id: Option<String>,
    pub username: Option<String>,
    /// Write-only: never returned.
    #[schema(value_type = Option<String>, write_only)]
    pub password: Option<secrecy::SecretString>,
    pub folder: Option<String>,
    pub after_import: Option<AfterImport>,
    pub move_to: Option<String>,
    /// What the first connection imports of the mail already there: `now` (nothing, the
    /// default), `unseen` (IMAP), a day `YYYY-MM-DD` (IMAP: received on or after it) or `all`.
    #[schema(example = "now")]
    pub import_from: Option<String>,
    /// Bulk and list mail: `ignore` (the default: it only joins tickets it answers) or
    /// `create_tickets`.
    #[schema(value_type = Option<BulkMail>, example = "ignore")]
    pub bulk_mail: Option<String>,
    pub group: Option<String>,
    pub category: Option<String>,
    pub enabled: Option<bool>,
    pub primary: Option<bool>,
    pub outgoing_server_id: Option<String>,
    pub filter: Option<FilterInput>,
    pub proxy: Option<String>,
}

/// A parsed incoming server, without its password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingServerSpec {
    pub name: String,
    pub email: EmailAddress,
    pub protocol: IncomingProtocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    #[serde(flatten)]
    pub auth: Auth,
    pub folder: String,
    pub after_import: AfterImport,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_to: Option<String>,
    /// Missing in servers stored before it existed: they import everything, as they did.
    #[serde(default = "ImportFrom::stored_default")]
    pub import_from: ImportFrom,
    /// Missing in servers stored before it existed: `ignore`.
    #[serde(default, skip_serializing_if = "BulkMail::is_default")]
    pub bulk_mail: BulkMail,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub enabled: bool,
    pub primary: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outgoing_server_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyUrl>,
}

impl IncomingServerInput {
    /// Parses the server; `password_stored` says whether an earlier version has a password.
    pub fn parse(self, password_stored: bool) -> Result<IncomingServerSpec, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = server::parse_name(self.name.as_deref(), &mut errors);
        let email = errors.collect(EmailAddress::parse(
            "email",
            self.email.as_deref().unwrap_or_default(),
        ));
        let protocol = self.protocol;
        if protocol.is_none() {
            errors.push(
                FieldError::new("protocol", "the protocol is missing")
                    .with_hint("set `protocol` to `imap` or `pop3`"),
            );
        }
        let security = self.security.unwrap_or(Security::Ssl);
        let (tls_port, plain_port) = match protocol {
            Some(IncomingProtocol::Pop3) => (995, 110),
            _ => (993, 143),
        };
        let default_port = if security == Security::Ssl {
            tls_port
        } else {
            plain_port
        };
        let host = errors.collect(server::parse_host("host", self.host.as_deref()));
        let port = errors.collect(server::parse_port(self.port, default_port));
        if let Some(port) = port {
            errors.collect(server::check_security_matches_port(
                security, port, plain_port,
            ));
        }
        let auth = server::parse_auth(
            AuthFields {
                auth: self.auth,
                oauth_app_id: self.oauth_app_id.as_deref(),
                service_account_id: self.service_account_id.as_deref(),
                username: self.username.as_deref(),
                password_given: self.password.is_some(),
                password_stored,
                default_username: email.as_ref().map(EmailAddress::as_str).unwrap_or_default(),
            },
            false,
            &mut errors,
        );
        if let Some(host) = &host {
            errors.collect(server::check_plaintext(security, auth.as_ref(), host));
        }
        let folder = self
            .folder
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .unwrap_or("INBOX")
            .to_owned();
        if folder.chars().any(char::is_control) {
            errors.push(
                FieldError::new("folder", "the folder name contains a control character")
                    .with_hint("write the folder as the mail client shows it, e.g. INBOX"),
            );
        }
        let after_import = parse_after_import(
            protocol,
            &folder,
            self.after_import,
            self.move_to,
            &mut errors,
        );
        let import_from = errors.collect(parse_import_from(protocol, self.import_from.as_deref()));
        let bulk_mail = errors
            .collect(self.bulk_mail.as_deref().map(BulkMail::parse).transpose())
            .flatten()
            .unwrap_or_default();
        let group = errors
            .collect(server::parse_label("group", self.group.as_deref()))
            .flatten();
        let category = errors
            .collect(server::parse_label("category", self.category.as_deref()))
            .flatten();
        let outgoing_server_id = errors
            .collect(server::parse_link(
                "outgoing_server_id",
                self.outgoing_server_id.as_deref(),
            ))
            .flatten();
        let filter = match self.filter.map(|f| f.parse(FilterUse::Incoming)) {
            Some(Ok(f)) => Some(f),
            Some(Err(e)) => {
                errors.extend_under("filter", e);
                None
            }
            None => None,
        };
        let proxy = errors
            .collect(
                self.proxy
                    .as_deref()
                    .map(|p| ProxyUrl::parse("proxy", p))
                    .transpose(),
            )
            .flatten();
        errors.collect(server::check_plaintext_proxy(
            security,
            auth.as_ref(),
            proxy.as_ref(),
        ));
        let (
            Some(name),
            Some(email),
            Some(protocol),
            Some(host),
            Some(port),
            Some(auth),
            Some((after_import, move_to)),
            Some(import_from),
            true,
        ) = (
            name,
            email,
            protocol,
            host,
            port,
            auth,
            after_import,
            import_from,
            errors.is_empty(),
        )
        else {
            return Err(errors);
        };
        Ok(IncomingServerSpec {
            name,
            email,
            protocol,
            host,
            port,
            security,
            auth,
            folder,
            after_import,
            move_to,
            import_from,
            bulk_mail,
            group,
            category,
            enabled: self.enabled.unwrap_or(true),
            primary: self.primary.unwrap_or(false),
            outgoing_server_id,
            filter,
            proxy,
        })
    }
}

fn parse_after_import(
    protocol: Option<IncomingProtocol>,
    folder: &str,
    after: Option<AfterImport>,
    move_to: Option<String>,
    errors: &mut FieldErrors,
) -> Option<(AfterImport, Option<String>)> {
    let move_to = move_to
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty());
    match protocol {
        Some(IncomingProtocol::Pop3) => {
            if folder != "INBOX" {
                errors.push(
                    FieldError::new("folder", "POP3 reads the inbox only")
                        .with_hint("remove `folder`, or use IMAP to read another folder"),
                );
            }
            if move_to.is_some() {
                errors.push(
                    FieldError::new("move_to", "POP3 cannot move messages").with_hint(
                        "remove `move_to`; POP3 can `keep` or `delete` a message after import",
                    ),
                );
            }
            match after.unwrap_or(AfterImport::Keep) {
                a @ (AfterImport::Keep | AfterImport::Delete) => Some((a, None)),
                other => {
                    errors.push(
                        FieldError::new(
                            "after_import",
                            format!("`{}` is not possible over POP3", after_name(other)),
                        )
                        .with_hint("POP3 can `keep` or `delete` a message after import"),
                    );
                    None
                }
            }
        }
        _ => match after.unwrap_or(AfterImport::MarkSeen) {
            AfterImport::Move => match move_to {
                Some(target) if target == folder => {
                    errors.push(
                        FieldError::new("move_to", "the target folder is the folder being read")
                            .with_hint("name another folder, such as Processed"),
                    );
                    None
                }
                Some(target) => Some((AfterImport::Move, Some(target))),
                None => {
                    errors.push(
                        FieldError::new("move_to", "`after_import: move` needs a target folder")
                            .with_hint("set `move_to` to a folder such as Processed"),
                    );
                    None
                }
            },
            AfterImport::Keep => {
                errors.push(
                    FieldError::new("after_import", "`keep` is a POP3 choice")
                        .with_hint("over IMAP use `leave`, `mark_seen`, `move` or `delete`"),
                );
                None
            }
            other => {
                if move_to.is_some() {
                    errors.push(
                        FieldError::new(
                            "move_to",
                            "`move_to` only applies with `after_import: move`",
                        )
                        .with_hint("remove `move_to` or set `after_import` to `move`"),
                    );
                }
                Some((other, None))
            }
        },
    }
}

/// `now` unless given; POP3 has neither flags nor dates to choose by, so it takes `now` or `all`.
fn parse_import_from(
    protocol: Option<IncomingProtocol>,
    value: Option<&str>,
) -> Result<ImportFrom, FieldError> {
    let import_from = value.map_or(Ok(ImportFrom::Now), ImportFrom::parse)?;
    match (protocol, import_from) {
        (Some(IncomingProtocol::Pop3), ImportFrom::Unseen | ImportFrom::Since(_)) => {
            Err(FieldError::new(
                "import_from",
                format!(
                    "`{import_from}` is not possible over POP3: it keeps no read flags or dates"
                ),
            )
            .with_hint(
                "over POP3 use `now` (only new mail) or `all`; IMAP can choose `unseen` or a day",
            ))
        }
        _ => Ok(import_from),
    }
}

fn after_name(a: AfterImport) -> &'static str {
    match a {
        AfterImport::Leave => "leave",
        AfterImport::MarkSeen => "mark_seen",
        AfterImport::Move => "move",
        AfterImport::Delete => "delete",
        AfterImport::Keep => "keep",
    }
}

#[cfg(test)]
mod tests {
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
}
