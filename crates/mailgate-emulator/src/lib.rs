//! mailgate-emulator
