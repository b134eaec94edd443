#!/usr/bin/env bash
# Shared helpers for the project's scripts: paths, the virtualenv, Odoo's source, and a private
# PostgreSQL cluster on 127.0.0.1. Sourced by setup.sh, run.sh, test.sh and bench.sh.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${O2S_RUN_DIR:-$REPO/.run}"
VENV="${O2S_VENV:-$REPO/.venv}"
PY="$VENV/bin/python"
PG_PORT="${O2S_PG_PORT:-5433}"
PG_USER_DB="odoo"
HTTP_PORT="${O2S_HTTP_PORT:-8069}"
ODOO_UPSTREAM="${O2S_ODOO_UPSTREAM:-https://github.com/odoo/odoo.git}"

log() { printf '\033[1;34m[o2s_esign]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[o2s_esign] error:\033[0m %s\n' "$*" >&2; exit 1; }

mkdir -p "$RUN_DIR"

# --- Odoo 18 source --------------------------------------------------------------------------
# ODOO_SRC, else ~/odoo/18.0, else a shallow clone of upstream 18.0 when the network allows.
find_odoo() {
    local candidate
    for candidate in "${ODOO_SRC:-}" "$HOME/odoo/18.0"; do
        if [ -n "$candidate" ] && [ -f "$candidate/odoo/release.py" ]; then
            ODOO_SRC="$(cd "$candidate" && pwd)"
            export ODOO_SRC
            return 0
        fi
    done
    if [ -z "${ODOO_SRC:-}" ] && command -v git >/dev/null 2>&1; then
        log "Odoo 18 not found in \$ODOO_SRC or ~/odoo/18.0: trying a shallow clone of upstream 18.0"
        if timeout 900 git clone --quiet --depth 1 --branch 18.0 "$ODOO_UPSTREAM" "$HOME/odoo/18.0" 2>/dev/null; then
            ODOO_SRC="$HOME/odoo/18.0"
            export ODOO_SRC
            return 0
        fi
        rm -rf "$HOME/odoo/18.0"
    fi
    die "Odoo 18.0 source not found.
  Put an Odoo 18.0 community tree at ~/odoo/18.0 (it must contain odoo/release.py and odoo-bin),
  or point ODOO_SRC at one, e.g.:
      git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git ~/odoo/18.0
  (the automatic clone failed: no network access to GitHub from this machine?)"
}

check_odoo_version() {
    "$PY" - "$ODOO_SRC" <<'PYEOF' || die "the Odoo at $ODOO_SRC is not 18.0"
import re, sys
src = open(sys.argv[1] + "/odoo/release.py").read()
m = re.search(r"version_info = \((\d+), (\d+)", src)
sys.exit(0 if m and m.groups() == ("18", "0") else 1)
PYEOF
}

# --- virtualenv ------------------------------------------------------------------------------
# (Re)built when requirements/*.txt change; a stamp file holds their hash.
ensure_venv() {
    local want have
    want="$(cat "$REPO"/requirements/*.txt | sha256sum | cut -c1-16)"
    have="$(cat "$VENV/.o2s-stamp" 2>/dev/null || true)"
    if [ -x "$PY" ] && [ "$want" = "$have" ]; then
        return 0
    fi
    local base="${O2S_PYTHON:-}"
    if [ -z "$base" ]; then
        for cand in python3.11 python3; do
            if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
                base="$cand"; break
            fi
        done
    fi
    [ -n "$base" ] || die "Python 3.11 is required (set O2S_PYTHON to its path)"
    log "creating the virtualenv in $VENV (Python: $($base --version 2>&1))"
    [ -x "$PY" ] || "$base" -m venv "$VENV"
    "$PY" -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' >&2 || true
    log "installing pinned dependencies (requirements/dev.txt with requirements/constraints.txt)"
    if ! "$PY" -m pip install --quiet -r "$REPO/requirements/dev.txt" -c "$REPO/requirements/constraints.txt" \
            2> >(grep -v '^WARNING: Location' >&2); then
        die "pip could not install the requirements (see above)"
    fi
    echo "$want" > "$VENV/.o2s-stamp"
}

link_odoo_into_venv() {
    # pytest-odoo imports `odoo` at plugin load: a .pth file puts Odoo's source on the path.
    local site
    site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    echo "$ODOO_SRC" > "$site/odoo-src.pth"
}

# --- system packages -------------------------------------------------------------------------
# chromium (Odoo's browser tours), poppler-utils (pdfsig, pdftoppm: independent PDF validation),
# LibreOffice without GUI (soffice: Office documents converted to PDF at upload, issue 16).
ensure_system_packages() {
    local missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v pdfsig >/dev/null 2>&1 || missing+=(poppler-utils)
    command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui libreoffice-calc-nogui)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing system packages: ${missing[*]}"
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || die "apt-get could not install ${missing[*]}"
    else
        die "missing system packages: ${missing[*]} (install them, e.g. sudo apt-get install ${missing[*]})"
    fi
}

# --- PostgreSQL ------------------------------------------------------------------------------
PG_BIN="${O2S_PG_BIN:-}"
find_pg_bin() {
    if [ -z "$PG_BIN" ]; then
        for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && PG_BIN="$d"; done
    fi
    [ -n "$PG_BIN" ] && [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL server binaries not found (install postgresql, or set O2S_PG_BIN)"
}

# Run a PostgreSQL server command: as the postgres user when we are root (PostgreSQL refuses root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_data_dir() {
    # The cluster lives in the git-ignored .run/ folder, unless the postgres user cannot reach it
    # (a checkout under /root, say); then in /var/tmp, keyed by the checkout's path.
    local dir="$RUN_DIR/pgdata"
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$RUN_DIR" 2>/dev/null; then
        dir="/var/tmp/o2s_esign-pg-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)/pgdata"
    fi
    echo "$dir"
}

PG_STARTED_HERE=0
pg_start() {
    find_pg_bin
    PG_DATA="$(pg_data_dir)"
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        log "initialising a private PostgreSQL cluster in $PG_DATA"
        mkdir -p "$PG_DATA"
        if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_DATA" "$(dirname "$PG_DATA")"; fi
        chmod 700 "$PG_DATA"
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_USER_DB" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
        return 0
    fi
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -t 60 -l "$PG_DATA/../postgresql.log" \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='' -c fsync=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || die "PostgreSQL did not start (see $PG_DATA/../postgresql.log)"
    PG_STARTED_HERE=1
}

pg_stop() {
    find_pg_bin
    PG_DATA="$(pg_data_dir)"
    if as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
        log "stopping PostgreSQL"
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null || true
    fi
}

psql_cmd() { PGPASSWORD="" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER_DB" -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
db_exists() { [ "$(psql_cmd -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" = "1" ]; }

# --- Odoo configuration ----------------------------------------------------------------------
ODOO_CONF="$RUN_DIR/odoo.conf"
write_odoo_conf() {
    local admin_pw
    admin_pw="$(grep -s '^admin_passwd' "$ODOO_CONF" | cut -d= -f2- | tr -d ' ' || true)"
    [ -n "$admin_pw" ] || admin_pw="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')"
    cat > "$ODOO_CONF" <<CONF
[options]
; Written by scripts/common.sh: edit the scripts (or set O2S_* variables), not this file.
addons_path = $ODOO_SRC/odoo/addons,$REPO
data_dir = $RUN_DIR/data
db_host = 127.0.0.1
db_port = $PG_PORT
db_user = $PG_USER_DB
db_password = False
http_interface = 127.0.0.1
http_port = $HTTP_PORT
gevent_port = $((HTTP_PORT + 3))
admin_passwd = $admin_pw
list_db = False
proxy_mode = False
CONF
}

# Everything a command needs before it can start Odoo.
prepare_all() {
    ensure_system_packages
    find_odoo
    ensure_venv
    check_odoo_version
    link_odoo_into_venv
    write_odoo_conf
    pg_start
}

# A hash of the module's files: `make run` updates the module in its database when it changes.
module_hash() { (cd "$REPO" && find o2s_esign -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }

odoo_bin() { "$PY" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" "$@"; }
