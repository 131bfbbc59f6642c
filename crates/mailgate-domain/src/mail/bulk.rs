//! Bulk and list mail: newsletters, mailing lists, notifications sent to many. A person may
//! want a ticket for it (the server's `bulk_mail` choice decides), so it is a flag beside the
//! message's [`Kind`](super::Kind), not an auto-reply.

use super::mime::header_value;
use super::{Ours, ParsedMessage};

/// The rule that makes a message bulk mail (`Precedence: bulk`, `List-Id: ...`,
/// `List-Unsubscribe`), or `None`. Our own mailbox may be a list (a Google Group): a List-Id
/// naming it is not bulk, nor is `Precedence: list` beside it.
pub fn bulk(parsed: &ParsedMessage, ours: &Ours<'_>) -> Option<String> {
    let value = |name: &str| header_value(&parsed.headers, name);
    let own_list = value("List-Id").is_some_and(|id| is_own_list(id, ours));
    if let Some(v) = value("Precedence") {
        let v = v.trim().to_ascii_lowercase();
        if v == "bulk" || (v == "list" && !own_list) {
            return Some(format!("Precedence: {v}"));
        }
    }
    if own_list {
        return None;
    }
    if let Some(v) = value("List-Id") {
        return Some(format!("List-Id: {v}"));
    }
    value("List-Unsubscribe").map(|_| "List-Unsubscribe".to_owned())
}

/// Whether a List-Id (`Name <support.example.com>`) names one of our addresses, written as
/// Google Groups and Mailman do: `local.domain`.
pub(crate) fn is_own_list(list_id: &str, ours: &Ours<'_>) -> bool {
    let id = list_id.rsplit('<').next().unwrap_or_default();
    let id = id.trim_end().trim_end_matches('>').trim();
    ours.addresses
        .iter()
        .any(|a| a.trim().replacen('@', ".", 1).eq_ignore_ascii_case(id))
}
