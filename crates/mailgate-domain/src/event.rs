//! The one catalogue of event kinds: what `GET /api/v1/events` lists and what webhooks will
//! publish. Each kind has one stable wire name (`as_str`); the store keeps that name.

use serde::{Deserialize, Serialize};

macro_rules! event_kinds {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal,)+) => {
        /// A kind of event.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum EventKind {
            $($(#[$doc])* #[serde(rename = $wire)] $variant,)+
        }

        impl EventKind {
            /// Every kind, in catalogue order.
            pub const ALL: &[EventKind] = &[$(EventKind::$variant,)+];

            /// The stable name on the wire and in the store, e.g. `ticket.created`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $wire,)+
                }
            }

            /// The kind a stored or received name stands for; `None` for a name not in the
            /// catalogue.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($wire => Some(EventKind::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

event_kinds! {
    /// An OAuth grant or a service account gave its first token.
    CredentialConnected = "credential.connected",
    /// The provider refused a grant for good: a person must sign in again.
    CredentialNeedsReauthorization = "credential.needs_reauthorization",
    /// A credential failed in a way signing in again does not fix (configuration, key).
    CredentialFailed = "credential.failed",
    /// A person's consent round ended without a grant.
    ConsentFailed = "oauth.consent_failed",
    /// An incoming message opened a new ticket.
    TicketCreated = "ticket.created",
    /// An incoming message joined an existing ticket.
    TicketMessageAdded = "ticket.message_added",
    /// An incoming message was imported but made no ticket (a filter or an automatic reply).
    MessageIgnored = "message.ignored",
    /// An incoming server refused mailgate's login.
    ServerAuthFailed = "server.auth_failed",
    /// An IMAP server cannot run the after-import action without touching other clients'
    /// mail (no UIDPLUS, no MOVE): the mail is left in place.
    ServerAfterImportRefused = "server.after_import_refused",
    /// A mailbox's first connection: `{"server", "server_id", "imported", "left"}`.
    MailboxFirstSync = "mailbox.first_sync",
    /// An outgoing message was handed to a server for at least one recipient.
    MessageSent = "message.sent",
    /// An outgoing message will not be sent (refused for good, or out of attempts).
    MessageFailed = "message.failed",
    /// An outgoing message was stopped by a server's filter.
    MessageBlocked = "message.blocked",
    /// A write was refused because the database's disk is full.
    StorageFull = "storage.full",
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn every_kind_reads_back_from_its_wire_name_and_serde_agrees() {
        let mut seen = std::collections::HashSet::new();
        for kind in EventKind::ALL {
            assert!(
                seen.insert(kind.as_str()),
                "{} is listed twice",
                kind.as_str()
            );
            assert_eq!(EventKind::parse(kind.as_str()), Some(*kind));
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(EventKind::parse("ticket.deleted"), None);
    }
}
