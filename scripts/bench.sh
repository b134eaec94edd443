#!/usr/bin/env bash
# `make bench`: the benchmarks of bench/README.md. Prepares everything (virtualenv, Odoo source,
# the private PostgreSQL cluster), installs o2s_esign without demo data in a throwaway database,
# runs bench/run.py (which starts and stops its own Odoo server, TSA and SMS gateway on
# 127.0.0.1), prints the table, writes bench/results.json, then drops the database. Exits
# non-zero when a goal is missed or a part fails. `make bench ARGS="--quick"`: fewer runs;
# `ARGS="--only signing,evidence"`: some parts only.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DB="${O2S_BENCH_DB:-o2s_bench_$$}"

prepare_all
mkdir -p "$RUN_DIR/logs"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    psql_cmd -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$RUN_DIR/data/filestore/$DB"
    if [ "$PG_STARTED_HERE" = 1 ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    exit $rc
}
trap cleanup EXIT INT TERM

psql_cmd -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
rm -rf "$RUN_DIR/data/filestore/$DB"
log "installing o2s_esign (no demo data) in the throwaway database $DB"
start=$(date +%s)
odoo_bin -d "$DB" -i o2s_esign --without-demo=all --stop-after-init \
    --logfile="$RUN_DIR/logs/install-$DB.log" || {
    tail -n 40 "$RUN_DIR/logs/install-$DB.log" >&2
    die "installation failed: see $RUN_DIR/logs/install-$DB.log"
}
log "installed in $(( $(date +%s) - start )) s; running the benchmarks"

cd "$REPO"
set +e
"$PY" "$REPO/bench/run.py" --config "$ODOO_CONF" --db "$DB" --odoo-bin "$ODOO_SRC/odoo-bin" \
    --port "$HTTP_PORT" "$@"
rc=$?
set -e
exit $rc
