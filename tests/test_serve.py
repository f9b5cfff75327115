"""`statbot serve` as a real process: it starts, answers /healthz and /metrics, and stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import EXAMPLE_ORG


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_answers_health_and_stops(tmp_path: Path) -> None:
    statbot = Path(sys.executable).with_name("statbot")
    env = {**os.environ, "STATBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"}
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "MicrosoftAppId"):
        env.pop(name, None)
    subprocess.run([statbot, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    subprocess.run(
        [statbot, "org", "apply", str(EXAMPLE_ORG)], env=env, check=True, capture_output=True, timeout=60
    )
    port = _free_port()
    server = subprocess.Popen(
        [statbot, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body = b""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    body = response.read()
                    break
            except OSError:
                time.sleep(0.2)
        health = json.loads(body)
        assert (health["status"], health["database"], health["scheduler"]) == ("ok", "ok", "running")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert b"statbot_sweeps_total" in response.read()
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert f"statbot listening on http://127.0.0.1:{port}" in output
    assert "deliveries wait in the outbox" in output


def test_serve_on_port_zero_says_the_port_the_system_gave(tmp_path: Path) -> None:
    statbot = Path(sys.executable).with_name("statbot")
    env = {
        **os.environ,
        "STATBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "MicrosoftAppId"):
        env.pop(name, None)
    subprocess.run([statbot, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    server = subprocess.Popen(
        [statbot, "serve", "--host", "127.0.0.1", "--port", "0", "--no-scheduler"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = ""
        deadline = time.monotonic() + 30
        while "listening on" not in line and time.monotonic() < deadline:
            line = server.stdout.readline()
        port = int(line.strip().rsplit(":", 1)[1])
        assert port > 0, line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert json.loads(response.read())["database"] == "ok"
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
