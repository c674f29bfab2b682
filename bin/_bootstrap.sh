# Sourced by bin/demo and bin/test: a virtualenv with the pinned dependencies, and throw-away keys.
# PYTHON picks the interpreter (default python3) and VENV the virtualenv (default .venv): .ci/run also runs the
# suite on the newest Python in .venv-3.13.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
REQ="${REQUIREMENTS:-requirements-dev.txt}"
STAMP="$VENV/.installed-$(cat requirements.txt "$REQ" | sha256sum | cut -c1-16)"
if [ ! -x "$PY" ]; then
    "${PYTHON:-python3}" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ]; then
    "$PY" -m pip install -q --disable-pip-version-check --upgrade pip
    "$PY" -m pip install -q --disable-pip-version-check -r "$REQ"
    touch "$STAMP"
fi
"$PY" manage.py generate_keys >/dev/null
