#!/usr/bin/env bash
# Benchmarks the app under its gunicorn configuration against the naive baseline (Flask's development server), each
# server held to the CPU quota of each configured environment's Fargate task size (lib/config/environments.ts: 256
# units = 0.25 vCPU), with wrk on 127.0.0.1 outside that quota. The servers alternate within one run, in rotating
# order, and every run records the load average before it, the CPU time the server actually received and its memory.
# Also times the exit after SIGTERM when running as PID 1, as in a container without an init process.
# Writes bench-results/app.json; docs/app-limits.md explains how to read it.
#
#   BENCH_SECONDS (default 10)      load duration per run
#   BENCH_CONNECTIONS (default 32)  wrk connections
#   BENCH_ROUNDS (default 3)        alternating rounds per environment
#   BENCH_ENVS (default: all)       environments to measure, e.g. "dev"
#   BENCH_SHAPES (default: each environment's workers x GUNICORN_THREADS)  gunicorn shapes to compare, e.g. "1x4 2x4"
#   BENCH_PATH (default /health)    what wrk requests; "/_test/sleep?seconds=0.05" models a handler waiting on I/O
#
# The quota uses the cgroup v1 cpu controller (/sys/fs/cgroup/cpu, as root). Without it, the run is unconstrained
# and app.json says so ("cpu_quota": false); such figures say nothing about a Fargate task.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/test/bench"
out_dir="$root/bench-results"
seconds="${BENCH_SECONDS:-10}"
connections="${BENCH_CONNECTIONS:-32}"
rounds="${BENCH_ROUNDS:-3}"
path="${BENCH_PATH:-/health}"
test_routes=0
if [[ "$path" == /_test/* ]]; then test_routes=1; fi
stop_limit=10

# Prerequisites, all reported at once with their install commands, before anything runs. Linux only (unshare, cgroups).
missing=()
for tool in wrk unshare jq bc curl; do
  command -v "$tool" >/dev/null || missing+=("$tool is required (apt-get install wrk util-linux jq bc curl)")
done
py="${PYTHON:-/usr/bin/python3}"
"$py" -c 'import flask, gunicorn' 2>/dev/null ||
  missing+=("$py lacks flask/gunicorn (apt-get install python3-flask gunicorn), or set PYTHON to an interpreter that has them")
# Each server runs as PID 1 of its own PID namespace, which only root may create, under a cgroup CPU quota.
((EUID == 0)) || missing+=("needs root, for unshare --pid and the cgroup CPU quota: run it as root (sudo)")
if ((${#missing[@]})); then
  printf 'app-bench: %s\n' "${missing[@]}" >&2
  exit 1
fi
mkdir -p "$out_dir"

# "envName cpuUnits workers threads" per configured environment. Threads default to the app's own default (4).
app_threads="$(sed -n 's/^threads = _count("GUNICORN_THREADS", \([0-9]*\).*/\1/p' "$root/app/gunicorn.conf.py")"
mapfile -t environments < <(cd "$root" && npx --no-install tsx -e "
  import { environments } from './lib/config/environments';
  for (const e of Object.values(environments)) {
    console.log([e.envName, e.cpu, e.gunicornWorkers, (e as { gunicornThreads?: number }).gunicornThreads ?? $app_threads].join(' '));
  }")
[[ ${#environments[@]} -gt 0 ]] || { echo "app-bench: no environments read from lib/config/environments.ts" >&2; exit 1; }

# One cgroup for the server under test (quota set per environment) and one for wrk (no quota). Both get a large
# cpu.shares, so that other work on this shared machine cannot starve them below the quota: a Fargate task's vCPUs
# are its own. cpuacct measures the CPU time the server really received.
cg_name="app-bench-$$"
cg_cpu="/sys/fs/cgroup/cpu/$cg_name"
cg_acct="/sys/fs/cgroup/cpuacct/$cg_name"
cg_wrk="/sys/fs/cgroup/cpu/$cg_name-wrk"
period_us=100000
quota=false
if mkdir "$cg_cpu" 2>/dev/null && mkdir "$cg_acct" "$cg_wrk" 2>/dev/null; then
  quota=true
  echo "$period_us" >"$cg_cpu/cpu.cfs_period_us"
  echo 262144 >"$cg_cpu/cpu.shares"
  echo 262144 >"$cg_wrk/cpu.shares"
else
  rmdir "$cg_cpu" 2>/dev/null || true
  echo "app-bench: no writable cgroup v1 cpu controller: running WITHOUT a CPU quota; these figures are not per-task" >&2
fi
cleanup() {
  if [[ "$quota" == true ]]; then
    local pid
    cat "$cg_cpu/cgroup.procs" "$cg_wrk/cgroup.procs" 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done
    sleep 0.2
    rmdir "$cg_cpu" "$cg_acct" "$cg_wrk" 2>/dev/null || true
  fi
}
trap cleanup EXIT

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
load1() { cut -d' ' -f1 /proc/loadavg; }
cpu_ns() { if [[ "$quota" == true ]]; then cat "$cg_acct/cpuacct.usage"; else echo 0; fi; }
throttled() { if [[ "$quota" == true ]]; then awk '$1 == "nr_throttled" { print $2 }' "$cg_cpu/cpu.stat"; else echo 0; fi; }

# memory_of PID1: RSS and PSS (KiB) of PID1 (the server's main process) and of each of its children (the workers).
memory_of() {
  local pid1="$1" pid
  {
    echo "$pid1"
    pgrep -P "$pid1" || true
  } | while read -r pid; do
    [[ -r "/proc/$pid/smaps_rollup" ]] || continue
    awk -v pid="$pid" -v main="$pid1" '/^Rss:/ { rss = $2 } /^Pss:/ { pss = $2 }
      END { printf "{\"role\":\"%s\",\"rss_kib\":%d,\"pss_kib\":%d}\n", (pid == main ? "main" : "worker"), rss, pss }' \
      "/proc/$pid/smaps_rollup"
  done | jq -s .
}

# run_one ENV CPU_UNITS ROUND NAME WORKERS THREADS MEASURE_STOP COMMAND...: one server, one load, one JSON line.
run_one() {
  local env="$1" cpu="$2" round="$3" name="$4" workers="$5" threads="$6" measure_stop="$7"
  shift 7
  local port log pid1 unshare_pid load_before cpu0 cpu1 thr0 thr1 load memory
  port="$(free_port)"
  log="$out_dir/$name-$env.log"
  load_before="$(load1)"
  (
    if [[ "$quota" == true ]]; then
      echo "$BASHPID" >"$cg_cpu/cgroup.procs"
      echo "$BASHPID" >"$cg_acct/cgroup.procs"
    fi
    cd "$root/app"
    APP_TEST_ROUTES="$test_routes" PORT="$port" GUNICORN_WORKERS="$workers" GUNICORN_THREADS="$threads" PYTHONPATH="$root/app" \
      exec unshare --pid --fork --kill-child "$@" >"$log" 2>&1
  ) &
  unshare_pid=$!
  for _ in $(seq 300); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null || { echo "app-bench: $name did not start; see $log" >&2; exit 1; }
  pid1="$(pgrep -P "$unshare_pid" | head -1)"
  # Every worker answers before the clock starts (a worker still importing Flask would count against the server).
  for _ in $(seq 100); do
    [[ "$(pgrep -P "$pid1" | wc -l)" -ge "$([[ "$name" == gunicorn* ]] && echo "$workers" || echo 0)" ]] && break
    sleep 0.1
  done

  # The quota starts now (start-up is not what this measures, and at 0.25 vCPU it takes seconds) and holds until the
  # server has exited, so the SIGTERM exit time is the one a task of this size sees.
  if [[ "$quota" == true ]]; then echo "$((cpu * period_us / 1024))" >"$cg_cpu/cpu.cfs_quota_us"; fi
  echo "app-bench: $env round $round: $name (${workers}x$threads) $([[ "$quota" == true ]] && echo "at $cpu CPU units" ||
    echo "UNCONSTRAINED"), load average $load_before" >&2
  cpu0="$(cpu_ns)"
  thr0="$(throttled)"
  load="$(
    if [[ "$quota" == true ]]; then echo "$BASHPID" >"$cg_wrk/cgroup.procs"; fi
    exec wrk -t2 -c"$connections" -d"${seconds}s" --timeout 5s -s "$here/wrk-json.lua" "http://127.0.0.1:$port$path" | tail -1
  )"
  cpu1="$(cpu_ns)"
  thr1="$(throttled)"
  memory="$(memory_of "$pid1")"

  # SIGTERM goes to PID 1, as `docker stop` and ECS send it. Give up after $stop_limit s (ECS would wait 30 s, then SIGKILL).
  local start end exited=null stop=null
  if [[ "$measure_stop" == true ]]; then
    exited=true
    start="$(date +%s.%N)"
    kill -TERM "$pid1"
    while kill -0 "$pid1" 2>/dev/null; do
      if (($(echo "$(date +%s.%N) - $start > $stop_limit" | bc))); then exited=false; kill -KILL "$pid1"; break; fi
      sleep 0.05
    done
    end="$(date +%s.%N)"
    stop="$(echo "$end - $start" | bc)"
  else
    kill -KILL "$pid1"
  fi
  wait "$unshare_pid" 2>/dev/null || true
  if [[ "$quota" == true ]]; then echo -1 >"$cg_cpu/cpu.cfs_quota_us"; fi

  jq -nc --arg env "$env" --argjson cpu "$cpu" --argjson round "$round" --arg name "$name" \
    --argjson workers "$workers" --argjson threads "$threads" --argjson load "$load" --argjson quota "$quota" \
    --argjson load_before "$load_before" --argjson cpu_ns "$((cpu1 - cpu0))" --argjson throttled "$((thr1 - thr0))" \
    --argjson memory "$memory" --argjson exited "$exited" --argjson stop "$stop" --argjson limit "$stop_limit" '
    ($load.duration_us / 1e6) as $wall | ($cpu / 1024) as $vcpu |
    {
      env: $env, cpu_units: $cpu, round: $round, server: $name,
      shape: (if $name == "gunicorn" then "\($workers)x\($threads)" else "dev-server" end),
      load_average_before: $load_before,
      requests_per_second: (($load.requests / $wall) | floor),
      requests_per_second_per_vcpu: (if $quota then (($load.requests / $wall / $vcpu) | floor) else null end),
      latency_ms: { p50: ($load.latency_us.p50 / 1000), p99: ($load.latency_us.p99 / 1000) },
      errors: ($load.errors | add),
      error_detail: $load.errors,
      cpu_received: (if $quota then ((($cpu_ns / 1e9) / ($wall * $vcpu)) * 100 | round / 100) else null end),
      throttled_periods: (if $quota then $throttled else null end),
      memory_kib: $memory,
      sigterm_exit_seconds: (if $exited == true then ($stop * 100 | round / 100) else null end),
      exited_on_sigterm: $exited,
      note: (if $exited == false then "ignored SIGTERM as PID 1; killed after \($limit) s (ECS waits 30 s, then SIGKILL)" else null end)
    }'
}

runs_file="$out_dir/app-runs.jsonl"
: >"$runs_file"
stop_measured_for=" "
for line in "${environments[@]}"; do
  read -r env cpu workers threads <<<"$line"
  if [[ -n "${BENCH_ENVS:-}" && " $BENCH_ENVS " != *" $env "* ]]; then continue; fi
  read -r -a shapes <<<"${BENCH_SHAPES:-${workers}x$threads}"
  servers=("${shapes[@]}" dev-server)
  for round in $(seq "$rounds"); do
    # Rotate the order each round, so that neither server always runs first (or right after the other).
    for i in $(seq 0 $((${#servers[@]} - 1))); do
      server="${servers[$(((i + round - 1) % ${#servers[@]}))]}"
      measure=false
      if [[ "$stop_measured_for" != *" $server "* ]]; then measure=true; stop_measured_for+="$server "; fi
      if [[ "$server" == dev-server ]]; then
        run_one "$env" "$cpu" "$round" flask-dev-server 1 1 "$measure" "$py" "$here/naive_app.py" >>"$runs_file"
      else
        run_one "$env" "$cpu" "$round" gunicorn "${server%x*}" "${server#*x}" "$measure" \
          "$py" -m gunicorn --config gunicorn.conf.py service.wsgi:app >>"$runs_file"
      fi
    done
  done
done

jq -s --arg machine "$(nproc) cores" --argjson seconds "$seconds" --argjson connections "$connections" \
  --argjson quota "$quota" --argjson rounds "$rounds" --arg path "$path" -f "$here/app-bench-summary.jq" "$runs_file" |
  tee "$out_dir/app.json"
