//! A filter rule as the API receives it (JSON).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailgate_fuzz::mail::check_filter(data);
});
