//! mailgate-domain
