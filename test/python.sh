#!/usr/bin/env bash
# Runs the app's pytest suite with an interpreter that has Flask, gunicorn and pytest:
#   1. $PYTHON, when set;
#   2. /usr/bin/python3 with Debian's python3-flask, gunicorn and python3-pytest (what CI installs, no PyPI needed);
#   3. otherwise a virtualenv in app/.venv, built from app/requirements-dev.txt (needs PyPI).
# When none can be had, it fails and says how to install them: it never skips the suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

install_hint="install them: on Debian/Ubuntu 'apt-get install python3-flask gunicorn python3-pytest'; anywhere with PyPI
  'python3 -m venv app/.venv && app/.venv/bin/pip install -r app/requirements-dev.txt' (macOS: 'brew install python' first)"
fail() {
  echo "python.sh: $1; $install_hint" >&2
  exit 1
}
has_deps() { "$1" -c 'import flask, gunicorn, pytest' 2>/dev/null; }

if [[ -n "${PYTHON:-}" ]]; then
  py="$PYTHON"
  has_deps "$py" || fail "PYTHON=$py cannot import flask, gunicorn and pytest"
elif has_deps /usr/bin/python3; then
  py=/usr/bin/python3
else
  venv="$root/app/.venv"
  if ! { [[ -x "$venv/bin/python" ]] && has_deps "$venv/bin/python"; }; then
    command -v python3 >/dev/null || fail "no python3 on PATH, and /usr/bin/python3 lacks flask, gunicorn or pytest"
    echo "python.sh: building $venv from app/requirements-dev.txt" >&2
    python3 -m venv "$venv" || fail "could not create the virtualenv $venv"
    "$venv/bin/pip" install --quiet -r "$root/app/requirements-dev.txt" ||
      fail "pip could not install app/requirements-dev.txt into $venv (is PyPI reachable?)"
  fi
  py="$venv/bin/python"
fi

cd "$root/app"
echo "python.sh: $("$py" -c 'import sys, flask, gunicorn; print(sys.executable, "flask", flask.__version__ if hasattr(flask, "__version__") else "?", "gunicorn", gunicorn.__version__)' 2>/dev/null)" >&2
exec "$py" -m pytest -q -p no:cacheprovider tests
