//! Item 3: automatic mail in every language, vendor headers, feedback reports, read receipts,
//! challenge-response, bounces, loops, and bulk or list mail (a server left at
//! `bulk_mail: "ignore"`).

use super::{BASELINE, BASELINE_ID, Case, Expect, Mail, Outcome, ignored, mail, ticket, word};

/// Out-of-office subjects, each recognised by its subject alone: (case, subject, rule fragment).
const OUT_OF_OFFICE: [(&str, &str, &str); 26] = [
    (
        "ooo-english",
        "Out of Office: Corpus order",
        "out of office",
    ),
    (
        "ooo-german",
        "Abwesenheitsnotiz: Corpus order",
        "Abwesenheitsnotiz",
    ),
    (
        "ooo-german-automatic",
        "Automatische Antwort: Corpus order",
        "Automatische Antwort",
    ),
    (
        "ooo-french",
        "Réponse automatique : Corpus order",
        "Réponse automatique",
    ),
    ("ooo-italian-away", "Fuori sede: Corpus order", "Fuori sede"),
    (
        "ooo-italian-automatic",
        "Risposta automatica: Corpus order",
        "Risposta automatica",
    ),
    ("ooo-japanese", "自動応答: Corpus order", "自動応答"),
    (
        "ooo-dutch",
        "Automatisch antwoord: Corpus order",
        "Automatisch antwoord",
    ),
    (
        "ooo-spanish",
        "Respuesta automática: Corpus order",
        "Respuesta automática",
    ),
    (
        "ooo-portuguese",
        "Resposta automática: Corpus order",
        "Resposta automática",
    ),
    (
        "ooo-swedish",
        "Frånvaromeddelande: Corpus order",
        "Frånvaromeddelande",
    ),
    (
        "ooo-danish",
        "Automatisk svar: Corpus order",
        "Automatisk svar",
    ),
    (
        "ooo-norwegian",
        "Fraværsmelding: Corpus order",
        "Fraværsmelding",
    ),
    (
        "ooo-finnish",
        "Automaattinen vastaus: Corpus order",
        "Automaattinen vastaus",
    ),
    (
        "ooo-polish",
        "Automatyczna odpowiedź: Corpus order",
        "Automatyczna odpowiedź",
    ),
    (
        "ooo-czech",
        "Automatická odpověď: Corpus order",
        "Automatická odpověď",
    ),
    (
        "ooo-russian",
        "Автоматический ответ: Corpus order",
        "Автоматический ответ",
    ),
    (
        "ooo-chinese-simplified",
        "自动回复: Corpus order",
        "自动回复",
    ),
    (
        "ooo-chinese-traditional",
        "自動回覆: Corpus order",
        "自動回覆",
    ),
    ("ooo-korean", "자동 응답: Corpus order", "자동 응답"),
    (
        "ooo-turkish",
        "Otomatik yanıt: Corpus order",
        "Otomatik yanıt",
    ),
    (
        "ooo-greek",
        "Αυτόματη απάντηση: Corpus order",
        "Αυτόματη απάντηση",
    ),
    (
        "ooo-hungarian",
        "Automatikus válasz: Corpus order",
        "Automatikus válasz",
    ),
    (
        "ooo-romanian",
        "Răspuns automat: Corpus order",
        "Răspuns automat",
    ),
    (
        "ooo-hebrew",
        "תשובה אוטומטית: Corpus order",
        "תשובה אוטומטית",
    ),
    ("ooo-arabic", "رد تلقائي: Corpus order", "رد تلقائي"),
];

/// Vendor headers of auto-responders: (case, header, value).
const VENDOR_HEADERS: [(&str, &str, &str); 6] = [
    ("vendor-x-mail-autoreply", "X-Mail-Autoreply", "yes"),
    (
        "vendor-x-post-messageclass",
        "X-POST-MessageClass",
        "9; Autoresponder",
    ),
    ("vendor-x-autoreply", "X-Autoreply", "yes"),
    ("vendor-x-autorespond", "X-Autorespond", "Corpus order"),
    (
        "vendor-x-auto-response-suppress",
        "X-Auto-Response-Suppress",
        "All",
    ),
    ("vendor-auto-submitted", "Auto-Submitted", "auto-replied"),
];

/// A delivery status notification (RFC 3464) from a mailer daemon: `action` for the recipient
/// of the message `original` (without `<>`).
fn dsn(name: &'static str, mb: &str, action: &str, status: &str, original: &str) -> Mail {
    mail(name, mb)
        .set("From", "Mail Delivery System <MAILER-DAEMON@mx.example>")
        .set("Return-Path", "<>")
        .set("Subject", "Undelivered Mail Returned to Sender")
        .multipart(
            "report",
            "; report-type=delivery-status",
            &[
                b"Content-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n".to_vec(),
                format!("Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; gone@example.org\r\nAction: {action}\r\nStatus: {status}\r\n").into_bytes(),
                format!("Content-Type: text/rfc822-headers\r\n\r\nFrom: {mb}\r\nTo: gone@example.org\r\nMessage-ID: <{original}>\r\nSubject: Hello\r\n").into_bytes(),
            ],
        )
}

/// Recorded as ignored, whatever rule the event names (the reason is enough).
fn ignored_any() -> Expect {
    Expect {
        outcome: Outcome::Ignored(None),
        ..ignored("")
    }
}

pub(super) fn cases(mb: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for (name, subject, rule) in OUT_OF_OFFICE {
        cases.push(
            mail(name, mb)
                .set("Subject", &word("UTF-8", subject.as_bytes()))
                .case(ignored(rule)),
        );
    }
    cases.push(
        mail("ooo-lookalike-office-supplies", mb)
            .set(
                "Subject",
                "Out of office supplies: can you order more paper?",
            )
            .case(ticket().subject("Out of office supplies: can you order more paper?")),
    );
    for (name, header, value) in VENDOR_HEADERS {
        cases.push(mail(name, mb).set(header, value).case(ignored(header)));
    }
    let (local, domain) = mb.split_once('@').unwrap_or((mb, ""));
    cases.extend([
        mail("auto-reply-threads-into-ticket", mb)
            .set("Subject", "Automatic reply: Corpus baseline")
            .set("Auto-Submitted", "auto-replied")
            .set("In-Reply-To", &format!("<{BASELINE_ID}>"))
            .case(
                ticket()
                    .kind("auto_reply", "Auto-Submitted")
                    .joins(BASELINE),
            ),
        mail("precedence-junk-is-auto-reply", mb)
            .set("Precedence", "junk")
            .case(ignored("Precedence")),
        mail("arf-feedback-report", mb)
            .set("From", "Feedback Loop <fbl@isp.example>")
            .set("Subject", "Abuse report")
            .multipart(
                "report",
                "; report-type=feedback-report",
                &[
                    b"Content-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n".to_vec(),
                    b"Content-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\nOriginal-Mail-From: <support@example.test>\r\nArrival-Date: Mon, 07 Dec 2026 09:00:00 +0000\r\n".to_vec(),
                    format!("Content-Type: text/rfc822-headers\r\n\r\nFrom: {mb}\r\nMessage-ID: <sent-1@elsewhere.example>\r\nSubject: Hello\r\n").into_bytes(),
                ],
            )
            .case(ignored("feedback")),
        mail("read-receipt-mdn", mb)
            .set("Subject", "Read: Corpus order")
            .multipart(
                "report",
                "; report-type=disposition-notification",
                &[
                    b"Content-Type: text/plain\r\n\r\nYour message was read.\r\n".to_vec(),
                    b"Content-Type: message/disposition-notification\r\n\r\nReporting-UA: mail.example; Client\r\nFinal-Recipient: rfc822; customer@example.com\r\nOriginal-Message-ID: <sent-2@elsewhere.example>\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n".to_vec(),
                ],
            )
            .case(ignored_any()),
        mail("read-receipt-outlook-plain", mb)
            .set("Subject", "Read: Corpus order")
            .set("Content-Type", "text/plain; charset=utf-8")
            .set("X-MS-Exchange-Organization-SCL", "-1")
            .set("Auto-Submitted", "auto-generated")
            .case(ignored_any()),
        // TMDA's confirmation request: its agent, and a confirmation address to answer.
        mail("challenge-response-tmda", mb)
            .set("From", "Customer <customer-confirm-1765101600.4242.9a0f1c@example.com>")
            .set("Subject", "Please confirm your message (Corpus order)")
            .set("X-Delivery-Agent", "TMDA/1.1.12 (Macallan)")
            .text_body("This message was created automatically by mail delivery software (TMDA).\r\nYour message is held until you confirm it: reply to this message.\r\n")
            .case(ignored("challenge")),
        mail("challenge-response-confirm-address", mb)
            .set("From", "Verify <verify-confirm-8c1d2e@cr.example>")
            .set("Subject", "Please confirm your email address")
            .text_body("Your message is held until you confirm you are a person: reply to this message.\r\n")
            .case(ignored("challenge")),
        dsn("bounce-unmatched", mb, "failed", "5.1.1", "never-seen@elsewhere.example")
            .case(ignored_any()),
        dsn("bounce-of-a-ticket-message", mb, "failed", "5.2.2", BASELINE_ID).case(
            ticket()
                .requester("MAILER-DAEMON@mx.example")
                .kind("bounce", "")
                .joins(BASELINE)
                .any_problems(),
        ),
        dsn("delay-notice-unmatched", mb, "delayed", "4.4.7", "never-seen-2@elsewhere.example")
            .case(ignored_any()),
        mail("bounce-qmail-plain-text", mb)
            .set("From", "MAILER-DAEMON@mx.example")
            .set("Return-Path", "<>")
            .set("Subject", "failure notice")
            .text_body("Hi. This is the qmail-send program at mx.example.\r\nI'm afraid I wasn't able to deliver your message to the following addresses.\r\nThis is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n<gone@example.org>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n")
            .case(ignored_any()),
        mail("loop-x-loop-our-mailbox", mb)
            .set("X-Loop", mb)
            .case(ignored("X-Loop")),
        mail("loop-from-our-mailbox", mb)
            .set("From", mb)
            .case(ignored_any()),
        mail("loop-x-loop-mailgate", mb)
            .set("X-Loop", "mailgate")
            .case(ignored("X-Loop")),
        mail("list-id", mb)
            .set("List-Id", "Corpus Users <users.lists.example.org>")
            .case(ignored("List-Id")),
        mail("list-unsubscribe", mb)
            .set("List-Unsubscribe", "<mailto:leave@lists.example.org>")
            .case(ignored("List-Unsubscribe")),
        mail("precedence-bulk", mb)
            .set("Precedence", "bulk")
            .case(ignored("Precedence")),
        mail("precedence-list", mb)
            .set("Precedence", "list")
            .case(ignored("Precedence")),
        mail("list-mail-threads-into-ticket", mb)
            .set("List-Id", "<users.lists.example.org>")
            .set("In-Reply-To", &format!("<{BASELINE_ID}>"))
            .case(ticket().joins(BASELINE).bulk()),
        mail("list-id-of-our-own-group", mb)
            .set("List-Id", &format!("Support <{local}.{domain}>"))
            .case(ticket()),
        mail("auto-submitted-no", mb)
            .set("Auto-Submitted", "no")
            .case(ticket()),
    ]);
    cases
}

pub(super) fn bulk_cases(mb: &str) -> Vec<Case> {
    let bulk = ticket().bulk();
    vec![
        mail("bulk-list-id", mb)
            .set("List-Id", "Corpus Users <users.lists.example.org>")
            .case(bulk.clone()),
        mail("bulk-list-unsubscribe", mb)
            .set("List-Unsubscribe", "<https://lists.example.org/leave>")
            .case(bulk.clone()),
        mail("bulk-precedence-bulk", mb)
            .set("Precedence", "bulk")
            .case(bulk.clone()),
        mail("bulk-precedence-list", mb)
            .set("Precedence", "list")
            .case(bulk),
        mail("bulk-precedence-junk-stays-auto-reply", mb)
            .set("Precedence", "junk")
            .case(ignored("Precedence")),
        mail("bulk-normal-mail-is-not-bulk", mb).case(ticket()),
    ]
}
