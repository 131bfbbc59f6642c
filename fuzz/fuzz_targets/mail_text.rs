//! Text as an attachment name, an HTML body, a subject with ticket tags, an address.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        mailgate_fuzz::mail::check_text(text);
    }
});
