#!/usr/bin/env bash
# `make run`: Odoo 18 with o2s_esign and its demo data on http://127.0.0.1:8069.
# Creates the database on first run (module + demo data + French), updates the module when its
# files changed since the last run, points the demo at local stand-ins for the SMS gateway and
# the mail server (their messages are printed here), and stops cleanly on Ctrl-C: Odoo first,
# then the stand-ins, then PostgreSQL.
# Started in the background by a script (`make run &`, nohup), a shell begins with SIGINT ignored
# and bash can then neither trap nor reset it: Ctrl-C (SIGINT to the process group) would do
# nothing. Start again once with SIGINT at its default, so that the trap below sees it.
if [ -z "${O2S_RUN_SIGINT_RESET:-}" ] && [ -r /proc/$$/status ] \
        && (( 0x$(awk '/^SigIgn:/ {print $2}' /proc/$$/status) & 0x2 )); then
    export O2S_RUN_SIGINT_RESET=1
    exec python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv("/bin/bash", ["bash"] + sys.argv[1:])' "${BASH_SOURCE[0]}" "$@"
fi
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DB="${O2S_DB:-o2s_esign}"
SMS_PORT="${O2S_SMS_SINK_PORT:-$((HTTP_PORT + 2))}"
MAIL_PORT="${O2S_MAIL_SINK_PORT:-$((HTTP_PORT + 4))}"
TSA_PORT="${O2S_TSA_SINK_PORT:-$((HTTP_PORT + 6))}"
MAIL_DIR="$RUN_DIR/mails"

prepare_all
mkdir -p "$RUN_DIR/logs"

# Odoo and the stand-ins run in sessions of their own (setsid): Ctrl-C reaches this script
# only, which stops them one after the other (Odoo gets one signal, not the terminal's and ours).
odoo_pid=""
sinks=()
stop_process() {  # pid: SIGTERM (Odoo's graceful shutdown), SIGKILL after 60 s
    local pid="$1" i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 600); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    trap - TERM EXIT
    trap '' INT  # a second Ctrl-C while stopping: the timeouts above still bound the wait
    if [ -n "$odoo_pid" ]; then
        log "stopping Odoo"
        stop_process "$odoo_pid"
    fi
    for pid in "${sinks[@]}"; do stop_process "$pid"; done
    # PostgreSQL last, and only when this run started it (another command may be using it).
    if [ "$PG_STARTED_HERE" = 1 ]; then pg_stop; fi
    log "stopped"
}
trap cleanup INT TERM EXIT

if ! db_exists "$DB"; then
    log "creating database $DB with o2s_esign and its demo data (about a minute)"
    odoo_bin -d "$DB" -i o2s_esign --load-language=en_US,fr_FR --stop-after-init \
        --logfile="$RUN_DIR/logs/install-$DB.log" || die "installation failed: see $RUN_DIR/logs/install-$DB.log"
    module_hash > "$RUN_DIR/$DB.module-hash"
elif [ "$(module_hash)" != "$(cat "$RUN_DIR/$DB.module-hash" 2>/dev/null)" ]; then
    log "o2s_esign changed since the last run: updating it in $DB"
    odoo_bin -d "$DB" -u o2s_esign --stop-after-init --logfile="$RUN_DIR/logs/update-$DB.log" \
        || die "update failed: see $RUN_DIR/logs/update-$DB.log"
    module_hash > "$RUN_DIR/$DB.module-hash"
fi

# Stand-ins for the demo (a real deployment configures Odoo SMS, Twilio or its own webhook, and
# its own mail server and timestamp authority): the SMS gateway prints each SMS (the codes), the
# mail catcher each mail (the invitation's signing link) and keeps it in $MAIL_DIR, the
# timestamp authority (the tests' local PKI) time-stamps the signatures (PAdES B-T, no network).
setsid "$PY" "$REPO/scripts/sms_sink.py" --port "$SMS_PORT" </dev/null &
sinks+=($!)
setsid "$PY" "$REPO/scripts/mail_sink.py" --port "$MAIL_PORT" --dir "$MAIL_DIR" </dev/null &
sinks+=($!)
rm -f "$RUN_DIR/tsa-root.pem"
setsid "$PY" "$REPO/scripts/tsa_sink.py" --port "$TSA_PORT" --key-dir "$RUN_DIR/tsa-stand-in-keys" \
    --root-out "$RUN_DIR/tsa-root.pem" </dev/null &
sinks+=($!)
for _ in $(seq 1 300); do  # the stand-in writes its root once it listens (a few seconds)
    [ -s "$RUN_DIR/tsa-root.pem" ] && break
    kill -0 "${sinks[-1]}" 2>/dev/null || die "the timestamp authority stand-in did not start (port $TSA_PORT)"
    sleep 0.1
done
[ -s "$RUN_DIR/tsa-root.pem" ] || die "the timestamp authority stand-in did not start (port $TSA_PORT)"
"$PY" "$REPO/scripts/demo_stand_ins.py" -c "$ODOO_CONF" -d "$DB" \
    --base-url "http://127.0.0.1:$HTTP_PORT" --sms-url "http://127.0.0.1:$SMS_PORT/sms" \
    --smtp-port "$MAIL_PORT" --tsa-url "http://127.0.0.1:$TSA_PORT/o2s/tsa/tsa" \
    --tsa-root "$RUN_DIR/tsa-root.pem" || die "could not point $DB at the local stand-ins"

cat >&2 <<MSG

  o2s_esign is starting on  http://127.0.0.1:$HTTP_PORT   (database: $DB)
  Demo logins:   advisor / advisor   (an advisor with E-signature access)
                 admin / admin       (administrator, every E-signature right)
  The demo's SMS (the signing codes) and mails (the invitations, with their signing link) are
  printed below by local stand-ins; the mails are also kept in $MAIL_DIR.
  Signatures are time-stamped (PAdES B-T) by a local stand-in authority on port $TSA_PORT.
  Press Ctrl-C to stop Odoo and PostgreSQL.

MSG
# (scripts/odoo_serve.py: odoo-bin, without the tracebacks of Odoo's scheduled-action threads
# ending at shutdown)
setsid "$PY" "$REPO/scripts/odoo_serve.py" -c "$ODOO_CONF" -d "$DB" --db-filter="^${DB}\$" </dev/null &
odoo_pid=$!
wait "$odoo_pid"
