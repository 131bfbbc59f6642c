//! mailgate-testkit
