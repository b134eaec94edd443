#!/usr/bin/env bash
# `make screenshots`: the README's screenshots (docs/screenshots/*.png), taken in headless
# Chromium from the demo. A fresh demo database (O2S_SHOTS_DB, default o2s_esign_screenshots:
# the module, its demo data and French) is served on 127.0.0.1:O2S_SHOTS_HTTP_PORT (default
# the HTTP port + 20) while scripts/screenshots.py creates the requests, signs one on a phone
# and takes the pictures; then Odoo stops and the database is dropped (O2S_KEEP_DB=1 keeps it).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DB="${O2S_SHOTS_DB:-o2s_esign_screenshots}"
PORT="${O2S_SHOTS_HTTP_PORT:-$((HTTP_PORT + 20))}"

prepare_all
mkdir -p "$RUN_DIR/logs"
command -v pdftoppm >/dev/null 2>&1 || die "pdftoppm (poppler-utils) is needed"

odoo_pid=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$odoo_pid" ]; then kill "$odoo_pid" 2>/dev/null || true; wait "$odoo_pid" 2>/dev/null || true; fi
    if [ "${O2S_KEEP_DB:-0}" != 1 ]; then
        psql_cmd -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
        rm -rf "$RUN_DIR/data/filestore/$DB"
    fi
    if [ "$PG_STARTED_HERE" = 1 ]; then pg_stop; fi
    exit $rc
}
trap cleanup EXIT INT TERM

psql_cmd -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
rm -rf "$RUN_DIR/data/filestore/$DB"
log "creating the demo database $DB (module, demo data, French)"
odoo_bin -d "$DB" -i o2s_esign --load-language=en_US,fr_FR --stop-after-init \
    --logfile="$RUN_DIR/logs/screenshots-$DB.log" || die "installation failed: see $RUN_DIR/logs/screenshots-$DB.log"

log "serving it on http://127.0.0.1:$PORT"
# (odoo-bin itself in the background, not a shell function around it: its pid is Odoo's)
"$PY" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" -d "$DB" --db-filter="^${DB}\$" --http-port="$PORT" \
    --logfile="$RUN_DIR/logs/screenshots-$DB.log" &
odoo_pid=$!
for _ in $(seq 1 120); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/web/login" && break
    kill -0 "$odoo_pid" 2>/dev/null || die "Odoo stopped: see $RUN_DIR/logs/screenshots-$DB.log"
    sleep 1
done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/web/login" || die "Odoo did not answer on port $PORT"

"$PY" "$REPO/scripts/screenshots.py" --url "http://127.0.0.1:$PORT" --db "$DB" "$@"
