# Summarises app-bench.sh's runs (one JSON object per line, read with `jq -s`) per environment and shape.
# A ratio compares one gunicorn run with the development-server run of the same round, and only when the two saw
# comparable conditions: load averages within 1.0 or 25 % of each other. Otherwise that round is listed and refused.
# cpu_received (CPU time received / quota) shows whether a server was CPU-bound (about 1) or waiting.
def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
  else ((.[length / 2 - 1] + .[length / 2]) / 2) end;
def comparable($a; $b):
  [$a.load_average_before, $b.load_average_before] | (max - min) <= ([1.0, 0.25 * max] | max);

. as $runs |
{
  machine: $machine, cpu_quota: $quota, load_seconds: $seconds, connections: $connections, rounds: $rounds, path: $path,
  environments: [
    group_by(.env)[] | . as $env_runs |
    {
      env: .[0].env,
      cpu_units: .[0].cpu_units,
      shapes: [group_by(.shape)[] | {
        shape: .[0].shape,
        requests_per_second: (map(.requests_per_second) | median),
        requests_per_second_per_vcpu: (map(.requests_per_second_per_vcpu) | if .[0] == null then null else median end),
        p50_ms: (map(.latency_ms.p50) | median),
        p99_ms: (map(.latency_ms.p99) | median),
        errors: (map(.errors) | add),
        cpu_received: (map(.cpu_received) | if .[0] == null then null else median end),
        worker_rss_mib: ([.[].memory_kib[] | select(.role == "worker") | .rss_kib] | if length == 0 then null else (max / 1024 | round) end),
        main_rss_mib: ([.[].memory_kib[] | select(.role == "main") | .rss_kib] | max / 1024 | round),
        sigterm: (map(select(.exited_on_sigterm != null)) | .[0] |
          if . == null then null else { exited: .exited_on_sigterm, seconds: .sigterm_exit_seconds, note } end),
        each_run: map({ round, load_average_before, requests_per_second })
      }],
      ratios: [
        $env_runs | group_by(.round)[] | . as $r |
        ($r | map(select(.server == "flask-dev-server")) | .[0]) as $dev |
        $r[] | select(.server == "gunicorn") | . as $g |
        {
          round: $g.round, shape: $g.shape,
          load_average: { gunicorn: $g.load_average_before, dev_server: $dev.load_average_before },
          ratio: (if comparable($g; $dev) then (($g.requests_per_second / $dev.requests_per_second) * 100 | round / 100) else null end),
          refused: (if comparable($g; $dev) then null else "load averages differed too much between the two runs" end)
        }
      ]
    } |
    .best_shape = (.shapes | map(select(.shape != "dev-server")) | max_by(.requests_per_second) | .shape) |
    .ratio_median = (.ratios | group_by(.shape) | map({ key: .[0].shape, value: (map(.ratio | select(. != null)) | median | if . == null then null else (. * 100 | round / 100) end) }) | from_entries)
  ]
}
