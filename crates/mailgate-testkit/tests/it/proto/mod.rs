//! The protocol clients of mailgate-proto against the real Dovecot + Postfix stack.

mod gmail;
mod imap;
mod pop3;
mod smtp;
