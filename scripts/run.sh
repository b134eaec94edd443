#!/usr/bin/env bash
# `make run`: Odoo 18 with o2s_esign and its demo data on http://127.0.0.1:8069.
# Creates the database on first run (module + demo data + French), updates the module when its
# files changed since the last run, and stops Odoo and PostgreSQL cleanly on Ctrl-C.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DB="${O2S_DB:-o2s_esign}"
SMS_PORT="${O2S_SMS_SINK_PORT:-8071}"

prepare_all
mkdir -p "$RUN_DIR/logs"

children=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${children[@]}"; do wait "$pid" 2>/dev/null || true; done
    pg_stop
    log "stopped"
}
trap cleanup INT TERM EXIT

module_hash() { (cd "$REPO" && find o2s_esign -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }

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

# A stand-in SMS gateway for the demo: the demo company sends its SMS codes to it, and it
# prints them here (a real deployment configures Odoo SMS, Twilio or its own webhook).
"$PY" "$REPO/scripts/sms_sink.py" --port "$SMS_PORT" &
children+=($!)

cat >&2 <<MSG

  o2s_esign is starting on  http://127.0.0.1:$HTTP_PORT   (database: $DB)
  Demo logins:   advisor / advisor   (an advisor with E-signature access)
                 admin / admin       (administrator, every E-signature right)
  SMS codes of the demo are printed below by the local SMS gateway stand-in.
  Press Ctrl-C to stop Odoo and PostgreSQL.

MSG
odoo_bin -d "$DB" --db-filter="^${DB}\$" &
children+=($!)
wait "${children[-1]}"
