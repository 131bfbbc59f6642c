//! Failures of mailgate's own configuration of a server, found before any connection: a
//! disabled server, no server to send with, a server missing what it needs to sign in.

use super::Diagnosis;
use super::catalog::{Code, NO_OUTGOING_SERVER, SERVER_DISABLED, SERVER_MISCONFIGURED};

/// The server asked for is disabled.
pub fn server_disabled(name: &str) -> Diagnosis {
    Diagnosis::new(
        SERVER_DISABLED,
        format!("The outgoing server `{name}` is disabled."),
        "Enable it (PATCH the server with {\"enabled\": true}), or let the primary outgoing server send in its place.",
    )
}

/// Nothing can send: the server asked for was deleted and no server is primary.
pub fn no_outgoing_server() -> Diagnosis {
    Diagnosis::new(
        NO_OUTGOING_SERVER,
        "No outgoing server can send this message: the one asked for no longer exists and no outgoing server is primary.",
        "Create an outgoing server, or mark one as the fallback with {\"primary\": true}.",
    )
}

/// Whether `diagnosis` is [`server_misconfigured`]'s: the configuration is wrong, not the
/// provider or the network.
pub fn is_server_misconfigured(diagnosis: &Diagnosis) -> bool {
    diagnosis.code == Code::ServerMisconfigured
}

/// The server's configuration lacks something (`what` is a sentence without its full stop).
pub fn server_misconfigured(what: &str) -> Diagnosis {
    let what = what.trim().trim_end_matches('.');
    let mut chars = what.chars();
    let what = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => "The server's configuration cannot be used".to_owned(),
    };
    Diagnosis::new(
        SERVER_MISCONFIGURED,
        format!("{what}."),
        "Check the server's configuration: GET it from the API, then PATCH what is missing or wrong.",
    )
}
