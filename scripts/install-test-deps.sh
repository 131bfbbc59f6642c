#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine (as root): Dovecot + Postfix for the
# mail stack, PostgreSQL for the storage suite, sqlite3 (a test holds a database lock with it),
# python3 (the mail stack's list has it; its `email` package is an oracle of the address
# property test in crates/mailgate-domain/tests/props/addresses.rs, and its smtplib and imaplib
# are the peers of the benchmarks, scripts/bench/*.py).
# Does nothing when all of it is there.
set -euo pipefail
cd "$(dirname "$0")/.."
exec crates/mailgate-testkit/mailstack/install.sh postgresql util-linux sqlite3
