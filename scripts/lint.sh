#!/usr/bin/env bash
# `make lint`: ruff, then pylint-odoo with the OCA mandatory checks for 18.0.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_venv
cd "$REPO"
log "ruff"
"$VENV/bin/ruff" check o2s_esign tests bench scripts conftest.py
log "pylint-odoo (OCA mandatory checks)"
"$VENV/bin/pylint" --rcfile="$REPO/.pylintrc-mandatory" o2s_esign
