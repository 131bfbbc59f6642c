#![allow(clippy::unwrap_used)] // a test binary: a failed unwrap is a failed test
//! One storage suite, run on both backends: every `store_test!` becomes `<name>::sqlite` and
//! `<name>::postgres`. PostgreSQL comes from MAILGATE_TEST_POSTGRES_URL (a server URL whose user
//! may create databases; `scripts/test.sh` starts one); each test gets its own database. Without
//! that variable the PostgreSQL half fails, naming the fix: it is never skipped.

mod admin_tokens;
mod credentials;
mod durability;
mod errors;
mod harness;
mod imports;
mod meta;
mod objects;
mod outbox;
mod permissions;
mod probe;
mod sqlite;
mod threading;
mod tickets;
