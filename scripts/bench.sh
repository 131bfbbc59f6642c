#!/usr/bin/env bash
# Runs both benchmarks (as root: they start Dovecot + Postfix). CI runs them with small counts so
# that they cannot rot (`scripts/bench.sh --small`); the figures of the README come from
# `scripts/bench.sh --release` on a quiet machine. Their peers (Python's smtplib and imaplib,
# scripts/bench/*.py) need python3, which scripts/install-test-deps.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=()
send=(--messages 1000)
receive=(--messages 2000 --latency 100 --idle 90)
for a in "$@"; do
  case "$a" in
    --release) profile=(--release) ;;
    --small) send=(--messages 20); receive=(--messages 40 --latency 3 --idle 2) ;;
    *) echo "usage: scripts/bench.sh [--release] [--small]" >&2; exit 2 ;;
  esac
done
scripts/install-test-deps.sh
cargo run "${profile[@]}" --locked -p mailgate-testkit --bin bench-send -- "${send[@]}"
cargo run "${profile[@]}" --locked -p mailgate-testkit --bin bench-receive -- "${receive[@]}"
