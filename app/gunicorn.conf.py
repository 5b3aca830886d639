"""gunicorn settings for the container. Every value is explained by the failure it prevents.

The task definition sets PORT and GUNICORN_WORKERS; the defaults below serve `docker run` and local use.
"""

import os

# Bind on every interface: inside a container 127.0.0.1 is unreachable from the load balancer.
bind = f"0.0.0.0:{int(os.environ.get('PORT', '8080'))}"

# os.cpu_count() on Fargate reports the host's CPUs, not the task's share: size workers explicitly.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threads let one worker overlap I/O; gthread is also the worker that honours keepalive.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# ECS sends SIGTERM, then SIGKILL after the container's stopTimeout (30 s): finish in-flight requests before that.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
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

# Trust X-Forwarded-* from the load balancer (tasks admit only the load balancer's security group).
forwarded_allow_ips = "*"
