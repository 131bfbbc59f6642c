//! The sender of a whole message: From read per RFC 5322, the fallbacks, and the address
//! lists, with what mail-parser's reading made of each before (in the comments).

use super::*;

fn message(headers: &str) -> Vec<u8> {
    format!("{headers}Date: Mon, 09 Mar 2026 06:00:00 +0000\r\nSubject: x\r\n\r\nbody\r\n")
        .into_bytes()
}

/// (headers, from address, from name, a fragment each problem must contain)
type Sender = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static [&'static str],
);

const SENDERS: &[Sender] = &[
    // Was `john doe@example.com`.
    (
        "From: \"john doe\"@example.com\r\n",
        Some("\"john doe\"@example.com"),
        None,
        &[],
    ),
    // Was `@example.com` or `@`.
    (
        "From: \"a@b\"@example.com\r\n",
        Some("\"a@b\"@example.com"),
        None,
        &[],
    ),
    (
        "From: A <\"a@b\"@example.com>\r\n",
        Some("\"a@b\"@example.com"),
        Some("A"),
        &[],
    ),
    // Was the route text.
    (
        "From: <@relay1,@relay2:user@example.com>\r\n",
        Some("user@example.com"),
        None,
        &[],
    ),
    // Was `1]`.
    (
        "From: user@[192.0.2.1]\r\n",
        Some("user@[192.0.2.1]"),
        None,
        &[],
    ),
    (
        "From: Six <user@[IPv6:2001:db8::1]>\r\n",
        Some("user@[IPv6:2001:db8::1]"),
        Some("Six"),
        &[],
    ),
    // Comments, nested, anywhere.
    (
        "From: (x) User (y (z)) <user(c)@(d)Example.COM>\r\n",
        Some("user@example.com"),
        Some("User"),
        &[],
    ),
    (
        "From: user@example.com (Real Name)\r\n",
        Some("user@example.com"),
        Some("Real Name"),
        &[],
    ),
    // Two angle-addrs were glued into one; trailing garbage made it into the address.
    (
        "From: A <a@example.com> <b@example.net>\r\n",
        Some("a@example.com"),
        Some("A"),
        &["second <address>"],
    ),
    (
        "From: A <a@example.com> trailing words\r\n",
        Some("a@example.com"),
        Some("A"),
        &["text after the address"],
    ),
    // Names decoded (RFC 2047), also in a folded header.
    (
        "From: =?utf-8?q?J=C3=B6rg?=\r\n =?utf-8?q?_M=C3=BCller?= <j@example.com>\r\n",
        Some("j@example.com"),
        Some("Jörg Müller"),
        &[],
    ),
    (
        "From: \"Doe,\r\n Jane\" <jane@example.com>\r\n",
        Some("jane@example.com"),
        Some("Doe, Jane"),
        &[],
    ),
    // The name that goes with the first address, not another's.
    (
        "From: first@example.com, Second <second@example.com>\r\nSender: first@example.com\r\n",
        Some("first@example.com"),
        None,
        &[],
    ),
    (
        "From: Doe, John <jd@example.com>\r\n",
        Some("jd@example.com"),
        Some("John"),
        &["text that is no address"],
    ),
    // The first of two From headers (the second is flagged as a duplicate).
    (
        "From: first@example.com\r\nFrom: second@example.com\r\n",
        Some("first@example.com"),
        None,
        &["duplicate From header"],
    ),
    // Was stored as the address `MAILER-DAEMON`.
    (
        "From: MAILER-DAEMON\r\n",
        None,
        Some("MAILER-DAEMON"),
        &["holds no address", "no sender address"],
    ),
    (
        "From: MAILER-DAEMON\r\nReturn-Path: <>\r\n",
        None,
        Some("MAILER-DAEMON"),
        &["holds no address", "no sender address"],
    ),
    // The fallbacks, in order.
    (
        "From: Support Team\r\nSender: s@example.com\r\nReply-To: r@example.com\r\nReturn-Path: <p@example.com>\r\n",
        Some("s@example.com"),
        Some("Support Team"),
        &["holds no address", "taken from Sender"],
    ),
    (
        "Reply-To: R <r@example.com>\r\nReturn-Path: <p@example.com>\r\n",
        Some("r@example.com"),
        Some("R"),
        &["no From header", "taken from Reply-To"],
    ),
    (
        "From: <>\r\nReply-To: bad@\r\nReturn-Path: <p@example.com>\r\n",
        Some("p@example.com"),
        None,
        &["has no address", "taken from Return-Path"],
    ),
    (
        "From: john doe@example.com\r\n",
        None,
        None,
        &["holds no address", "no sender address"],
    ),
    // A name without `<>` around the address: no address in RFC 5322 (mail-parser read
    // `joe@example.com`, Python `"Joe joe"@example.com`).
    (
        "From: \"Joe\" joe@example.com\r\nReply-To: joe@example.com\r\n",
        Some("joe@example.com"),
        None,
        &["holds no address", "taken from Reply-To"],
    ),
    ("", None, None, &["no From header", "no sender address"]),
];

#[test]
fn the_sender_is_read_per_rfc_5322_with_fallbacks() {
    for &(headers, address, name, problems) in SENDERS {
        let parsed = parse(&message(headers));
        let got = parsed.from.as_ref().map(|m| m.address.as_str());
        assert_eq!(got, address, "{headers:?}");
        assert_eq!(parsed.from_name.as_deref(), name, "{headers:?}: name");
        if let Some(from) = &parsed.from {
            assert_eq!(from.name, parsed.from_name, "{headers:?}");
            assert!(address::is_addr_spec(&from.address), "{headers:?}");
        }
        assert_eq!(
            parsed.problems.len(),
            problems.len(),
            "{headers:?}: {:?}",
            parsed.problems
        );
        for (p, fragment) in parsed.problems.iter().zip(problems) {
            assert!(
                p.contains(fragment),
                "{headers:?}: {p:?} lacks {fragment:?}"
            );
        }
    }
}

#[test]
fn reply_to_to_and_cc_are_read_as_addresses() {
    let parsed = parse(&message(
        "From: a@example.com\r\nReply-To: \"x y\"@example.com, Web Form <form@Example.com>\r\n\
         To: Team: <@relay:one@example.com>, two@[192.0.2.1];, MAILER-DAEMON\r\n\
         To: ignored@example.com\r\nCc: \"a@b\"@example.com (C)\r\n",
    ));
    let list = |l: &[ParsedAddress]| {
        l.iter()
            .map(|m| (m.address.clone(), m.name.clone()))
            .collect::<Vec<_>>()
    };
    let owned = |a: &str, n: Option<&str>| (a.to_owned(), n.map(str::to_owned));
    assert_eq!(
        list(&parsed.reply_to),
        [
            owned("\"x y\"@example.com", None),
            owned("form@example.com", Some("Web Form"))
        ]
    );
    assert_eq!(
        list(&parsed.to),
        [
            owned("one@example.com", None),
            owned("two@[192.0.2.1]", None)
        ]
    );
    assert_eq!(list(&parsed.cc), [owned("\"a@b\"@example.com", Some("C"))]);
}

/// `From: MAILER-DAEMON` with a bounce subject is still a bounce, though it has no address.
#[test]
fn a_bare_mailer_daemon_is_still_a_bounce_sender() {
    let raw = "From: MAILER-DAEMON\r\nSubject: Undelivered Mail Returned to Sender\r\n\
               Date: Mon, 09 Mar 2026 06:00:00 +0000\r\n\r\n<gone@example.net>: unknown user\r\n";
    let parsed = parse(raw.as_bytes());
    assert_eq!(parsed.from, None);
    let addresses = our_addresses();
    assert!(matches!(
        classify(&parsed, None, &ours(&addresses)),
        Kind::Bounce { .. }
    ));
}
