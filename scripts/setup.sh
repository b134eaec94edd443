#!/usr/bin/env bash
# Install everything the project needs (idempotent): system packages, Odoo 18's source, the
# virtualenv with pinned dependencies, the private PostgreSQL cluster and Odoo's config file.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
prepare_all
log "ready: Odoo $ODOO_SRC, virtualenv $VENV, PostgreSQL 127.0.0.1:$PG_PORT, config $ODOO_CONF"
if [ "${1:-}" != "--keep-pg" ] && [ "$PG_STARTED_HERE" = 1 ]; then pg_stop; fi
