//! Item 1: the sender is never mangled. Quoted local parts, comments, obsolete routes, address
//! literals, garbage, and the fallbacks when From cannot be read.

use super::{Case, mail, ticket, word};

pub(super) fn cases(mb: &str) -> Vec<Case> {
    let from = |name: &'static str, from: &str| mail(name, mb).set("From", from);
    vec![
        from(
            "from-quoted-local-part-with-space",
            "\"john doe\"@example.com",
        )
        .case(ticket().requester("\"john doe\"@example.com")),
        from("from-quoted-local-part-with-at", "\"a@b\"@example.com")
            .case(ticket().requester("\"a@b\"@example.com")),
        from(
            "from-quoted-local-part-in-angle-addr",
            "John Doe <\"john doe\"@example.com>",
        )
        .case(ticket().requester("\"john doe\"@example.com")),
        from("from-comment-after-address", "john@example.com (John Doe)")
            .case(ticket().requester("john@example.com")),
        from(
            "from-comments-everywhere",
            "(first) John (middle) <john(inside)@(domain)example.com> (last)",
        )
        .case(ticket().requester("john@example.com")),
        from(
            "from-obsolete-route",
            "<@relay1.example,@relay2.example:user@example.com>",
        )
        .case(ticket().requester("user@example.com")),
        from(
            "from-obsolete-route-with-name",
            "Route User <@relay1.example:user@example.com>",
        )
        .case(ticket().requester("user@example.com")),
        from("from-ipv4-literal", "Literal <user@[192.0.2.1]>")
            .case(ticket().requester("user@[192.0.2.1]")),
        from("from-ipv6-literal", "user@[IPv6:2001:db8::1]")
            .case(ticket().requester("user@[IPv6:2001:db8::1]")),
        from(
            "from-trailing-garbage",
            "Jane <jane@example.com> trailing garbage",
        )
        .case(ticket().requester("jane@example.com").any_problems()),
        from(
            "from-two-angle-addrs",
            "Two <first@example.com> <second@example.com>",
        )
        .case(ticket().requester("first@example.com").any_problems()),
        from("from-upper-case-domain", "User <User.Name@EXAMPLE.COM>")
            .case(ticket().requester("User.Name@example.com")),
        from("from-plus-and-dots", "a.b+tag@sub.example.com")
            .case(ticket().requester("a.b+tag@sub.example.com")),
        from(
            "from-obsolete-local-part-spaces",
            "john . doe @ example.com",
        )
        .case(ticket().requester("john.doe@example.com").any_problems()),
        from(
            "from-encoded-display-name",
            &format!(
                "{} <kunde@example.de>",
                word("UTF-8", "Jürgen Müller".as_bytes())
            ),
        )
        .case(ticket().requester("kunde@example.de")),
        from("from-group-syntax", "Sales: sales@example.com;")
            .case(ticket().requester("sales@example.com").any_problems()),
        from("from-unreadable-sender-fallback", "not an address")
            .set("Sender", "Real Sender <sender@example.com>")
            .case(
                ticket()
                    .requester("sender@example.com")
                    .problems(&["taken from Sender"]),
            ),
        from("from-unreadable-reply-to-fallback", "<>")
            .set("Reply-To", "reply@example.com")
            .case(
                ticket()
                    .requester("reply@example.com")
                    .problems(&["taken from Reply-To"])
                    .reply_to(&["reply@example.com"]),
            ),
        from("from-unreadable-return-path-fallback", "@@@")
            .set("Return-Path", "<bounces@example.com>")
            .case(
                ticket()
                    .requester("bounces@example.com")
                    .problems(&["taken from Return-Path"]),
            ),
        mail("from-missing-sender-fallback", mb)
            .without("From")
            .set("Sender", "sender@example.com")
            .case(
                ticket()
                    .requester("sender@example.com")
                    .problems(&["taken from Sender"]),
            ),
        mail("from-missing-no-sender-at-all", mb)
            .without("From")
            .case(
                ticket()
                    .requester("unknown")
                    .problems(&["no sender address"]),
            ),
        from("from-only-a-display-name", "Just A Name").case(
            ticket()
                .requester("unknown")
                .problems(&["no sender address"]),
        ),
        from("from-bare-at-sign", "@").case(
            ticket()
                .requester("unknown")
                .problems(&["no sender address"]),
        ),
        from("from-ipv6-literal-unclosed", "user@[IPv6:2001:db8::1")
            .set("Sender", "fallback@example.com")
            .case(
                ticket()
                    .requester("fallback@example.com")
                    .problems(&["taken from Sender"]),
            ),
    ]
}
