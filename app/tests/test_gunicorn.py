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
from typing import Iterator

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

    def get(self, path: str, timeout: float = 5) -> tuple[int, dict]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as response:
            return response.status, json.loads(response.read())

    def terminate_and_time_exit(self, limit: float) -> float:
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=limit)
        return time.monotonic() - started


@pytest.fixture()
def server() -> Iterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "APP_VERSION": "3f2c1a9",
        "GUNICORN_WORKERS": "2",
        "APP_TEST_ROUTES": "1",
        "PYTHONPATH": str(APP_DIR),
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
    yield server
    if process.poll() is None:
        process.kill()
        process.wait()


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


def test_an_idle_server_exits_within_2_seconds_of_sigterm(server: Server) -> None:
    assert server.terminate_and_time_exit(limit=10) < 2.0
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
