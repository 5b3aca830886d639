"""JSON-lines logging for CloudWatch Logs Insights: one object per line, on stdout."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import datetime, timezone
from typing import Any, Mapping

from gunicorn.glogging import Logger


def _timestamp(seconds: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if seconds is None else seconds, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """Formats a log record as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"))


def configure_logging(level: str = "INFO") -> None:
    """Sends the app's own log records to stdout as JSON lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("service")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def access_entry(
    environ: Mapping[str, Any], status: int, response_bytes: int | None, duration_seconds: float
) -> dict[str, Any]:
    """The fields of one access-log line, from a WSGI environ and the response."""
    return {
        "time": _timestamp(),
        "level": "INFO",
        "logger": "access",
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "query": environ.get("QUERY_STRING") or None,
        "status": status,
        "bytes": response_bytes,
        "duration_ms": round(duration_seconds * 1000, 2),
        # REMOTE_ADDR after service/proxy.py: the address the ALB appended to X-Forwarded-For when the peer is the
        # ALB, the TCP peer otherwise. Never the raw header, whose first entries are whatever the client wrote.
        "client": environ.get("REMOTE_ADDR"),
        # The TCP peer: the load balancer node when the request came through it.
        "peer": environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR", environ.get("REMOTE_ADDR")),
        "user_agent": environ.get("HTTP_USER_AGENT"),
        "trace_id": environ.get("HTTP_X_AMZN_TRACE_ID"),
        "version": os.environ.get("APP_VERSION", "dev"),
    }


class GunicornJsonLogger(Logger):
    """gunicorn's logger, writing one JSON line per request and JSON error-log lines."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())
        # Access lines are built as JSON objects in `access`; the handler only writes them.
        for handler in self.access_log.handlers:
            handler.setFormatter(logging.Formatter("%(message)s"))

    def access(self, resp: Any, req: Any, environ: Mapping[str, Any], request_time: Any) -> None:
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.syslog):
            return
        status = resp.status_code if hasattr(resp, "status_code") else int(str(resp.status).split()[0])
        entry = access_entry(environ, status, getattr(resp, "sent", None), request_time.total_seconds())
        self.access_log.info("%s", json.dumps(entry, separators=(",", ":")))
