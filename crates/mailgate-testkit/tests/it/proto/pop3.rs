//! POP3 client against Dovecot.
