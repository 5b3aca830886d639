#!/usr/bin/env bash
# The Python suite and jest, side by side: the first mostly waits on gunicorn processes, the second on synthesis.
# Exits non-zero if either fails; each one's output stays whole (Python's is printed when it ends).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
bash "$root/test/python.sh" >"$log" 2>&1 &
python_pid=$!
(cd "$root" && npx jest --ci)
jest_status=$?
wait "$python_pid"
python_status=$?
cat "$log"
((jest_status == 0 && python_status == 0))
