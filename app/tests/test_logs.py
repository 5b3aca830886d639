"""The log format: one JSON object per line."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from types import SimpleNamespace

from service.logs import GunicornJsonLogger, JsonFormatter, access_entry


def test_an_app_record_is_one_json_line() -> None:
    record = logging.LogRecord("service", logging.WARNING, __file__, 1, "disk %s", ("full",), None)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "service"
    assert entry["message"] == "disk full"
    assert entry["time"].endswith("Z")


def test_an_exception_is_kept_inside_the_json_line() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record = logging.LogRecord("service", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: bad" in entry["exception"]


def test_an_access_entry_has_the_request_fields() -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/health",
        "QUERY_STRING": "",
        "REMOTE_ADDR": "10.0.0.5",
        "HTTP_X_FORWARDED_FOR": "203.0.113.9",
        "HTTP_USER_AGENT": 'ELB-HealthChecker/2.0 "quoted"',
        "HTTP_X_AMZN_TRACE_ID": "Root=1-67890-abc",
    }
    entry = access_entry(environ, 200, 31, 0.0042)
    assert entry["method"] == "GET"
    assert entry["path"] == "/health"
    assert entry["query"] is None
    assert entry["status"] == 200
    assert entry["bytes"] == 31
    assert entry["duration_ms"] == 4.2
    # The raw header is whatever the client wrote: the client is REMOTE_ADDR, which service/proxy.py sets from the
    # entry the ALB appended when (and only when) the peer is the ALB.
    assert entry["client"] == "10.0.0.5"
    assert entry["peer"] == "10.0.0.5"
    assert entry["trace_id"] == "Root=1-67890-abc"


def test_the_client_is_the_address_proxy_fix_chose_and_the_peer_is_the_alb_node() -> None:
    environ = {"REMOTE_ADDR": "203.0.113.9", "werkzeug.proxy_fix.orig": {"REMOTE_ADDR": "10.10.1.17"}}
    entry = access_entry(environ, 200, 0, 0.001)
    assert (entry["client"], entry["peer"]) == ("203.0.113.9", "10.10.1.17")


def test_gunicorn_writes_one_json_line_per_request(capsys) -> None:
    cfg = SimpleNamespace(
        accesslog="-",
        errorlog="-",
        loglevel="info",
        logconfig=None,
        logconfig_dict={},
        logconfig_json=None,
        syslog=False,
        syslog_addr=None,
        syslog_prefix=None,
        syslog_facility="user",
        capture_output=False,
        disable_redirect_access_to_syslog=False,
        access_log_format="",
        user=0,
        group=0,
        dogstatsd_tags="",
        statsd_host=None,
        statsd_prefix="",
        env={},
    )
    logger = GunicornJsonLogger(cfg)
    response = SimpleNamespace(status="404 NOT FOUND", status_code=404, sent=22, headers=[], response_length=22)
    request = SimpleNamespace(headers=[], method="GET", path="/missing", query="", version=(1, 1), uri="/missing")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/missing", "REMOTE_ADDR": "10.0.0.5", "HTTP_USER_AGENT": 'a "b"'}
    logger.access(response, request, environ, timedelta(milliseconds=3))
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["status"] == 404
    assert entry["user_agent"] == 'a "b"'
