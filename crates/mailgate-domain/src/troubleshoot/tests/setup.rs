//! Known answers for mailgate's own server configuration.

use super::super::*;
use super::{P, check};

pub(super) fn produced() -> Vec<Diagnosis> {
    vec![
        setup::server_disabled("Support SMTP"),
        setup::no_outgoing_server(),
        setup::server_misconfigured("no password is stored; set `password` on the server"),
        setup::server_misconfigured(""),
    ]
}

#[test]
fn configuration_failures_name_the_fix() {
    let d = setup::server_disabled("Support SMTP");
    check(
        &d,
        "server_disabled",
        P,
        &["\"enabled\": true", "primary"],
        "disabled",
    );
    assert!(d.message.contains("`Support SMTP`"));
    check(
        &setup::no_outgoing_server(),
        "no_outgoing_server",
        P,
        &["\"primary\": true"],
        "none",
    );
    let d = setup::server_misconfigured("no password is stored; set `password` on the server.");
    check(&d, "server_misconfigured", P, &["PATCH"], "password");
    assert_eq!(
        d.message,
        "No password is stored; set `password` on the server."
    );
    assert_eq!(
        setup::server_misconfigured("  ").message,
        "The server's configuration cannot be used."
    );
    assert!(setup::is_server_misconfigured(&d));
    assert!(!setup::is_server_misconfigured(&setup::no_outgoing_server()));
}
