#!/usr/bin/env bash
# Runs the app's pytest suite with an interpreter that has Flask, gunicorn and pytest:
#   1. $PYTHON, when set;
#   2. /usr/bin/python3 with Debian's python3-flask, gunicorn and python3-pytest (what CI installs, no PyPI needed);
#   3. otherwise a virtualenv in app/.venv, built from app/requirements-dev.txt (needs PyPI).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

has_deps() { "$1" -c 'import flask, gunicorn, pytest' 2>/dev/null; }

if [[ -n "${PYTHON:-}" ]]; then
  py="$PYTHON"
elif has_deps /usr/bin/python3; then
  py=/usr/bin/python3
else
  venv="$root/app/.venv"
  if ! { [[ -x "$venv/bin/python" ]] && has_deps "$venv/bin/python"; }; then
    echo "python.sh: building $venv from app/requirements-dev.txt" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$root/app/requirements-dev.txt"
  fi
  py="$venv/bin/python"
fi

cd "$root/app"
echo "python.sh: $("$py" -c 'import sys, flask, gunicorn; print(sys.executable, "flask", flask.__version__ if hasattr(flask, "__version__") else "?", "gunicorn", gunicorn.__version__)' 2>/dev/null)" >&2
exec "$py" -m pytest -q -p no:cacheprovider tests
