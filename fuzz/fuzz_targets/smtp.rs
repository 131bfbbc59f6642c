//! SMTP replies, as a script of chunks separated by `~~~\n` lines: see `fuzz/seeds/smtp/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailgate_fuzz::proto::{chunks, smtp};

fuzz_target!(|data: &[u8]| {
    smtp(chunks(data), false);
    smtp(chunks(data), true);
});
