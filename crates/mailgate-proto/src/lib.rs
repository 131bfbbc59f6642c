//! mailgate-proto
