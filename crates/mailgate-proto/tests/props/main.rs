//! Property tests of the protocol clients against servers that answer anything: the seed
//! conversations of `fuzz/seeds/` (real servers' answers), each answer kept, replaced, cut or
//! extended with protocol tokens and random bytes. Whatever comes back, the clients return an
//! error or a value and never panic. The cases are bounded so that `cargo test` stays fast;
//! `fuzz/` runs the same drivers for longer (see the README, "Fuzzing").

mod drive;

use proptest::prelude::*;

const IMAP_SEEDS: &[&[u8]] = &[
    include_bytes!("../../../../fuzz/seeds/imap/session.txt"),
    include_bytes!("../../../../fuzz/seeds/imap/refused_login.txt"),
    include_bytes!("../../../../fuzz/seeds/imap/login_command.txt"),
];
const SMTP_SEEDS: &[&[u8]] = &[
    include_bytes!("../../../../fuzz/seeds/smtp/session.txt"),
    include_bytes!("../../../../fuzz/seeds/smtp/refused_login.txt"),
    include_bytes!("../../../../fuzz/seeds/smtp/one_by_one.txt"),
];
const POP3_SEEDS: &[&[u8]] = &[
    include_bytes!("../../../../fuzz/seeds/pop3/session.txt"),
    include_bytes!("../../../../fuzz/seeds/pop3/refused_login.txt"),
    include_bytes!("../../../../fuzz/seeds/pop3/user_pass.txt"),
];

/// Words of the three protocols that lead a parser into its corners.
const TOKENS: &[&str] = &[
    "\r\n",
    "\n",
    "\r",
    " ",
    "* ",
    "+ ",
    "A0005 ",
    "m1 ",
    "OK",
    "NO",
    "BAD",
    "BYE",
    "PREAUTH",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "\\",
    "NIL",
    "{5}\r\n",
    "{0}\r\n",
    "{4294967296}\r\n",
    "{5+}\r\n",
    "~{3}\r\n",
    "FETCH ",
    "UID ",
    "RFC822.SIZE ",
    "BODY[]<0> ",
    "BODY[] ",
    "FLAGS ",
    "SEARCH",
    "EXISTS",
    "EXPUNGE",
    "CAPABILITY ",
    "AUTH=",
    "UIDVALIDITY ",
    "UIDNEXT ",
    "COPYUID ",
    "4294967295",
    "4294967296",
    "0",
    "-1",
    "18446744073709551616",
    "250-",
    "250 ",
    "354 ",
    "334 ",
    "421 ",
    "550-",
    "550 ",
    "5.1.1 ",
    "2.0.0 ",
    "999 ",
    "+OK",
    "-ERR",
    "+OK ",
    ".\r\n",
    "..",
    "SASL ",
    "PIPELINING",
    "SIZE ",
    "eyJzdGF0dXMiOiI0MDEifQ==",
    "=",
    "é",
    "\u{0}",
    "\u{ff}",
];

fn junk() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => proptest::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..8),
        1 => "[a-zA-Z0-9 .]{0,8}".prop_map(String::into_bytes),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

/// A seed conversation with some answers replaced, cut short, or with junk added.
fn mutated(seeds: &'static [&'static [u8]]) -> impl Strategy<Value = Vec<Vec<u8>>> {
    (
        proptest::sample::select(seeds),
        proptest::collection::vec((0u8..12, any::<usize>(), junk()), 24),
    )
        .prop_map(|(seed, edits)| {
            let mut chunks = drive::chunks(seed);
            for (chunk, (op, at, junk)) in chunks.iter_mut().zip(edits) {
                let at = if chunk.is_empty() {
                    0
                } else {
                    at % chunk.len()
                };
                match op {
                    0 => *chunk = junk,
                    1 => chunk.truncate(at),
                    2 => chunk.extend_from_slice(&junk),
                    3 => {
                        chunk.splice(at..at, junk);
                    }
                    4 => {
                        chunk.splice(at..(at + junk.len()).min(chunk.len()), junk);
                    }
                    _ => {}
                }
            }
            chunks
        })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        // The same cases on every run: CI never fails by chance.
        rng_seed: proptest::test_runner::RngSeed::Fixed(13),
        ..ProptestConfig::default()
    }
}

/// The seeds are whole conversations: played as they are, every step succeeds, so the
/// mutations above start from deep inside each client, not from a refused greeting.
#[test]
fn the_seed_conversations_play_to_the_end() {
    let chunks = |seed: &[u8]| drive::chunks(seed);
    assert_eq!(
        drive::imap(chunks(IMAP_SEEDS[0]), false),
        15,
        "imap with XOAUTH2"
    );
    assert_eq!(
        drive::imap(chunks(IMAP_SEEDS[0]), true),
        15,
        "imap with a password"
    );
    assert_eq!(
        drive::imap(chunks(IMAP_SEEDS[1]), false),
        1,
        "imap refused login"
    );
    assert_eq!(
        drive::imap(chunks(IMAP_SEEDS[2]), true),
        16,
        "imap LOGIN command"
    );
    assert_eq!(
        drive::smtp(chunks(SMTP_SEEDS[0]), false),
        8,
        "smtp with XOAUTH2"
    );
    assert_eq!(
        drive::smtp(chunks(SMTP_SEEDS[2]), true),
        3,
        "smtp without PIPELINING"
    );
    assert_eq!(
        drive::pop3(chunks(POP3_SEEDS[0]), false),
        12,
        "pop3 with XOAUTH2"
    );
    assert_eq!(
        drive::pop3(chunks(POP3_SEEDS[2]), true),
        12,
        "pop3 USER/PASS"
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn imap_client_survives_any_answers(script in mutated(IMAP_SEEDS), password in any::<bool>()) {
        drive::imap(script, password);
    }

    #[test]
    fn smtp_client_survives_any_replies(script in mutated(SMTP_SEEDS), password in any::<bool>()) {
        drive::smtp(script, password);
    }

    #[test]
    fn pop3_client_survives_any_answers(script in mutated(POP3_SEEDS), password in any::<bool>()) {
        drive::pop3(script, password);
    }

    #[test]
    fn clients_survive_random_bytes(
        script in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8),
    ) {
        drive::imap(script.clone(), false);
        drive::smtp(script.clone(), true);
        drive::pop3(script, false);
    }

    #[test]
    fn a_sasl_challenge_of_any_text_is_read(text in any::<String>(), json in "\\{\"status\":[^}]{0,12}\\}") {
        drive::sasl_challenge(&text);
        drive::sasl_challenge(&json);
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &json);
        drive::sasl_challenge(&encoded);
    }
}
