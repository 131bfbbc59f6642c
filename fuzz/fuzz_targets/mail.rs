//! A raw incoming message: MIME, threading headers, delivery reports, charsets, attachment
//! names; parsed, classified and threaded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailgate_fuzz::mail::check_parsed(data);
});
