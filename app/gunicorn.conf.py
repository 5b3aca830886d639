"""gunicorn settings for the container. Every value is explained by the failure it prevents.

The task definition sets PORT, GUNICORN_WORKERS, GUNICORN_THREADS and TRUSTED_PROXY_CIDRS; the defaults below serve
`docker run` and local use. docs/app-limits.md says what these numbers mean for requests in flight and timeouts.
"""

import os


def _count(name: str, default: int, most: int) -> int:
    """An integer setting from the environment, 1..most, or a ValueError that names the variable and the fix."""
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= most or str(value) != raw.strip():
        raise ValueError(f"{name}: {raw!r} is not a whole number from 1 to {most}; unset it to use {default}")
    return value


# Bind on every interface: inside a container 127.0.0.1 is unreachable from the load balancer.
bind = f"0.0.0.0:{int(os.environ.get('PORT', '8080'))}"

# os.cpu_count() on Fargate reports the host's CPUs, not the task's share: size workers explicitly.
workers = _count("GUNICORN_WORKERS", 2, 32)
# Threads let one worker overlap I/O; gthread is also the worker that honours keepalive.
# workers x threads is the task's hard ceiling of requests in flight: request N+1 waits in a queue.
worker_class = "gthread"
# 8 was measured best for a 0.25 vCPU task and 16 for 0.5 vCPU (docs/app-limits.md §4); the task definition sets it.
threads = _count("GUNICORN_THREADS", 8, 32)

# ECS sends SIGTERM, then SIGKILL after the container's stopTimeout (30 s): finish in-flight requests before that.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# Under gthread this is only the worker heartbeat: a request that runs 40 s still answers after 40 s. Nothing here
# limits one request's duration; the ALB answers 504 at its idle timeout (60 s) while the thread keeps working.
timeout = 30

# Above the ALB's idle timeout (60 s): the load balancer, not gunicorn, closes idle connections, so no 502s.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "65"))

# The root filesystem is read-only; /dev/shm is a tmpfs, so worker heartbeats never touch a disk.
worker_tmp_dir = "/dev/shm"

# Access and error logs to the container's output, as JSON lines (see service/logs.py).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = "service.logs.GunicornJsonLogger"

# gunicorn trusts no peer's X-Forwarded-* (nor, from 22.0, SCRIPT_NAME/PATH_INFO headers): the app decides, from
# TRUSTED_PROXY_CIDRS (service/proxy.py). gunicorn takes CIDR networks in forwarded_allow_ips only from 24.1.0
# (https://github.com/benoitc/gunicorn/pull/3449); 23.x stops at start-up on one, 20.1 silently never matches it.
forwarded_allow_ips = ""
if "FORWARDED_ALLOW_IPS" in os.environ:
    raise ValueError(
        "FORWARDED_ALLOW_IPS is not used (gunicorn before 24.1 cannot take a CIDR there); "
        "set TRUSTED_PROXY_CIDRS to the VPC's CIDR instead"
    )
