#!/usr/bin/env bash
# The whole local setup without a Google account: the Google emulator (OAuth2 + Gmail API), a real
# Dovecot + Postfix stack that accepts the emulator's tokens, and `mailgate serve`, configured with
# an OAuth app, a service account, an IMAP mailbox and SMTP / Gmail API senders pointing at them.
# Runs until Ctrl-C, then stops everything. Needs root (Dovecot and Postfix masters) on Debian.
#
#   scripts/demo.sh            state in ./mailgate-demo/ (kept between runs; delete it to start over)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
demo=${MAILGATE_DEMO_DIR:-$root/mailgate-demo}
listen=127.0.0.1:8025
emulator_listen=127.0.0.1:8026
emulator=http://$emulator_listen
mkdir -p "$demo"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pids=()
cleanup() {
    # Once stopping, a second Ctrl-C must not leave Dovecot and Postfix running.
    trap '' INT TERM
    trap - EXIT
    say "stopping"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    crates/mailgate-testkit/mailstack/stop.sh "$demo/stack" || true
}
trap cleanup EXIT INT TERM

wait_http() {
    for _ in $(seq 1 200); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "demo: $1 did not answer; logs are in $demo/" >&2
    exit 1
}

say "building mailgate and the Google emulator"
cargo build -q -p mailgate -p mailgate-emulator
bin=$root/target/debug

say "starting Dovecot + Postfix (tokens checked at $emulator/tokeninfo)"
eval "$(MAILSTACK_DIR=$demo/stack MAILSTACK_TOKEN_URL=$emulator crates/mailgate-testkit/mailstack/start.sh | sed 's/^/export /')"

say "starting the Google emulator on $emulator"
"$bin/google-emulator" --listen "$emulator_listen" --smtp-relay "127.0.0.1:$MAILSTACK_SMTP_PORT" \
    --catchall catchall@example.test --service-account-key-out "$demo/service-account.json" \
    >"$demo/emulator.log" 2>&1 &
pids+=($!)
wait_http "$emulator/healthz"

say "starting mailgate on http://$listen"
export MAILGATE__TLS__EXTRA_CA_FILE=$MAILSTACK_CA_PEM
"$bin/mailgate" serve --data-dir "$demo/data" --listen "$listen" >"$demo/mailgate.log" 2>&1 &
pids+=($!)
wait_http "http://$listen/healthz"
token=$("$bin/mailgate" admin token create --data-dir "$demo/data" --name demo 2>/dev/null)
echo "$token" >"$demo/admin-token"

api() {
    curl -sS -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "http://$listen/api/v1$2" ${3:+-d "$3"}
}
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

if [ "$(api GET /oauth-apps)" = "[]" ]; then
    say "configuring mailgate (first run)"
    app=$(api POST /oauth-apps '{"name":"Google (emulator)","provider":"google","client_id":"demo-client.apps.googleusercontent.com","client_secret":"demo-secret",
        "authorization_url":"'$emulator'/o/oauth2/v2/auth","token_url":"'$emulator'/token","userinfo_url":"'$emulator'/oauth2/v3/userinfo"}' | id_of)
    sa_key=$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1])); print(json.dumps({"name":"Workspace sender (emulator)","key":k}))' "$demo/service-account.json")
    sa=$(api POST /service-accounts "$sa_key" | id_of)
    smtp=$(api POST /outgoing-servers '{"name":"Support SMTP","email":"support@example.test","sender_name":"Support","protocol":"smtp","host":"127.0.0.1",
        "port":'"$MAILSTACK_SUBMISSION_PORT"',"security":"starttls","auth":"oauth","oauth_app_id":"'$app'","reply_to":"support@example.test","primary":true}' | id_of)
    api POST /outgoing-servers '{"name":"Notifications via Gmail API","email":"support@example.test","protocol":"gmail_api","auth":"oauth",
        "service_account_id":"'$sa'","api_base_url":"'$emulator'"}' >/dev/null
    api POST /incoming-servers '{"name":"Support inbox","email":"support@example.test","protocol":"imap","host":"127.0.0.1","port":'"$MAILSTACK_IMAPS_PORT"',
        "security":"ssl","auth":"oauth","oauth_app_id":"'$app'","group":"IT","category":"Hardware","primary":true,"outgoing_server_id":"'$smtp'",
        "filter":{"type":"ignore","domains":["spam.example"]},"import_from":"all"}' >/dev/null
fi

say "a customer writes to support@example.test"
python3 - "$MAILSTACK_SMTP_PORT" <<'PY'
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.sendmail("customer@example.com", ["support@example.test"],
               "From: customer@example.com\r\nTo: support@example.test\r\nSubject: The printer is on fire\r\n\r\nPlease help.\r\n")
PY

inbox=$(api GET /incoming-servers | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
start=$(api POST "/incoming-servers/$inbox/authorize" '{}')
start_url=$(echo "$start" | python3 -c 'import json,sys; print(json.load(sys.stdin)["start_url"])')

say "ready"
"$bin/mailgate" server list --data-dir "$demo/data"
cat <<EOF2

mailgate        http://$listen   (admin token in $demo/admin-token; API document at /api/openapi.json)
Google emulator $emulator   (consent page: $emulator/o/oauth2/v2/auth; sign in as any @example.test user)
mail stack      IMAPS 127.0.0.1:$MAILSTACK_IMAPS_PORT, submission 127.0.0.1:$MAILSTACK_SUBMISSION_PORT, inbound SMTP 127.0.0.1:$MAILSTACK_SMTP_PORT
                (test CA: $MAILSTACK_CA_PEM; passwords: alice@example.test / alice-password)
logs            $demo/*.log, $demo/stack/log/

Connect the support inbox (consent as support@example.test), in a browser:
      $start_url
or with curl only:
      auth=\$(curl -s -X POST -H "Authorization: Bearer \$(cat $demo/admin-token)" http://$listen/api/v1/incoming-servers/$inbox/authorize \\
             | python3 -c 'import json,sys; print(json.load(sys.stdin)["authorization_url"])')
      rid=\$(curl -s "\$auth" | sed -n 's/.*name="request_id" value="\\([^"]*\\)".*/\\1/p')
      back=\$(curl -s -o /dev/null -w '%{redirect_url}' -d "request_id=\$rid&email=support@example.test&decision=allow" $emulator/o/oauth2/v2/auth/decision)
      curl -s "\$back" | sed 's/<[^>]*>/ /g'
Then the customer's mail becomes a ticket within seconds:
      curl -s -H "Authorization: Bearer \$(cat $demo/admin-token)" http://$listen/api/v1/tickets
Answer it: the reply goes out through the inbox's SMTP sender with [#1] in the subject (the stack
delivers mail for other domains to catchall@example.test, password catchall-password):
      curl -s -X POST -H "Authorization: Bearer \$(cat $demo/admin-token)" -H 'Content-Type: application/json' \\
           http://$listen/api/v1/tickets/1/reply -d '{"text": "A technician is on the way."}'
      curl -s -H "Authorization: Bearer \$(cat $demo/admin-token)" http://$listen/api/v1/messages
and:  $bin/mailgate server list --data-dir $demo/data      $bin/mailgate doctor --data-dir $demo/data
Ctrl-C stops everything.
EOF2
wait "${pids[@]}"
