"""Real processes for the controller's test: two `riskguard run` daemons and one `riskguard controller`.

Each process's log (JSON lines) is read by a thread, so a pipe never fills and a wait for a log
line is bounded by a deadline instead of a blocking `readline`. Every process is stopped in a
`finally`, killed if SIGTERM is not enough.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

RISKGUARD = [sys.executable, "-m", "riskguard"]
PASSWORD = "controller-test-password"  # RISKGUARD_ADMIN_PASSWORD of every process
START_SECONDS = 30.0


class Process:
    """A riskguard process whose JSON log records are collected as they come."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str]) -> None:
        self.name = name
        self.records: list[dict[str, Any]] = []
        self.text: list[str] = []
        self._new: queue.Queue[dict[str, Any]] = queue.Queue()
        self.popen = subprocess.Popen(
            [*RISKGUARD, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        )
        self._reader = threading.Thread(target=self._read, name=f"log-{name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.text.append(line)
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                self.records.append(record)
                self._new.put(record)

    def wait_for(self, event: str, seconds: float = START_SECONDS) -> dict[str, Any]:
        """The first log record named `event`, or fail (with the log) after `seconds`."""
        deadline = time.monotonic() + seconds
        for record in list(self.records):
            if record.get("event") == event:
                return record
        while (left := deadline - time.monotonic()) > 0:
            try:
                record = self._new.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.popen.poll() is not None and self._new.empty():
                    break
                continue
            if record.get("event") == event:
                return record
        raise AssertionError(f"{self.name}: no {event!r} in its log; it said:\n{''.join(self.text)[-4000:]}")

    def stop(self, seconds: float = 15.0) -> int:
        """SIGTERM, then SIGKILL if it does not exit in `seconds`; its exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(seconds)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._reader.join(5)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        return self.popen.returncode


def start_daemon(name: str, config: Path, data: Path, started: list[Process]) -> tuple[Process, str]:
    """A daemon on the paper venue without the demo bot (its rows stay as configured), and its API
    URL; it joins `started` before it is waited for, so a failed start is stopped too."""
    process = Process(
        name,
        ["run", "--config", str(config), "--data-dir", str(data), "--api-port", "0", "--json-logs", "--no-bot"],
        {"RISKGUARD_ADMIN_PASSWORD": PASSWORD},
    )
    started.append(process)
    return process, str(process.wait_for("riskguard is running")["api"])


def admin_session(url: str) -> str:
    """A session token of the user admin (the password from RISKGUARD_ADMIN_PASSWORD)."""
    answer = httpx.post(f"{url}/api/auth/login", json={"username": "admin", "password": PASSWORD}, timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def admin_token(url: str, session: str) -> str:
    """A new admin API token named "controller", as an operator makes one for the controller."""
    answer = httpx.post(
        f"{url}/api/auth/tokens",
        json={"name": "controller", "role": "admin"},
        headers={"Authorization": f"Bearer {session}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


@pytest.fixture(scope="module")
def processes() -> Iterator[list[Process]]:
    """Every process the module starts; all of them stopped at the end, whatever happened."""
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in reversed(started):
            process.stop()
