"""gunicorn, started exactly as the image's CMD starts it, with the image's config file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import pytest

APP_DIR = Path(__file__).resolve().parent.parent


def image_cmd() -> list[str]:
    """The Dockerfile's exec-form CMD, with `gunicorn` run by this interpreter (the one with the dependencies)."""
    lines = [line for line in (APP_DIR / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]
    cmd = json.loads(lines[-1][len("CMD ") :])
    assert cmd[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *cmd[1:]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running gunicorn. Its stdout and stderr are drained as they come, so a full pipe never stalls it."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port
        self.lines: dict[str, list[str]] = {"out": [], "err": []}
        self.readers = [
            threading.Thread(target=self._drain, args=(stream, self.lines[name]), daemon=True)
            for name, stream in (("out", process.stdout), ("err", process.stderr))
        ]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _drain(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def output(self) -> list[str]:
        """Every line gunicorn wrote to stdout, once it has exited."""
        for reader in self.readers:
            reader.join(timeout=5)
        return self.lines["out"]

    def booted_workers(self) -> int:
        return sum("Booting worker" in line for line in self.lines["out"] + self.lines["err"])

    def get(self, path: str, timeout: float = 5, headers: dict[str, str] | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers or {})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())

    def access_lines(self) -> list[dict]:
        """The JSON access-log lines, once gunicorn has exited (SIGTERM it first)."""
        return [json.loads(line) for line in self.output() if '"logger":"access"' in line]

    def terminate_and_time_exit(self, limit: float) -> float:
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=limit)
        return time.monotonic() - started


def start_gunicorn(**overrides: str) -> Server:
    """Starts the image's CMD with the test environment plus `overrides`; returns once every worker has booted."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "APP_VERSION": "3f2c1a9",
        "GUNICORN_WORKERS": "2",
        "APP_TEST_ROUTES": "1",
        "PYTHONPATH": str(APP_DIR),
        **overrides,
    }
    process = subprocess.Popen(
        image_cmd(), cwd=APP_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    server = Server(process, port)
    deadline = time.monotonic() + 15
    # Ready means every worker has booted (a signal mid-boot is another test) and /health answers.
    while True:
        try:
            if server.booted_workers() >= int(env["GUNICORN_WORKERS"]):
                server.get("/health", timeout=1)
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail("gunicorn did not start:\n" + "\n".join(server.output() + server.lines["err"]))
        time.sleep(0.1)
    return server


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.kill()
        server.process.wait()


@pytest.fixture()
def server() -> Iterator[Server]:
    started = start_gunicorn()
    yield started
    stop(started)


@pytest.fixture()
def gunicorn() -> Iterator[Callable[..., Server]]:
    """A factory: `gunicorn(TRUSTED_PROXY_CIDRS="...")` starts a server with those variables; all are stopped after."""
    started: list[Server] = []

    def start(**overrides: str) -> Server:
        started.append(start_gunicorn(**overrides))
        return started[-1]

    yield start
    for each in started:
        stop(each)


def graceful_timeout() -> int:
    namespace: dict = {}
    exec((APP_DIR / "gunicorn.conf.py").read_text(), namespace)
    return namespace["graceful_timeout"]


def test_health_answers(server: Server) -> None:
    assert server.get("/health") == (200, {"status": "ok", "version": "3f2c1a9"})


def test_each_request_is_one_json_access_line(server: Server) -> None:
    server.get("/")
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=10)
    access = [json.loads(line) for line in server.output() if '"logger":"access"' in line]
    assert [(a["method"], a["path"], a["status"]) for a in access][-1] == ("GET", "/", 200)


def test_an_idle_server_exits_on_sigterm_without_waiting_out_the_graceful_timeout(server: Server) -> None:
    # Idle, nothing is in flight, so it must not sit out the graceful timeout (25 s). About 1 s on a quiet machine;
    # the bound leaves room for a loaded 2-core CI runner, where 2 s proved flaky (2.2-6.3 s measured under load 20-38).
    assert server.terminate_and_time_exit(limit=graceful_timeout() + 5) < graceful_timeout() / 3
    assert server.process.returncode == 0


def test_a_request_in_flight_completes_after_sigterm(server: Server) -> None:
    result: dict = {}

    def slow_request() -> None:
        result["response"] = server.get("/_test/sleep?seconds=2", timeout=10)

    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(0.5)  # the request is now in a worker
    elapsed = server.terminate_and_time_exit(limit=graceful_timeout() + 5)
    thread.join(timeout=5)
    assert result["response"] == (200, {"slept": 2.0})
    assert elapsed < graceful_timeout()
    assert server.process.returncode == 0


# ---- Who sent the request (service/proxy.py), through real gunicorn -------------------------------------------------
# Every request here comes from 127.0.0.1. "Outside" means TRUSTED_PROXY_CIDRS does not cover it; "the ALB's range"
# means it does (127.0.0.0/8 plays the VPC's CIDR). The task definition sets the real VPC CIDR.
FORGED = {"X-Forwarded-For": "198.51.100.66", "X-Forwarded-Proto": "https", "SCRIPT_NAME": "/_test"}


def test_forged_headers_from_outside_the_trusted_range_change_nothing_seen_or_logged(gunicorn) -> None:
    server = gunicorn(TRUSTED_PROXY_CIDRS="10.10.0.0/16", GUNICORN_WORKERS="1")
    honest = server.get("/_test/request")
    forged = server.get("/_test/request", headers=FORGED)
    assert forged == honest
    assert forged[1] == {
        "remote_addr": "127.0.0.1",
        "scheme": "http",
        "url_root": f"http://127.0.0.1:{server.port}/",
        "path": "/_test/request",
    }
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=10)
    assert [(a["path"], a["client"], a["peer"]) for a in server.access_lines() if a["path"] != "/health"] == [
        ("/_test/request", "127.0.0.1", "127.0.0.1"),
        ("/_test/request", "127.0.0.1", "127.0.0.1"),
    ]


def test_from_the_alb_range_the_appended_client_address_is_seen_and_logged(gunicorn) -> None:
    server = gunicorn(TRUSTED_PROXY_CIDRS="127.0.0.0/8", GUNICORN_WORKERS="1")
    # The client forged 198.51.100.66; the ALB appended the address it saw, 203.0.113.9.
    headers = {**FORGED, "X-Forwarded-For": "198.51.100.66, 203.0.113.9"}
    assert server.get("/_test/request", headers=headers) == (
        200,
        {
            "remote_addr": "203.0.113.9",
            "scheme": "https",
            "url_root": f"https://127.0.0.1:{server.port}/",
            "path": "/_test/request",
        },
    )
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=10)
    assert [(a["client"], a["peer"]) for a in server.access_lines() if a["path"] == "/_test/request"] == [
        ("203.0.113.9", "127.0.0.1")
    ]


# ---- Requests in flight: workers x threads is a hard ceiling (docs/app-limits.md) -----------------------------------


def timed_get(server: Server, path: str, results: list[float]) -> None:
    started = time.monotonic()
    server.get(path, timeout=20)
    results.append(time.monotonic() - started)


def test_the_request_after_workers_times_threads_waits_for_a_free_thread(gunicorn) -> None:
    # One worker so the count is exact: with several, a busy worker still accepts and queues (docs/app-limits.md).
    threads = 3
    server = gunicorn(GUNICORN_WORKERS="1", GUNICORN_THREADS=str(threads))
    first: list[float] = []
    extra: list[float] = []
    busy = [threading.Thread(target=timed_get, args=(server, "/_test/sleep?seconds=2", first)) for _ in range(threads)]
    for each in busy:
        each.start()
    time.sleep(0.5)  # all three threads are now sleeping
    late = threading.Thread(target=timed_get, args=(server, "/_test/sleep?seconds=2", extra))
    late.start()
    for each in [*busy, late]:
        each.join(timeout=20)
    assert len(first) == threads and max(first) < 3.0  # N requests ran side by side
    assert extra[0] >= 3.0  # request N+1 waited ~1.5 s for a thread, then slept 2 s


def test_clients_that_never_finish_their_headers_pin_every_thread(gunicorn) -> None:
    server = gunicorn(GUNICORN_WORKERS="1", GUNICORN_THREADS="2")
    stalled = []
    for _ in range(2):
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # no blank line: the request never ends
        stalled.append(sock)
    time.sleep(0.5)
    with pytest.raises(OSError):  # a timeout: both threads are blocked reading headers
        server.get("/health", timeout=2)
    for sock in stalled:
        sock.close()
    assert server.get("/health", timeout=5)[0] == 200


@pytest.mark.parametrize(
    ("variable", "value"), [("GUNICORN_THREADS", "0"), ("GUNICORN_THREADS", "four"), ("GUNICORN_WORKERS", "33")]
)
def test_fails_when_a_worker_count_is_not_1_to_32(variable: str, value: str) -> None:
    env = {**os.environ, "PORT": str(free_port()), "PYTHONPATH": str(APP_DIR), variable: value}
    done = subprocess.run(image_cmd(), cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=20)
    assert done.returncode != 0
    assert f"{variable}: '{value}' is not a whole number from 1 to 32; unset it to use" in done.stdout + done.stderr


# ---- Errors raised before the app: gunicorn answers itself, in HTML (docs/app-limits.md) ----------------------------


def raw_exchange(port: int, data: bytes) -> tuple[str, dict[str, str], bytes]:
    """Sends bytes, reads until gunicorn closes; returns the status line, headers (lower-case names) and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}, body


@pytest.mark.parametrize(
    "request_bytes",
    [b"NONSENSE\r\n\r\n", b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"],
    ids=["malformed request line", "request line over limit_request_line"],
)
def test_a_request_gunicorn_rejects_gets_its_html_400_not_the_apps_json(server: Server, request_bytes: bytes) -> None:
    status, headers, body = raw_exchange(server.port, request_bytes)
    assert status.startswith("HTTP/1.1 400")
    assert headers["content-type"].startswith("text/html")
    assert body.startswith(b"<html>")


def test_gunicorn_itself_trusts_no_peers_forwarded_headers() -> None:
    namespace: dict = {}
    exec((APP_DIR / "gunicorn.conf.py").read_text(), namespace)
    assert namespace["forwarded_allow_ips"] == ""  # the app decides, from TRUSTED_PROXY_CIDRS (service/proxy.py)


def test_fails_when_gunicorns_forwarded_allow_ips_is_set() -> None:
    # An address, not a CIDR: gunicorn 23.x itself refuses a CIDR there before reading this config file.
    env = {**os.environ, "PORT": str(free_port()), "PYTHONPATH": str(APP_DIR), "FORWARDED_ALLOW_IPS": "10.10.0.5"}
    done = subprocess.run(image_cmd(), cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=20)
    assert done.returncode != 0
    assert "FORWARDED_ALLOW_IPS is not used" in done.stdout + done.stderr
    assert "set TRUSTED_PROXY_CIDRS to the VPC's CIDR instead" in done.stdout + done.stderr
