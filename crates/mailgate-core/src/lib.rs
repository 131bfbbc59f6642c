//! mailgate-core
