#!/usr/bin/env bash
# Starts one Dovecot + Postfix test instance on 127.0.0.1 and waits until it is ready.
#
#   MAILSTACK_DIR         required: the instance directory (created if missing)
#   MAILSTACK_TOKEN_URL   required: base URL of the tokeninfo endpoint, e.g. http://127.0.0.1:41234
#   MAILSTACK_PORT_BASE   "auto" (default: a free 1000-port block in 20000-59999) or a number
#   MAILSTACK_PARENT_PID  optional: stop the instance when this process is gone
#   MAILSTACK_REMOVE_DIR  optional: 1 = the watchdog also deletes MAILSTACK_DIR after stopping
#   MAILSTACK_AUTH_DEBUG  optional: yes = Dovecot auth debug logging
#
# On success prints KEY=VALUE lines (also written to $MAILSTACK_DIR/env).
# Starting an instance that already runs re-renders its config, reloads what changed
# and probes it again. Must run as root (the Dovecot and Postfix masters need it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OFFSETS=(25 110 143 465 587 993 995)
REGISTRY=${MAILSTACK_REGISTRY:-/tmp/mailstack-ports}
READY_TIMEOUT=${MAILSTACK_READY_TIMEOUT:-20}

fail() {
    echo "mailstack start: $*" >&2
    exit 1
}

# ------------------------------------------------------------------ inputs
DIR=${MAILSTACK_DIR:-}
TOKEN_URL=${MAILSTACK_TOKEN_URL:-}
PORT_BASE=${MAILSTACK_PORT_BASE:-auto}
AUTH_DEBUG=${MAILSTACK_AUTH_DEBUG:-no}
[[ -n $DIR ]] || fail "MAILSTACK_DIR is not set (the directory for this instance)"
[[ $TOKEN_URL =~ ^https?://[^[:space:]]+$ ]] ||
    fail "MAILSTACK_TOKEN_URL must be an http(s) base URL such as http://127.0.0.1:41234, got '$TOKEN_URL'"
TOKEN_URL=${TOKEN_URL%/}
[[ $PORT_BASE == auto || $PORT_BASE =~ ^[0-9]+$ ]] ||
    fail "MAILSTACK_PORT_BASE must be 'auto' or a number, got '$PORT_BASE'"
[[ $AUTH_DEBUG == yes || $AUTH_DEBUG == no ]] || fail "MAILSTACK_AUTH_DEBUG must be yes or no"
((EUID == 0)) || fail "must run as root (the Dovecot and Postfix master processes need it)"

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
[[ $DIR != *[[:space:]]* ]] || fail "MAILSTACK_DIR must not contain whitespace: '$DIR'"
NAME=$(basename "$DIR" | tr -c 'A-Za-z0-9._\n-' '_')

# mktemp/tempfile directories are 0700: the mail (uid 8), postfix and dovecot users must
# be able to traverse the instance directory and every directory above it.
chmod go+x "$DIR"
parent=$(dirname "$DIR")
while [[ $parent != / ]]; do
    (((8#$(stat -c %a "$parent") & 1) == 1)) ||
        fail "$parent is not traversable by other users (the mail and postfix users need it): chmod o+x it or choose another MAILSTACK_DIR"
    parent=$(dirname "$parent")
done

mkdir -p "$DIR"/{conf/postfix,tls,run,log,state,mail,postfix-queue}
LOG=$DIR/log

# One start or stop at a time per instance. fd 9 must not leak into the daemons,
# or they would hold the lock forever.
exec 9>"$DIR/.lock"
flock -w 60 9 || fail "another start/stop of $DIR holds $DIR/.lock"

# ------------------------------------------------------------------ packages
PYTHON=${PYTHON:-}
if [[ -z $PYTHON ]]; then
    # /usr/bin/python3 first: a pyenv shim costs ~200 ms per start.
    if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
if [[ ! -x /usr/sbin/dovecot || ! -x /usr/sbin/postfix || ! -x /usr/lib/postfix/sbin/master ]] ||
    ! command -v openssl >/dev/null || ! command -v "$PYTHON" >/dev/null; then
    echo "mailstack start: Dovecot/Postfix packages missing, running install.sh (log: $LOG/install.log)" >&2
    bash "$HERE/install.sh" </dev/null >>"$LOG/install.log" 2>&1 9>&- || {
        tail -n 20 "$LOG/install.log" >&2
        fail "installing the packages failed, see $LOG/install.log (or run $HERE/install.sh as root)"
    }
fi
VMAIL_UID=$(id -u mail)
VMAIL_GID=$(id -g mail)
chown "$VMAIL_UID:$VMAIL_GID" "$DIR/mail"

# ------------------------------------------------------------------ helpers
pid_alive() { # pidfile comm
    local pid
    [[ -s $1 ]] || return 1
    pid=$(tr -d ' \n' <"$1")
    [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]] &&
        [[ ! $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) =~ ^(Z|X)$ ]] # not a zombie
}
dovecot_running() { pid_alive "$1/run/dovecot/master.pid" dovecot; }
postfix_running() { pid_alive "$1/postfix-queue/pid/master.pid" master; }

# Writes $2 to $1 only when it differs, and back-dates the file: Postfix sleeps up to
# 1.5 s at start and reload while main.cf or a lookup table is less than ~1 s old.
CHANGED=()
write_file() { # path content
    if [[ -f $1 && $(<"$1") == "$2" ]]; then return 0; fi
    printf '%s\n' "$2" >"$1.tmp"
    chmod 0644 "$1.tmp"
    touch -d '-10 seconds' "$1.tmp"
    mv -f "$1.tmp" "$1"
    CHANGED+=("$1")
}

render() { # template destination
    local text
    text=$(<"$HERE/templates/$1")
    # Quoted replacements: bash 5.2 would otherwise expand '&' in them.
    text=${text//@DIR@/"$DIR"}
    text=${text//@NAME@/"$NAME"}
    text=${text//@TOKEN_URL@/"$TOKEN_URL"}
    text=${text//@AUTH_DEBUG@/"$AUTH_DEBUG"}
    text=${text//@VMAIL_UID@/"$VMAIL_UID"}
    text=${text//@VMAIL_GID@/"$VMAIL_GID"}
    text=${text//@SMTP_PORT@/"$SMTP_PORT"}
    text=${text//@SUBMISSION_PORT@/"$SUBMISSION_PORT"}
    text=${text//@SMTPS_PORT@/"$SMTPS_PORT"}
    text=${text//@IMAP_PORT@/"$IMAP_PORT"}
    text=${text//@IMAPS_PORT@/"$IMAPS_PORT"}
    text=${text//@POP3_PORT@/"$POP3_PORT"}
    text=${text//@POP3S_PORT@/"$POP3S_PORT"}
    write_file "$DIR/conf/$2" "$text"
}

# ------------------------------------------------------------------ port block
# Every TCP port in use on this host (any state, IPv4 and IPv6).
declare -A BUSY=()
load_busy_ports() {
    local hex
    while read -r hex; do BUSY[$((16#$hex))]=1; done < <(
        awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u
    )
}
block_free() { # base
    local off
    for off in "${OFFSETS[@]}"; do [[ -z ${BUSY[$(($1 + off))]:-} ]] || return 1; done
}
# A reservation in $REGISTRY/<base> names the instance directory that owns the block;
# it is live while that instance runs or is being started (its lock is held).
reserved_by_other() { # base
    local reg=$REGISTRY/$1 owner
    [[ -s $reg ]] || return 1
    owner=$(<"$reg")
    [[ $owner != "$DIR" && -d $owner && -s $owner/port_base && $(<"$owner/port_base") == "$1" ]] || return 1
    dovecot_running "$owner" || postfix_running "$owner" || ! flock -n "$owner/.lock" true 2>/dev/null
}

choose_port_base() {
    local running=0 previous="" base
    if dovecot_running "$DIR" || postfix_running "$DIR"; then running=1; fi
    [[ -s $DIR/port_base ]] && previous=$(<"$DIR/port_base")
    if ((running)) && [[ -n $previous ]]; then
        [[ $PORT_BASE == auto || $PORT_BASE == "$previous" ]] ||
            fail "instance $DIR already runs on port base $previous; run stop.sh $DIR first"
        PORT_BASE=$previous
        return
    fi
    mkdir -p "$REGISTRY"
    chmod 1777 "$REGISTRY" 2>/dev/null || true
    # The registry lock serialises port choices of concurrent starts (several test binaries).
    exec 8>"$REGISTRY/.lock"
    flock -w 60 8 || fail "could not lock $REGISTRY/.lock to choose ports"
    load_busy_ports
    if [[ $PORT_BASE == auto ]]; then
        PORT_BASE=""
        for base in $previous $(seq 20000 1000 59000); do
            if ! reserved_by_other "$base" && block_free "$base"; then
                PORT_BASE=$base
                break
            fi
        done
        [[ -n $PORT_BASE ]] || fail "no free 1000-port block between 20000 and 60000 (see $REGISTRY)"
    else
        reserved_by_other "$PORT_BASE" &&
            fail "port base $PORT_BASE is used by the instance in $(<"$REGISTRY/$PORT_BASE")"
        local off
        for off in "${OFFSETS[@]}"; do
            [[ -z ${BUSY[$((PORT_BASE + off))]:-} ]] ||
                fail "port $((PORT_BASE + off)) (MAILSTACK_PORT_BASE=$PORT_BASE + $off) is already in use"
        done
    fi
    printf '%s\n' "$DIR" >"$REGISTRY/$PORT_BASE"
    printf '%s\n' "$PORT_BASE" >"$DIR/port_base"
    exec 8>&-
}

choose_port_base
SMTP_PORT=$((PORT_BASE + 25))
POP3_PORT=$((PORT_BASE + 110))
IMAP_PORT=$((PORT_BASE + 143))
SMTPS_PORT=$((PORT_BASE + 465))
SUBMISSION_PORT=$((PORT_BASE + 587))
IMAPS_PORT=$((PORT_BASE + 993))
POP3S_PORT=$((PORT_BASE + 995))

# ------------------------------------------------------------------ TLS (once per directory)
# A small CA signing a leaf (CA:FALSE, SANs, EKU serverAuth): rustls/webpki refuses a
# self-signed CA:TRUE certificate as a server certificate and ignores the CN.
make_certs() {
    local t=$DIR/tls
    [[ -s $t/ca.pem && -s $t/server.key && -s $t/server-chain.pem ]] && return 0
    rm -f "$t"/*
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${ec[@]}" -keyout "$t/ca.key" -out "$t/ca.pem" -days 3650 \
        -subj "/CN=mailstack test CA ($NAME)" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$LOG/openssl.log"
    openssl req -new "${ec[@]}" -keyout "$t/server.key" -out "$t/server.csr" \
        -subj "/CN=localhost" 2>>"$LOG/openssl.log"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" \
        "subjectAltName=DNS:localhost,DNS:mail.example.test,IP:127.0.0.1" >"$t/server.ext"
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
        -days 3650 -extfile "$t/server.ext" -out "$t/server.crt" 2>>"$LOG/openssl.log"
    cat "$t/server.crt" "$t/ca.pem" >"$t/server-chain.pem"
    chmod 0600 "$t/ca.key" "$t/server.key"
    chmod 0644 "$t/ca.pem" "$t/server.crt" "$t/server-chain.pem"
}
make_certs || fail "creating the test certificates failed, see $LOG/openssl.log"

# ------------------------------------------------------------------ configuration
render dovecot.conf dovecot.conf
render dovecot-oauth2.conf.ext dovecot-oauth2.conf.ext
render users users
render main.cf postfix/main.cf
render master.cf postfix/master.cf
render virtual_alias postfix/virtual_alias
render catchall.regexp postfix/catchall.regexp
render any-user.regexp postfix/any-user.regexp
write_file "$DIR/conf/postfix/vmailbox" "$(awk -F: '!/^[[:space:]]*(#|$)/ { print $1 " OK" }' "$DIR/conf/users")"
DOVECOT_CHANGED=0
POSTFIX_CHANGED=0
for f in "${CHANGED[@]}"; do
    case $f in
    */conf/postfix/*) POSTFIX_CHANGED=1 ;;
    *) DOVECOT_CHANGED=1 ;;
    esac
done

# ------------------------------------------------------------------ watchdog
# Stops this instance once MAILSTACK_PARENT_PID (a test binary) has exited. Fully
# detached (own session, no inherited stdio or lock fds) so it never holds a pipe open.
start_watchdog() {
    local parent=${MAILSTACK_PARENT_PID:-} old
    [[ -n $parent ]] || return 0
    [[ $parent =~ ^[0-9]+$ && -d /proc/$parent ]] || fail "MAILSTACK_PARENT_PID=$parent is not a running process"
    if [[ -s $DIR/run/watchdog.pid ]]; then
        old=$(<"$DIR/run/watchdog.pid")
        if [[ $old =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q mailstack-watchdog; then
            kill -TERM -- "-$old" 2>/dev/null || true
        fi
    fi
    # tail --pid polls the parent without spawning a process per check.
    # shellcheck disable=SC2016 # $1..$3 are expanded by the watchdog shell
    MAILSTACK_REMOVE_DIR=${MAILSTACK_REMOVE_DIR:-0} setsid bash -c \
        'tail --pid="$1" -s 0.5 -f /dev/null; exec bash "$2" "$3"' \
        mailstack-watchdog "$parent" "$HERE/stop.sh" "$DIR" </dev/null >/dev/null 2>&1 8>&- 9>&- &
    echo $! >"$DIR/run/watchdog.pid"
}
start_watchdog

# ------------------------------------------------------------------ daemons
STARTED=0
on_failure() { # message log...
    local log
    echo "mailstack start: $1" >&2
    shift
    for log in "$@"; do
        echo "mailstack start: read $log; its last lines:" >&2
        tail -n 25 "$log" >&2 2>/dev/null || true
    done
    if ((STARTED)); then
        _MAILSTACK_LOCK_HELD=1 MAILSTACK_REMOVE_DIR=0 bash "$HERE/stop.sh" "$DIR" </dev/null >/dev/null 2>&1 9>&- || true
    fi
    exit 1
}

# Daemons get </dev/null and a log file as stdout/stderr: a daemon that kept the
# caller's stderr pipe would make Command::output() in a test wait forever.
run_dovecot() {
    local conf=$DIR/conf/dovecot.conf
    if dovecot_running "$DIR"; then
        ((DOVECOT_CHANGED)) || return 0
        dovecot -c "$conf" reload
    else
        dovecot -c "$conf"
    fi
}
run_postfix() {
    local conf=$DIR/conf/postfix
    if postfix_running "$DIR"; then
        ((POSTFIX_CHANGED)) || return 0
        postfix -c "$conf" reload
    else
        postfix -c "$conf" start
    fi
}
STARTED=1
run_dovecot </dev/null >>"$LOG/dovecot-cmd.log" 2>&1 8>&- 9>&- &
dovecot_job=$!
run_postfix </dev/null >>"$LOG/postfix-cmd.log" 2>&1 8>&- 9>&- &
postfix_job=$!
wait "$dovecot_job" || {
    cat "$LOG/dovecot-cmd.log" >>"$LOG/dovecot.log" 2>/dev/null || true
    on_failure "Dovecot did not start (dovecot -c $DIR/conf/dovecot.conf)" "$LOG/dovecot.log"
}
# With maillog_file set, the postfix command reports errors only to that log.
wait "$postfix_job" || on_failure "Postfix did not start (postfix -c $DIR/conf/postfix start)" "$LOG/postfix.log"

# ------------------------------------------------------------------ readiness
# TCP accepts come before Dovecot's auth process is ready: wait for real greetings,
# through TLS on the implicit-TLS ports (also proves the certificate chain).
probe_output=$(
    "$PYTHON" - "$DIR/tls/ca.pem" "$READY_TIMEOUT" \
        "IMAP:$IMAP_PORT:plain:* OK" "IMAPS:$IMAPS_PORT:tls:* OK" \
        "POP3:$POP3_PORT:plain:+OK" "POP3S:$POP3S_PORT:tls:+OK" \
        "SMTP:$SMTP_PORT:plain:220" "submission:$SUBMISSION_PORT:plain:220" \
        "SMTPS:$SMTPS_PORT:tls:220" 2>&1 8>&- 9>&- <<'PY'
import socket, ssl, sys, threading, time

cafile, timeout, specs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
ctx = ssl.create_default_context(cafile=cafile)
deadline = time.monotonic() + timeout
failures = []

def greeting(port, tls):
    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        if tls:
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
        data = b""
        while b"\n" not in data:
            chunk = sock.recv(512)
            if not chunk:
                break
            data += chunk
        return data.decode("utf-8", "replace").strip()
    finally:
        sock.close()

def probe(name, port, mode, expect):
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            line = greeting(int(port), mode == "tls")
            if line.startswith(expect):
                return
            last = "unexpected greeting %r" % line
        except Exception as e:  # refused, reset, TLS error: retry until the deadline
            last = "%s: %s" % (type(e).__name__, e)
        time.sleep(0.03)
    failures.append("%s port %s not ready after %ss (%s)" % (name, port, timeout, last))

threads = [threading.Thread(target=probe, args=s.split(":", 3)) for s in specs]
for t in threads:
    t.start()
for t in threads:
    t.join()
for f in failures:
    print(f)
sys.exit(1 if failures else 0)
PY
) || {
    logs=()
    [[ $probe_output == *IMAP* || $probe_output == *POP3* ]] && logs+=("$LOG/dovecot.log")
    [[ $probe_output == *SMTP* || $probe_output == *submission* ]] && logs+=("$LOG/postfix.log")
    on_failure "the stack did not become ready:"$'\n'"$probe_output" "${logs[@]}"
}

# ------------------------------------------------------------------ result
ENV_TEXT="MAILSTACK_DIR=$DIR
MAILSTACK_PORT_BASE=$PORT_BASE
MAILSTACK_SMTP_PORT=$SMTP_PORT
MAILSTACK_SUBMISSION_PORT=$SUBMISSION_PORT
MAILSTACK_SMTPS_PORT=$SMTPS_PORT
MAILSTACK_IMAP_PORT=$IMAP_PORT
MAILSTACK_IMAPS_PORT=$IMAPS_PORT
MAILSTACK_POP3_PORT=$POP3_PORT
MAILSTACK_POP3S_PORT=$POP3S_PORT
MAILSTACK_CA_PEM=$DIR/tls/ca.pem
MAILSTACK_DOMAIN=example.test
MAILSTACK_TOKEN_URL=$TOKEN_URL
MAILSTACK_DOVECOT_LOG=$LOG/dovecot.log
MAILSTACK_POSTFIX_LOG=$LOG/postfix.log"
printf '%s\n' "$ENV_TEXT" >"$DIR/env"
printf '%s\n' "$ENV_TEXT"
