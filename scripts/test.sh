#!/usr/bin/env bash
# Runs every test, as CI does: installs what the tests need when it is missing (Debian packages,
# as root), starts a throwaway PostgreSQL for the storage suite, then runs the whole workspace's
# tests. The Dovecot + Postfix stack and the Google emulator are started by the tests themselves.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -p mailgate-store`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
eval "$(scripts/pg-test-server.sh start)"
trap 'scripts/pg-test-server.sh stop "$PGTEST_DIR"' EXIT
cargo test --workspace --locked "$@"
