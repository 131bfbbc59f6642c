//! A configuration file (TOML): settings, or problems that each name their key.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        mailgate_fuzz::config::check(Some(text), Vec::new());
    }
});
