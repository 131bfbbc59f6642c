//! IMAP client against Dovecot.
