//! Item 2: reply targets stored, threading on every id in the forms clients send, and `[#n]`
//! tags: the real one threads, look-alikes are refused.

use super::{BASELINE, BASELINE_ID, Case, mail, ticket};

pub(super) fn cases(mb: &str) -> Vec<Case> {
    let base = format!("<{BASELINE_ID}>");
    // A long thread: its root (the ticket's first message) and 300 replies since, as clients
    // write it (they keep the root when they trim).
    let long_references = std::iter::once(base.clone())
        .chain((0..300).map(|n| format!("<old-{n}.long@thread.example>")))
        .collect::<Vec<_>>()
        .join("\r\n ");
    let mut cases = vec![
        mail("reply-to-web-form", mb)
            .set("From", "Web Form <no-reply@forms.example>")
            .set("Reply-To", "Visitor <visitor@example.org>")
            .case(
                ticket()
                    .requester("no-reply@forms.example")
                    .reply_to(&["visitor@example.org"])
                    .in_reply_to(&[])
                    .references(&[]),
            ),
        mail("reply-to-two-addresses", mb)
            .set("Reply-To", "a@example.org, B <b@example.org>")
            .case(ticket().reply_to(&["a@example.org", "b@example.org"])),
        mail("reply-to-quoted-local-part", mb)
            .set("Reply-To", "\"jane doe\"@example.org")
            .case(ticket().reply_to(&["\"jane doe\"@example.org"])),
        mail("no-reply-targets", mb).case(ticket().reply_to(&[]).in_reply_to(&[]).references(&[])),
        mail("in-reply-to-angle", mb)
            .set("Subject", "Re: Corpus baseline")
            .set("In-Reply-To", &base)
            .case(ticket().in_reply_to(&[BASELINE_ID]).joins(BASELINE)),
        mail("in-reply-to-bare", mb)
            .set("In-Reply-To", BASELINE_ID)
            .case(ticket().in_reply_to(&[BASELINE_ID]).joins(BASELINE)),
        mail("in-reply-to-with-comment", mb)
            .set(
                "In-Reply-To",
                &format!("{base} (Customer's message of Mon, 7 Dec 2026)"),
            )
            .case(ticket().in_reply_to(&[BASELINE_ID]).joins(BASELINE)),
        mail("in-reply-to-two-ids", mb)
            .set(
                "In-Reply-To",
                &format!("<unknown-1@elsewhere.example> {base}"),
            )
            .case(
                ticket()
                    .in_reply_to(&["unknown-1@elsewhere.example", BASELINE_ID])
                    .joins(BASELINE),
            ),
        mail("references-space-separated", mb)
            .set("References", &format!("<root@elsewhere.example> {base}"))
            .case(
                ticket()
                    .references(&["root@elsewhere.example", BASELINE_ID])
                    .joins(BASELINE),
            ),
        mail("references-comma-separated", mb)
            .set("References", &format!("<root@elsewhere.example>, {base}"))
            .case(
                ticket()
                    .references(&["root@elsewhere.example", BASELINE_ID])
                    .joins(BASELINE),
            ),
        mail("references-bare-ids", mb)
            .set(
                "References",
                &format!("root@elsewhere.example {BASELINE_ID}"),
            )
            .case(
                ticket()
                    .references(&["root@elsewhere.example", BASELINE_ID])
                    .joins(BASELINE),
            ),
        mail("references-folded", mb)
            .set(
                "References",
                &format!("<root@elsewhere.example>\r\n\t<middle@elsewhere.example>\r\n {base}"),
            )
            .case(
                ticket()
                    .references(&[
                        "root@elsewhere.example",
                        "middle@elsewhere.example",
                        BASELINE_ID,
                    ])
                    .joins(BASELINE),
            ),
        mail("references-duplicated-ids", mb)
            .set(
                "References",
                &format!("<root@elsewhere.example> <root@elsewhere.example> {base} {base}"),
            )
            .case(ticket().joins(BASELINE)),
        mail("references-very-long", mb)
            .set("References", &long_references)
            .case(ticket().joins(BASELINE)),
        mail("references-unknown-ids-only", mb)
            .set(
                "References",
                "<nobody-1@elsewhere.example> <nobody-2@elsewhere.example>",
            )
            .case(
                ticket()
                    .references(&["nobody-1@elsewhere.example", "nobody-2@elsewhere.example"])
                    .new_ticket(),
            ),
        mail("in-reply-to-duplicated-header", mb)
            .set("In-Reply-To", &base)
            .add("In-Reply-To", "<second@elsewhere.example>")
            .case(
                ticket()
                    .in_reply_to(&[BASELINE_ID])
                    .joins(BASELINE)
                    .problems(&["duplicate In-Reply-To header"]),
            ),
        mail("tag-real-threads", mb)
            .set("Subject", "Re: [#1] Corpus baseline")
            .set("Message-ID", "<tag-real-threads@corpus.example>")
            .case(ticket().joins(BASELINE)),
    ];
    // Tags that look like `[#1]` but are not one: they open tickets of their own.
    let look_alikes: [(&'static str, &str); 7] = [
        ("tag-fullwidth-digit", "Re: [#\u{FF11}] Corpus baseline"),
        ("tag-fullwidth-hash", "Re: [\u{FF03}1] Corpus baseline"),
        ("tag-space-inside", "Re: [# 1] Corpus baseline"),
        ("tag-letter-after-digits", "Re: [#1a] Corpus baseline"),
        ("tag-negative", "Re: [#-1] Corpus baseline"),
        (
            "tag-fullwidth-brackets",
            "Re: \u{FF3B}#1\u{FF3D} Corpus baseline",
        ),
        ("tag-superscript-digit", "Re: [#\u{00B9}] Corpus baseline"),
    ];
    for (name, subject) in look_alikes {
        cases.push(
            mail(name, mb)
                .set("Subject", &super::word("UTF-8", subject.as_bytes()))
                .case(ticket().subject(subject).new_ticket()),
        );
    }
    cases
}
