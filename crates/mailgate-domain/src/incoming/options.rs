//! The choices of an incoming server, and how the ones that depend on its protocol are read
//! from a request.

use crate::{FieldError, FieldErrors};
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

    pub(super) fn is_default(&self) -> bool {
        *self == BulkMail::Ignore
    }
}

pub(super) fn parse_after_import(
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
pub(super) fn parse_import_from(
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
