//! mailgate-store
