# Sourced by bin/demo and bin/test: a virtualenv with the pinned dependencies, and throw-away keys.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
REQ="${REQUIREMENTS:-requirements-dev.txt}"
STAMP="$ROOT/.venv/.installed-$(cat requirements.txt "$REQ" | sha256sum | cut -c1-16)"
if [ ! -x "$PY" ]; then
    python3 -m venv "$ROOT/.venv"
fi
if [ ! -f "$STAMP" ]; then
    "$PY" -m pip install -q --disable-pip-version-check --upgrade pip
    "$PY" -m pip install -q --disable-pip-version-check -r "$REQ"
    touch "$STAMP"
fi
"$PY" manage.py generate_keys >/dev/null
