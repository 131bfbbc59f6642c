#!/usr/bin/env bash
# Stops the Dovecot + Postfix test instance in MAILSTACK_DIR (or the directory given as $1).
# Quietly succeeds when it is not running. MAILSTACK_REMOVE_DIR=1 also deletes the directory.
set -uo pipefail

DIR=${1:-${MAILSTACK_DIR:-}}
REGISTRY=${MAILSTACK_REGISTRY:-/tmp/mailstack-ports}
if [[ -z $DIR ]]; then
    echo "usage: stop.sh MAILSTACK_DIR (or set MAILSTACK_DIR)" >&2
    exit 2
fi
[[ -d $DIR ]] || exit 0
DIR=$(cd "$DIR" && pwd -P)

# start.sh calls this while it already holds the instance lock.
if [[ -z ${_MAILSTACK_LOCK_HELD:-} ]]; then
    exec 9>"$DIR/.lock"
    flock -w 30 9 || echo "mailstack stop: $DIR/.lock is busy, stopping anyway" >&2
fi

# The watchdog (its own session, so kill its whole group) is not needed any more,
# unless this script is the watchdog itself.
wpid=$(cat "$DIR/run/watchdog.pid" 2>/dev/null || true)
if [[ $wpid =~ ^[0-9]+$ && $wpid != "$$" ]] &&
    tr '\0' ' ' <"/proc/$wpid/cmdline" 2>/dev/null | grep -q mailstack-watchdog; then
    kill -TERM -- "-$wpid" 2>/dev/null || true
fi
rm -f "$DIR/run/watchdog.pid"

# SIGTERM to a master (Dovecot or Postfix) makes it stop its children and exit;
# signalling directly is faster than `postfix stop`, which polls once a second.
stop_master() { # pidfile comm
    local pid i
    pid=$(tr -d ' \n' 2>/dev/null <"$1") || return 0
    [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    # Exited once gone or a zombie: this container's init reaps orphans only about
    # once a second, so waiting for /proc/<pid> to vanish would add up to a second.
    for ((i = 0; i < 200; i++)); do
        [[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) =~ ^(Z|X|)$ ]] && return 0
        sleep 0.05
    done
    echo "mailstack stop: $2 ($pid) did not exit within 10 s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}
stop_master "$DIR/run/dovecot/master.pid" dovecot 9>&- &
stop_master "$DIR/postfix-queue/pid/master.pid" master 9>&- &
wait

base=$(cat "$DIR/port_base" 2>/dev/null || true)
if [[ $base =~ ^[0-9]+$ && -f $REGISTRY/$base && $(cat "$REGISTRY/$base" 2>/dev/null) == "$DIR" ]]; then
    rm -f "$REGISTRY/$base"
fi

if [[ ${MAILSTACK_REMOVE_DIR:-0} == 1 ]]; then
    rm -rf "$DIR"
fi
exit 0
