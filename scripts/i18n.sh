#!/usr/bin/env bash
# `make i18n`: export o2s_esign's terms to i18n/o2s_esign.pot from a database where the module is
# installed and up to date (default: the `make run` database), then merge them into i18n/fr.po
# (existing translations kept, new terms added untranslated, vanished ones dropped).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DB="${O2S_DB:-o2s_esign}"
prepare_all
db_exists "$DB" || die "database $DB does not exist: run 'make run' once, or set O2S_DB"
odoo_bin -d "$DB" -u o2s_esign --stop-after-init --logfile="$RUN_DIR/logs/i18n-$DB.log" \
    || die "update failed: see $RUN_DIR/logs/i18n-$DB.log"
odoo_bin -d "$DB" --i18n-export="$REPO/o2s_esign/i18n/o2s_esign.pot" --modules=o2s_esign \
    --stop-after-init --logfile="$RUN_DIR/logs/i18n-$DB.log"
"$PY" "$REPO/scripts/po_merge.py" "$REPO/o2s_esign/i18n/o2s_esign.pot" "$REPO/o2s_esign/i18n/fr.po"
