//! IMAP answers (our own parser before login, async-imap's after), as a script of chunks
//! separated by `~~~\n` lines: see `fuzz/seeds/imap/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailgate_fuzz::proto::{chunks, imap};

fuzz_target!(|data: &[u8]| {
    imap(chunks(data), false);
    imap(chunks(data), true);
});
