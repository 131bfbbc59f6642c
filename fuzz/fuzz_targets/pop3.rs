//! POP3 answers, as a script of chunks separated by `~~~\n` lines: see `fuzz/seeds/pop3/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailgate_fuzz::proto::{chunks, pop3, sasl_challenge};

fuzz_target!(|data: &[u8]| {
    pop3(chunks(data), false);
    pop3(chunks(data), true);
    sasl_challenge(&String::from_utf8_lossy(data));
});
