//! mailgate-testkit: helpers for mailgate's tests.

pub mod mailstack;
