//! mailgate-http
