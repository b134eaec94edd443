#!/usr/bin/env bash
# `make test`: lint, then a throwaway database with o2s_esign installed, then every test through
# pytest (pytest-odoo for Odoo's test classes, plain pytest for the rest). Fails on any test
# failure, on any skipped test, and on any WARNING/ERROR in the Odoo log that no test expected.
# Extra arguments go to pytest (e.g. `make test ARGS="-k otp"`).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DB="${O2S_TEST_DB:-o2s_test_$$}"
KEEP_DB="${O2S_KEEP_DB:-0}"

prepare_all
mkdir -p "$RUN_DIR/logs"
# Tests never call the internet: no default timestamp authority (a new company would get
# FreeTSA) in the test database nor in the test processes; tests that need one use the local
# certomancer authority of tests/support/.
export O2S_ESIGN_DEFAULT_TSA_URL=""

if [ "${O2S_SKIP_LINT:-0}" != 1 ]; then
    "$REPO/scripts/lint.sh" || die "lint failed"
fi

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$KEEP_DB" != 1 ]; then
        psql_cmd -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
        rm -rf "$RUN_DIR/data/filestore/$DB"
        for extra in $(psql_cmd -c "SELECT datname FROM pg_database WHERE datname LIKE '${DB}\_%'" 2>/dev/null); do
            psql_cmd -c "DROP DATABASE IF EXISTS \"$extra\" WITH (FORCE)" >/dev/null 2>&1 || true
            rm -rf "$RUN_DIR/data/filestore/$extra"
        done
    fi
    if [ "$PG_STARTED_HERE" = 1 ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    exit $rc
}
trap cleanup EXIT INT TERM

if [ "${O2S_REUSE_DB:-0}" = 1 ] && db_exists "$DB"; then
    log "reusing database $DB (updating o2s_esign)"
    odoo_bin -d "$DB" -u o2s_esign --stop-after-init --logfile="$RUN_DIR/logs/install-$DB.log" \
        || die "update failed: see $RUN_DIR/logs/install-$DB.log"
else
    psql_cmd -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    rm -rf "$RUN_DIR/data/filestore/$DB"
    log "installing o2s_esign (with demo data and French) in the throwaway database $DB"
    start=$(date +%s)
    odoo_bin -d "$DB" -i o2s_esign --load-language=en_US,fr_FR --stop-after-init \
        --logfile="$RUN_DIR/logs/install-$DB.log" || {
        tail -n 40 "$RUN_DIR/logs/install-$DB.log" >&2
        die "installation failed: see $RUN_DIR/logs/install-$DB.log"
    }
    log "installed in $(( $(date +%s) - start )) s"
fi
# The practice of Odoo module CI: the install log holds no WARNING or ERROR.
if "$PY" "$REPO/scripts/checklog.py" "$RUN_DIR/logs/install-$DB.log"; then :; else
    die "the install log holds warnings or errors (above)"
fi

log "running the tests"
export O2S_TEST_DB="$DB" ODOO_RC="$ODOO_CONF" O2S_ODOO_CONF="$ODOO_CONF" O2S_PY="$PY"
cd "$REPO"
set +e
"$PY" -m pytest --odoo-database="$DB" --odoo-config="$ODOO_CONF" --odoo-http \
    --odoo-log-level=warn "$@"
rc=$?
set -e
exit $rc
