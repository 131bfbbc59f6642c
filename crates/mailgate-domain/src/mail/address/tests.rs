//! Known answers: each form of RFC 5322 section 3.4 and 4.4, and what mail-parser made of it.

use super::*;

/// (header value, addresses, names, defects)
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [Option<&'static str>],
    &'static [Defect],
);

const CASES: &[Case] = &[
    ("user@example.com", &["user@example.com"], &[None], &[]),
    ("User@Example.COM", &["User@example.com"], &[None], &[]),
    (
        "Jane Doe <jane@example.com>",
        &["jane@example.com"],
        &[Some("Jane Doe")],
        &[],
    ),
    (
        "\"Doe, Jane\" <jane@example.com>",
        &["jane@example.com"],
        &[Some("Doe, Jane")],
        &[],
    ),
    // mail-parser: `john doe@example.com` (not an address).
    (
        "\"john doe\"@example.com",
        &["\"john doe\"@example.com"],
        &[None],
        &[],
    ),
    (
        "<\"john doe\"@example.com>",
        &["\"john doe\"@example.com"],
        &[None],
        &[],
    ),
    // mail-parser: `a@b@example.com` or `@`.
    (
        "\"a@b\"@example.com",
        &["\"a@b\"@example.com"],
        &[None],
        &[],
    ),
    (
        "X <\"a@b\"@example.com>",
        &["\"a@b\"@example.com"],
        &[Some("X")],
        &[],
    ),
    (
        "\"a\\\"b\"@example.com",
        &["\"a\\\"b\"@example.com"],
        &[None],
        &[],
    ),
    ("\"\"@example.com", &["\"\"@example.com"], &[None], &[]),
    // Obsolete route: mail-parser kept the route text.
    (
        "<@relay1,@relay2:user@example.com>",
        &["user@example.com"],
        &[None],
        &[],
    ),
    (
        "Name <@relay1.example,,@relay2.example:user@example.com>",
        &["user@example.com"],
        &[Some("Name")],
        &[],
    ),
    // Comments anywhere, nested, escaped.
    (
        "user(comment)@example.com",
        &["user@example.com"],
        &[Some("comment")],
        &[],
    ),
    (
        "user@(x)example.com",
        &["user@example.com"],
        &[Some("x")],
        &[],
    ),
    (
        "user@example.com (User (the (real) one))",
        &["user@example.com"],
        &[Some("User (the (real) one)")],
        &[],
    ),
    (
        "(a) Jane (b) <(c)jane(d)@(e)example.com(f)> (g)",
        &["jane@example.com"],
        &[Some("Jane")],
        &[],
    ),
    (
        "user@example.com (a \\) b)",
        &["user@example.com"],
        &[Some("a ) b")],
        &[],
    ),
    // Obsolete local parts and domains: CFWS around the dots, quoted words.
    (
        "john . doe @ example . com",
        &["john.doe@example.com"],
        &[None],
        &[],
    ),
    (
        "\"john\".doe@example.com",
        &["john.doe@example.com"],
        &[None],
        &[],
    ),
    (
        "\"john doe\".x@example.com",
        &["\"john doe.x\"@example.com"],
        &[None],
        &[],
    ),
    (
        "john..doe@example.com",
        &["\"john..doe\"@example.com"],
        &[None],
        &[],
    ),
    // Domain literals: mail-parser gave `1]` or cut at a colon.
    ("user@[192.0.2.1]", &["user@[192.0.2.1]"], &[None], &[]),
    (
        "Ann <user@[IPv6:2001:db8::1]>",
        &["user@[IPv6:2001:db8::1]"],
        &[Some("Ann")],
        &[],
    ),
    ("user@[ 192.0.2.1 ]", &["user@[192.0.2.1]"], &[None], &[]),
    // RFC 6532.
    (
        "Jörg <jörg@bücher.example>",
        &["jörg@bücher.example"],
        &[Some("Jörg")],
        &[],
    ),
    // Trailing garbage, two angle-addrs: the first, flagged.
    (
        "Jane <jane@example.com> garbage",
        &["jane@example.com"],
        &[Some("Jane")],
        &[Defect::TrailingText],
    ),
    (
        "Jane <jane@example.com> <evil@example.net>",
        &["jane@example.com"],
        &[Some("Jane")],
        &[Defect::SecondAngleAddr],
    ),
    (
        "jane@example.com garbage",
        &["jane@example.com"],
        &[None],
        &[Defect::TrailingText],
    ),
    ("<<jane@example.com>>", &["jane@example.com"], &[None], &[]),
    // Lists, groups, empty elements.
    (
        "a@example.com, B <b@example.com>",
        &["a@example.com", "b@example.com"],
        &[None, Some("B")],
        &[],
    ),
    (
        "a@example.com,,b@example.com,",
        &["a@example.com", "b@example.com"],
        &[None, None],
        &[],
    ),
    (
        "Team: a@example.com, b@example.com;, c@example.com",
        &["a@example.com", "b@example.com", "c@example.com"],
        &[None, None, None],
        &[],
    ),
    ("undisclosed-recipients:;", &[], &[], &[]),
    ("<>", &[], &[], &[]),
    ("", &[], &[], &[]),
    // A phrase with specials, as Outlook writes it.
    (
        "jane@example.com <jane@example.com>",
        &["jane@example.com"],
        &[Some("jane@example.com")],
        &[],
    ),
    (
        "John Q. Public <jqp@example.com>",
        &["jqp@example.com"],
        &[Some("John Q. Public")],
        &[],
    ),
    (
        "=?utf-8?q?J=C3=B6rg?= <j@example.com>",
        &["j@example.com"],
        &[Some("=?utf-8?q?J=C3=B6rg?=")],
        &[],
    ),
];

#[test]
fn known_answers() {
    for &(value, addresses, names, defects) in CASES {
        let list = read(value);
        let got: Vec<&str> = list.addressed().map(|(a, _)| a).collect();
        assert_eq!(got, addresses, "addresses of {value:?}");
        let got: Vec<Option<&str>> = list.addressed().map(|(_, n)| n).collect();
        assert_eq!(got, names, "names of {value:?}");
        assert_eq!(list.defects, defects, "defects of {value:?}");
        for a in addresses {
            assert!(is_addr_spec(a), "{a:?} of {value:?}");
        }
    }
}

/// Text that is no address is kept as a name, never as an address.
#[test]
fn what_is_no_address_is_a_name() {
    for (value, name, defect) in [
        ("MAILER-DAEMON", "MAILER-DAEMON", Defect::NotAnAddress),
        ("<MAILER-DAEMON>", "MAILER-DAEMON", Defect::NotAnAddress),
        ("Support Team", "Support Team", Defect::NotAnAddress),
        (
            "\"unclosed@example.com",
            "unclosed@example.com",
            Defect::Unclosed("quoted string"),
        ),
    ] {
        let list = read(value);
        assert_eq!(list.addressed().count(), 0, "{value:?}");
        assert_eq!(list.entries[0].name.as_deref(), Some(name), "{value:?}");
        assert!(
            list.defects.contains(&defect),
            "{value:?}: {:?}",
            list.defects
        );
    }
    for value in [
        "john doe@example.com",
        "a@b@example.com",
        "<a@b@example.com>",
        "user@",
        "@example.com",
        "<user@exa mple.com>",
        "user@[1.2.3.4",
        "us\u{1}er@example.com",
        "user@ex\u{85}ample.com",
        "<@relay:>",
    ] {
        let list = read(value);
        assert_eq!(list.addressed().count(), 0, "{value:?}: {list:?}");
        assert!(!list.defects.is_empty(), "{value:?}");
    }
}

#[test]
fn is_addr_spec_known_answers() {
    for valid in [
        "a@b",
        "a.b@c.d",
        "\"a b\"@c",
        "\"a\\\"b\"@c",
        "\"\"@c",
        "a@[192.0.2.1]",
        "a@[IPv6:2001:db8::1]",
        "é@ü.example",
    ] {
        assert!(is_addr_spec(valid), "{valid:?}");
    }
    for invalid in [
        "",
        "a",
        "a@",
        "@b",
        "a@b@c",
        "a b@c",
        "a..b@c",
        ".a@c",
        "a.@c",
        "a@b.",
        "a@.b",
        "\"a@c",
        "\"a\"b@c",
        "a@[1.2",
        "a@[a[b]",
        "a@b c",
        "a\u{0}@b",
        "\"a\u{1}\"@b",
        "<a@b>",
        "a@b (c)",
    ] {
        assert!(!is_addr_spec(invalid), "{invalid:?}");
    }
}

/// Hostile input: linear work, bounded output, no stack growth with nesting.
#[test]
fn hostile_input_is_read_in_one_pass() {
    let n = 200_000;
    for value in [
        "(".repeat(n),
        "<".repeat(n),
        "\"".repeat(n),
        "[".repeat(n),
        "@".repeat(n),
        ",".repeat(n),
        ":".repeat(n),
        ".".repeat(n),
        "a@b.c ".repeat(n / 6),
        "<a@b> ".repeat(n / 6),
        "\\".repeat(n),
        format!("{}{}", "(".repeat(n / 2), ")".repeat(n / 2)),
        format!("<{}>", "@a,".repeat(n / 3)),
        format!("{}a@b", "x.".repeat(n / 2)),
    ] {
        let list = read(&value);
        for (address, _) in list.addressed() {
            assert!(is_addr_spec(address), "{address:?}");
        }
        assert!(list.defects.len() <= 8);
    }
}
