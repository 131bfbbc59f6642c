#!/usr/bin/env bash
# Installs the Debian packages the local mail stack needs (Dovecot + Postfix + tools).
# Idempotent: does nothing when everything is already installed. Must run as root.
# Extra package names given as arguments are installed the same way (scripts/install-test-deps.sh
# adds PostgreSQL for the storage suite).
# The packages' own system services are never started (temporary policy-rc.d).
set -euo pipefail

PACKAGES=(dovecot-imapd dovecot-pop3d dovecot-lmtpd postfix openssl ca-certificates python3 "$@")

missing_packages() {
    local pkg status
    for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ $status == "install ok installed" ]] || printf '%s\n' "$pkg"
    done
}

mapfile -t missing < <(missing_packages)
if ((${#missing[@]} == 0)); then
    exit 0
fi

if ((EUID != 0)); then
    echo "mailstack install: missing packages (${missing[*]}); run this script as root" >&2
    exit 1
fi

# Several test binaries may start stacks at once on a fresh machine: one install at a
# time, and whoever waited re-checks what is still missing.
exec 7>/tmp/mailstack-install.lock
flock -w 600 7 || { echo "mailstack install: /tmp/mailstack-install.lock stayed busy" >&2; exit 1; }
mapfile -t missing < <(missing_packages)
if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "mailstack install: installing ${missing[*]}" >&2

# Keep apt from starting the packages' system-wide daemons: only the test
# instances started by start.sh may run. Leave an existing policy alone.
policy=/usr/sbin/policy-rc.d
own_policy=0
cleanup() { if ((own_policy)); then rm -f "$policy"; fi; }
trap cleanup EXIT
if [[ ! -e $policy ]]; then
    own_policy=1
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
fi

apt_install() {
    # Wait for a dpkg lock held by another apt run instead of failing at once.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=300 "${missing[@]}"
}

if ! apt_install; then
    echo "mailstack install: first attempt failed, running apt-get update and retrying" >&2
    apt-get update -q -o DPkg::Lock::Timeout=300
    apt_install
fi

mapfile -t still_missing < <(missing_packages)
if ((${#still_missing[@]} > 0)); then
    echo "mailstack install: still missing after apt-get: ${still_missing[*]}" >&2
    exit 1
fi
echo "mailstack install: done" >&2
