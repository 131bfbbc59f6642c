//! Issue 20: the generated corpus ([`mailgate_testkit::corpus`]) through the real IMAP import.
//! Every message is APPENDed untouched to a fresh Dovecot mailbox, imported by one IMAP
//! session (`import_from: "all"`), and each case's expectation is checked through the REST API;
//! all mismatches are reported at once.

use super::watch::{imap_session, mail, oauth_server};
use mailgate_testkit::TestApp;
use mailgate_testkit::corpus::{
    self, BASELINE, Case, Expect, Outcome, is_addr_spec, is_safe_filename,
};
use mailgate_testkit::spawn_app_on_world as spawn_app;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const IMPORT_KINDS: [&str; 3] = ["ticket.created", "ticket.message_added", "message.ignored"];

/// APPENDs each message with a literal (its bytes as they are); the names Dovecot refused.
async fn append_all(app: &TestApp, mailbox: &str, cases: &[Case]) -> Vec<String> {
    let (mut imap, _) = app.world().open_folder(mailbox, None, "INBOX").await;
    let mut refused = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let tag = format!("c{n}");
        imap.send(&format!("{tag} APPEND INBOX {{{}+}}", case.raw.len()))
            .await;
        imap.send_bytes(&case.raw).await;
        let reply = imap.imap_reply(&tag).await;
        if !reply
            .last()
            .is_some_and(|l| l.starts_with(&format!("{tag} OK")))
        {
            refused.push(format!("{}: APPEND refused: {reply:?}", case.name));
        }
    }
    imap.imap("z9", "LOGOUT").await;
    refused
}

/// The import events of `server`, oldest first, once there are `count` of them (bounded).
/// Not `eventually`: at the deadline it returns what came, so that the test lists every
/// mismatch of the corpus at once instead of stopping at the first wait.
async fn import_events(app: &TestApp, server: &str, count: usize, within: Duration) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let mut events = Vec::new();
        for kind in IMPORT_KINDS {
            events.extend(
                crate::send::events(app, kind)
                    .await
                    .into_iter()
                    .filter(|e| e["data"]["server"] == server),
            );
        }
        events.sort_by_key(|e| e["id"].as_i64());
        if events.len() >= count || Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every ticket message the events name, by its id, with its ticket.
async fn messages_by_id(app: &TestApp, events: &[Value]) -> HashMap<String, (Value, Value)> {
    let mut numbers: Vec<i64> = events
        .iter()
        .filter_map(|e| e["data"]["ticket"].as_i64())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut all = HashMap::new();
    for n in numbers {
        // The ticket's fields, and its messages beside them.
        let mut ticket = app.get(&format!("/api/v1/tickets/{n}")).await.body;
        let messages = ticket["messages"].take();
        for m in messages.as_array().cloned().unwrap_or_default() {
            all.insert(
                m["id"].as_str().unwrap_or_default().to_owned(),
                (ticket.clone(), m),
            );
        }
    }
    all
}

/// Pairs cases with their import events. Messages are imported in the order they were
/// appended, so the n-th event is the n-th case, except where a message left no event: a ticket
/// message whose Message-ID is a later case's says so, and the cases skipped are `lost`.
fn pair<'c>(
    cases: &[&'c Case],
    events: &[Value],
    messages: &HashMap<String, (Value, Value)>,
) -> (Vec<(&'c Case, Value)>, Vec<&'static str>) {
    let (mut pairs, mut lost, mut next) = (Vec::new(), Vec::new(), 0);
    for event in events {
        let stored = event["data"]["message"]
            .as_str()
            .and_then(|id| messages.get(id))
            .and_then(|(_, m)| m["message_id"].as_str());
        let at = cases[next..]
            .iter()
            .position(|c| stored.is_some() && c.message_id.as_deref() == stored)
            .map_or(next, |k| next + k);
        let Some(case) = cases.get(at) else { break };
        lost.extend(cases[next..at].iter().map(|c| c.name));
        pairs.push((*case, event.clone()));
        next = at + 1;
    }
    lost.extend(cases[next.min(cases.len())..].iter().map(|c| c.name));
    (pairs, lost)
}

/// An event in a line: its kind, and for a ticket message its kind and ticket.
fn summary(event: &Value, messages: &HashMap<String, (Value, Value)>) -> String {
    let data = &event["data"];
    match data["message"].as_str().and_then(|id| messages.get(id)) {
        Some((ticket, m)) => format!(
            "{} ({} in ticket {})",
            event["kind"], m["kind"], ticket["number"]
        ),
        None => format!(
            "{} (reason {}, rule {})",
            event["kind"], data["reason"], data["rule"]
        ),
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| {
        a.iter()
            .map(|s| s.as_str().unwrap_or("<not a string>").to_owned())
            .collect()
    })
}

/// What a case got against what it expects: one line per mismatch.
struct Check<'a> {
    case: &'a Case,
    wrong: Vec<String>,
}

impl Check<'_> {
    fn expect(
        &mut self,
        what: &str,
        ok: bool,
        want: impl std::fmt::Debug,
        got: impl std::fmt::Debug,
    ) {
        if !ok {
            self.wrong.push(format!(
                "{}: {what}: expected {want:?}, got {got:?}",
                self.case.name
            ));
        }
    }

    fn list(&mut self, what: &str, want: &Option<Vec<String>>, got: &Value) {
        if let Some(want) = want {
            let got = strings(got);
            self.expect(what, got.as_ref() == Some(want), want, got);
        }
    }
}

/// Checks one case against its event and, for a ticket message, the message, its ticket and
/// its stored raw bytes. `tickets` maps case names to the ticket numbers they landed in.
async fn check(
    app: &TestApp,
    case: &Case,
    event: &Value,
    messages: &HashMap<String, (Value, Value)>,
    tickets: &HashMap<&str, i64>,
) -> Vec<String> {
    let mut c = Check {
        case,
        wrong: Vec::new(),
    };
    let Expect { outcome, .. } = &case.expect;
    let e = &case.expect;
    let kind = event["kind"].as_str().unwrap_or_default();
    let rule = event["data"]["rule"].as_str();
    let rule_has =
        |fragment: &str| rule.is_some_and(|r| r.to_lowercase().contains(&fragment.to_lowercase()));
    match outcome {
        Outcome::Ignored(fragment) => {
            if kind != "message.ignored" {
                c.expect(
                    "outcome",
                    false,
                    "message.ignored",
                    summary(event, messages),
                );
                return c.wrong;
            }
            c.expect(
                "reason",
                event["data"]["reason"]
                    .as_str()
                    .is_some_and(|r| !r.is_empty()),
                "a reason",
                &event["data"],
            );
            if let Some(fragment) = fragment {
                c.expect("rule", rule_has(fragment), fragment, rule);
            }
            return c.wrong;
        }
        Outcome::Message(want_kind) => {
            if kind == "message.ignored" {
                c.expect(
                    "outcome",
                    false,
                    format!("a {want_kind} ticket message"),
                    summary(event, messages),
                );
                return c.wrong;
            }
            let Some((ticket, m)) = event["data"]["message"]
                .as_str()
                .and_then(|id| messages.get(id))
            else {
                c.expect("message", false, "the event's message in a ticket", event);
                return c.wrong;
            };
            c.expect("kind", m["kind"] == *want_kind, want_kind, &m["kind"]);
            match e.rule {
                Some(fragment) => c.expect("rule", rule_has(fragment), fragment, rule),
                // Bulk mail let in may name the rule that made it bulk.
                None if e.bulk => {}
                None => c.expect("rule", rule.is_none(), "no rule (normal mail)", rule),
            }
            c.expect(
                "from is an address or absent",
                m["from"].as_str().is_none_or(is_addr_spec),
                "an addr-spec or null",
                &m["from"],
            );
            let new_ticket = kind == "ticket.created";
            let requester = if new_ticket {
                ticket["requester"].as_str().unwrap_or_default().to_owned()
            } else {
                m["from"].as_str().unwrap_or("unknown").to_owned()
            };
            c.expect(
                "requester is an address",
                requester == "unknown" || is_addr_spec(&requester),
                "an addr-spec or \"unknown\"",
                &requester,
            );
            if let Some(want) = &e.requester {
                c.expect("requester", &requester == want, want, &requester);
            }
            // An API without the field is reported once, by the caller.
            if !m["bulk"].is_null() || e.bulk {
                c.expect("bulk", m["bulk"] == e.bulk, e.bulk, &m["bulk"]);
            }
            if let Some(want) = &case.message_id {
                c.expect(
                    "message_id (the first)",
                    m["message_id"] == want.as_str(),
                    want,
                    &m["message_id"],
                );
            }
            let problems = strings(&m["problems"]).unwrap_or_default();
            if let Some(fragments) = &e.problems {
                if fragments.is_empty() {
                    c.expect("problems", problems.is_empty(), "no problems", &problems);
                }
                for f in fragments {
                    let found = problems
                        .iter()
                        .any(|p| p.to_lowercase().contains(&f.to_lowercase()));
                    c.expect(
                        "problems",
                        found,
                        format!("one containing {f:?}"),
                        &problems,
                    );
                }
            }
            let subject = m["subject"].as_str().unwrap_or_default();
            c.expect(
                "subject on one line",
                !subject.contains(['\r', '\n']),
                "no CR or LF",
                subject,
            );
            if let Some(want) = &e.subject {
                c.expect("subject", want.matches(subject), want.to_string(), subject);
            }
            if let Some(want) = &e.text {
                let text = m["text"].as_str().unwrap_or_default();
                c.expect("text", want.matches(text), want.to_string(), text);
            }
            let names = strings(&Value::Array(
                m["attachments"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|a| a["filename"].clone())
                    .collect(),
            ))
            .unwrap_or_default();
            for name in &names {
                c.expect(
                    "attachment name is safe",
                    is_safe_filename(name),
                    "a safe name",
                    name,
                );
            }
            if let Some(want) = &e.attachments {
                let ok =
                    want.len() == names.len() && want.iter().zip(&names).all(|(w, n)| w.matches(n));
                let want: Vec<String> = want.iter().map(ToString::to_string).collect();
                c.expect("attachments", ok, want, &names);
            }
            c.list("reply_to", &e.reply_to, &m["reply_to"]);
            c.list("in_reply_to", &e.in_reply_to, &m["in_reply_to"]);
            c.list("references", &e.references, &m["references"]);
            let number = ticket["number"].as_i64();
            if let Some(joins) = e.joins {
                let want = tickets.get(joins).copied();
                c.expect(
                    "ticket",
                    want.is_some() && number == want,
                    format!("the ticket of {joins} ({want:?})"),
                    number,
                );
            }
            if e.new_ticket {
                c.expect(
                    "ticket",
                    new_ticket,
                    "a ticket of its own",
                    format!("joined ticket {number:?}"),
                );
            }
            let raw = app
                .core
                .store
                .message_raw(m["id"].as_str().unwrap_or_default().parse().unwrap())
                .await
                .unwrap();
            c.expect(
                "raw copy",
                raw.as_deref() == Some(case.served()),
                format!("{} bytes as served", case.served().len()),
                raw.map(|r| format!("{} bytes, different", r.len())),
            );
        }
    }
    c.wrong
}

#[tokio::test]
async fn the_corpus_imports_over_imap_as_the_issue_says() {
    run(json!({}), corpus::cases).await;
}

/// Under `bulk_mail: "create_tickets"`, list and bulk mail opens tickets, flagged bulk.
#[tokio::test]
async fn list_mail_opens_tickets_when_the_server_says_so() {
    run(json!({"bulk_mail": "create_tickets"}), corpus::bulk_cases).await;
}

/// Appends `cases` (given the mailbox's address) to a fresh mailbox whose server is
/// `server_body` over the defaults (`import_from: "all"`), imports them with one IMAP session,
/// checks every case, then that the mailbox still imports a normal message; fails with every
/// mismatch.
async fn run(server_body: Value, cases: fn(&str) -> Vec<Case>) {
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(&app, server_body).await;
    let server_id = server["id"].as_str().unwrap().to_owned();
    let cases = cases(&mailbox);
    let mut wrong = append_all(&app, &mailbox, &cases).await;
    let appended = cases.len() - wrong.len();

    let started = Instant::now();
    let (_stop, session) = imap_session(&app, &server_id).await;
    let events = import_events(&app, &server_id, appended, Duration::from_secs(40)).await;
    eprintln!(
        "{} corpus messages imported in {:?}",
        events.len(),
        started.elapsed()
    );
    if events.len() != appended {
        wrong.push(format!(
            "every message accounted for: expected {appended} import events, got {} (a stall or a lost message)",
            events.len()
        ));
    }

    let messages = messages_by_id(&app, &events).await;
    let refused: Vec<String> = wrong.clone();
    let appended_cases: Vec<&Case> = cases
        .iter()
        .filter(|c| {
            !refused
                .iter()
                .any(|w| w.starts_with(&format!("{}: APPEND", c.name)))
        })
        .collect();
    let (pairs, lost) = pair(&appended_cases, &events, &messages);
    wrong.extend(
        lost.iter()
            .map(|name| format!("{name}: no import event (lost or stalled)")),
    );
    let tickets: HashMap<&str, i64> = pairs
        .iter()
        .filter_map(|(case, event)| {
            let (ticket, _) = messages.get(event["data"]["message"].as_str()?)?;
            Some((case.name, ticket["number"].as_i64()?))
        })
        .collect();
    if cases[0].name == BASELINE && tickets.get(BASELINE) != Some(&1) {
        wrong.push(format!(
            "{BASELINE}: expected to open ticket 1 (the tag cases say [#1]), got {:?}",
            tickets.get(BASELINE)
        ));
    }
    if messages.values().any(|(_, m)| m.get("bulk").is_none()) {
        wrong.push(
            "API: ticket messages have no `bulk` field (checked only where a case expects true)"
                .to_owned(),
        );
    }
    let mut passed = 0;
    for (case, event) in &pairs {
        let found = check(&app, case, event, &messages, &tickets).await;
        if found.is_empty() {
            passed += 1;
        }
        match case.expect.known_gap {
            None => wrong.extend(found),
            Some(why) if found.is_empty() => wrong.push(format!(
                "{}: passes now: remove its known_gap ({why})",
                case.name
            )),
            Some(why) => eprintln!("known gap, not failed: {} ({why}): {found:?}", case.name),
        }
    }
    eprintln!("corpus: {passed} of {} cases as expected", cases.len());

    // No crash, no stall: the session is still running and imports the next message.
    assert!(
        !session.is_finished(),
        "the IMAP session ended: {:?}",
        session.await
    );
    app.world()
        .deliver(
            "customer@example.com",
            &mailbox,
            &mail(&mailbox, "After the corpus"),
        )
        .await;
    let after = import_events(&app, &server_id, appended + 1, Duration::from_secs(20)).await;
    if !after
        .iter()
        .any(|e| e["data"]["subject"] == "After the corpus")
    {
        wrong.push(
            "after the corpus: a normal message is not imported (the mailbox stalled)".to_owned(),
        );
    }
    assert!(
        wrong.is_empty(),
        "{} mismatches ({passed} of {} cases as expected):\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}
