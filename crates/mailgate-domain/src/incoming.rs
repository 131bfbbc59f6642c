//! Incoming servers: a mailbox read over IMAP or POP3 and turned into tickets. The server as
//! a request gives it and as it is stored here; the choices it makes (protocol, what happens
//! after import, what the first connection imports, bulk mail) in `options.rs`.

mod options;

pub use options::{AfterImport, BulkMail, ImportFrom, IncomingProtocol};

use crate::filter::FilterUse;
use crate::server::{self, Auth, AuthFields, AuthKind, Security};
use crate::{EmailAddress, FieldError, FieldErrors, Filter, FilterInput, Id, proxy::ProxyUrl};
use options::{parse_after_import, parse_import_from};
use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests;
