#!/usr/bin/env bash
# `make bench`: the benchmarks of bench/README.md. Prepares everything (virtualenv, Odoo source,
# the private PostgreSQL cluster), installs o2s_esign without demo data in a throwaway database,
# installs the sign_oca peer when the package index answers (bench/install_peer.sh), runs
# bench/run.py (which starts and stops its own Odoo servers, TSA, SMS gateway and SMTP sink on
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

# The peer of the "peer" part (issue 19): OCA sign_oca, pinned in bench/requirements-peer.txt,
# installed into bench/.peer-addons (never the shared virtualenv) and put on the addons path of
# the benchmark's own configuration file. When it cannot be installed (no package index), the
# run goes on without it and the peer goals print "not measured".
BENCH_CONF="$RUN_DIR/odoo-bench.conf"
cp "$ODOO_CONF" "$BENCH_CONF"
modules=o2s_esign
if peer_dir="$(O2S_VENV="$VENV" timeout 300 bash "$REPO/bench/install_peer.sh")" \
        && [ -d "$peer_dir/sign_oca" ]; then
    sed -i "s#^addons_path = .*#&,$peer_dir#" "$BENCH_CONF"
    modules=o2s_esign,sign_oca
else
    log "the sign_oca peer could not be installed (package index unreachable?): its ratios" \
        "will print \"not measured\""
fi

psql_cmd -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
rm -rf "$RUN_DIR/data/filestore/$DB"
log "installing $modules (no demo data) in the throwaway database $DB"
start=$(date +%s)
"$PY" "$ODOO_SRC/odoo-bin" -c "$BENCH_CONF" -d "$DB" -i "$modules" --without-demo=all --stop-after-init \
    --logfile="$RUN_DIR/logs/install-$DB.log" >/dev/null || {
    tail -n 40 "$RUN_DIR/logs/install-$DB.log" >&2
    die "installation failed: see $RUN_DIR/logs/install-$DB.log"
}
log "installed in $(( $(date +%s) - start )) s; running the benchmarks"

cd "$REPO"
set +e
"$PY" "$REPO/bench/run.py" --config "$BENCH_CONF" --db "$DB" --odoo-bin "$ODOO_SRC/odoo-bin" \
    --port "$HTTP_PORT" "$@"
rc=$?
set -e
exit $rc
