#!/usr/bin/env bash
# Benchmarks the app under its gunicorn configuration against the naive baseline (Flask's development server):
# throughput and latency with wrk on 127.0.0.1, and the time to exit after SIGTERM when running as PID 1,
# as in a container without an init process. Writes bench-results/app.json.
#
#   BENCH_SECONDS (default 10)  load duration per server
#   BENCH_CONNECTIONS (default 32)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/test/bench"
out_dir="$root/bench-results"
seconds="${BENCH_SECONDS:-10}"
connections="${BENCH_CONNECTIONS:-32}"
stop_limit=10
mkdir -p "$out_dir"

for tool in wrk unshare jq; do
  command -v "$tool" >/dev/null || { echo "app-bench: $tool is required (apt-get install wrk util-linux jq)" >&2; exit 1; }
done
py="${PYTHON:-/usr/bin/python3}"
"$py" -c 'import flask, gunicorn' 2>/dev/null || { echo "app-bench: $py lacks flask/gunicorn; set PYTHON" >&2; exit 1; }

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run_one NAME COMMAND...: starts COMMAND as PID 1 of a new PID namespace, loads it, then times its exit on SIGTERM.
run_one() {
  local name="$1"; shift
  local port log pid1 unshare_pid
  port="$(free_port)"
  log="$out_dir/$name.log"
  (cd "$root/app" && PORT="$port" GUNICORN_WORKERS="${GUNICORN_WORKERS:-2}" PYTHONPATH="$root/app" \
    exec unshare --pid --fork --kill-child "$@" >"$log" 2>&1) &
  unshare_pid=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null || { echo "app-bench: $name did not start; see $log" >&2; exit 1; }
  pid1="$(pgrep -P "$unshare_pid" | head -1)"

  echo "app-bench: $name: ${seconds}s of load, $connections connections" >&2
  local load
  load="$(wrk -t2 -c"$connections" -d"${seconds}s" --timeout 5s -s "$here/wrk-json.lua" "http://127.0.0.1:$port/health" | tail -1)"

  # SIGTERM goes to PID 1, as `docker stop` and ECS send it. Give up after $stop_limit s (ECS would wait 30 s, then SIGKILL).
  local start end exited=true
  start="$(date +%s.%N)"
  kill -TERM "$pid1"
  while kill -0 "$pid1" 2>/dev/null; do
    if (( $(echo "$(date +%s.%N) - $start > $stop_limit" | bc) )); then exited=false; kill -KILL "$pid1"; break; fi
    sleep 0.05
  done
  end="$(date +%s.%N)"
  wait "$unshare_pid" 2>/dev/null || true

  jq -n --arg name "$name" --argjson load "$load" --argjson exited "$exited" \
    --argjson stop "$(echo "$end - $start" | bc)" --argjson limit "$stop_limit" '
    {
      name: $name,
      requests_per_second: (($load.requests / ($load.duration_us / 1e6)) | floor),
      latency_ms: { p50: ($load.latency_us.p50 / 1000), p99: ($load.latency_us.p99 / 1000) },
      errors: ($load.errors | add),
      error_detail: $load.errors,
      sigterm_exit_seconds: (if $exited then ($stop * 100 | round / 100) else null end),
      exited_on_sigterm: $exited,
      note: (if $exited then null else "ignored SIGTERM as PID 1; killed after \($limit) s (ECS waits 30 s, then SIGKILL)" end)
    }'
}

gunicorn_cmd=("$py" -m gunicorn --config gunicorn.conf.py service.wsgi:app)
gunicorn="$(run_one gunicorn "${gunicorn_cmd[@]}")"
naive="$(run_one flask-dev-server "$py" "$here/naive_app.py")"

jq -n --argjson g "$gunicorn" --argjson n "$naive" --arg seconds "$seconds" --arg c "$connections" \
  --arg host "$(nproc) cores" '{
    machine: $host, load_seconds: ($seconds | tonumber), connections: ($c | tonumber), path: "/health",
    gunicorn: $g, flask_dev_server: $n,
    speedup: (($g.requests_per_second / $n.requests_per_second) * 10 | round / 10)
  }' | tee "$out_dir/app.json"
