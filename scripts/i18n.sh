#!/usr/bin/env bash
# `make i18n`: export o2s_esign's terms to i18n/o2s_esign.pot, then merge them into i18n/fr.po
# (existing translations kept, new terms added untranslated, vanished ones dropped).
# The terms come from a fresh throwaway database (O2S_I18N_DB, default o2s_esign_i18n: the module
# and its demo data, as `make test` installs it), dropped afterwards: an updated database would
# keep the old text of its noupdate records (mail and SMS templates), and export that.
# O2S_DB=<name> exports from that existing database instead (updated first).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
prepare_all
mkdir -p "$RUN_DIR/logs"

if [ -n "${O2S_DB:-}" ]; then
    DB="$O2S_DB"
    db_exists "$DB" || die "database $DB does not exist"
    odoo_bin -d "$DB" -u o2s_esign --stop-after-init --logfile="$RUN_DIR/logs/i18n-$DB.log" \
        || die "update failed: see $RUN_DIR/logs/i18n-$DB.log"
    FRESH=0
else
    DB="${O2S_I18N_DB:-o2s_esign_i18n}"
    FRESH=1
fi

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$FRESH" = 1 ]; then
        psql_cmd -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
        rm -rf "$RUN_DIR/data/filestore/$DB"
    fi
    if [ "$PG_STARTED_HERE" = 1 ]; then pg_stop; fi
    exit $rc
}
trap cleanup EXIT INT TERM

if [ "$FRESH" = 1 ]; then
    psql_cmd -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    rm -rf "$RUN_DIR/data/filestore/$DB"
    log "installing o2s_esign in the throwaway database $DB"
    odoo_bin -d "$DB" -i o2s_esign --stop-after-init --logfile="$RUN_DIR/logs/i18n-$DB.log" \
        || die "installation failed: see $RUN_DIR/logs/i18n-$DB.log"
fi
odoo_bin -d "$DB" --i18n-export="$REPO/o2s_esign/i18n/o2s_esign.pot" --modules=o2s_esign \
    --stop-after-init --logfile="$RUN_DIR/logs/i18n-$DB.log" \
    || die "export failed: see $RUN_DIR/logs/i18n-$DB.log"
"$PY" "$REPO/scripts/po_merge.py" "$REPO/o2s_esign/i18n/o2s_esign.pot" "$REPO/o2s_esign/i18n/fr.po"
