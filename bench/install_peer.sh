#!/usr/bin/env bash
# Installs the benchmark's peer addon (bench/requirements-peer.txt) into bench/.peer-addons
# (gitignored) without touching the shared virtualenv; prints the directory to add to the bench
# server's --addons-path. Does nothing when the pinned version is already there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${O2S_VENV:-$here/../.venv}"
target="$here/.peer-addons"
stamp="$target/.stamp"
want="$(sha256sum "$here/requirements-peer.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    rm -rf "$target"
    "$venv/bin/pip" install --quiet --no-deps --no-compile --retries 1 --timeout 15 \
        --target "$target" \
        -r "$here/requirements-peer.txt" >&2
    echo "$want" >"$stamp"
fi
echo "$target/odoo/addons"
