"""`riskguard run` as a user starts it: a real process on the embedded default, stopped by
--duration or SIGTERM, its state kept in the data folder for the next start."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RISKGUARD = [sys.executable, "-m", "riskguard"]


def start(data: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*RISKGUARD, "run", "--data-dir", str(data), "--json-logs", "--api-port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def records(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def wait_for(process: subprocess.Popen[str], event: str, seconds: float = 30.0) -> list[dict[str, Any]]:
    """Read the log until `event` appears (or fail after `seconds`)."""
    assert process.stdout is not None
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("{"):
            seen.append(json.loads(line))
            if seen[-1]["event"] == event:
                return seen
    raise AssertionError(f"no {event!r} in the log; saw {[r['event'] for r in seen]}")


def test_run_when_started_with_no_config_then_says_where_its_data_is_and_stops_after_duration(tmp_path: Path) -> None:
    result = subprocess.run(
        [*RISKGUARD, "run", "--data-dir", str(tmp_path / "data"), "--json-logs", "--api-port", "0", "--duration", "4"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    log = records(result.stderr)  # logs go to stderr
    running = next(r for r in log if r["event"] == "riskguard is running")
    assert running["data"] == str((tmp_path / "data" / "riskguard.db").resolve())
    assert running["venue"].startswith("paper")
    assert "max_contracts" in running["rules"]
    assert log[-1]["event"] == "daemon stopped"
    assert (tmp_path / "data" / "riskguard.db").exists()


def test_run_when_sigterm_then_stops_cleanly_and_the_next_start_restores_from_the_journal(tmp_path: Path) -> None:
    # Arrange / Act: a first run, stopped by SIGTERM as systemd would
    first = start(tmp_path / "data")
    wait_for(first, "daemon started")
    time.sleep(1.5)  # a few price steps reach the journal
    first.send_signal(signal.SIGTERM)
    out, _ = first.communicate(timeout=30)
    assert first.returncode == 0
    assert records(out)[-1]["event"] == "daemon stopped"
    # Assert: a second run finds the journal and snapshot the first one left
    second = subprocess.run(
        [*RISKGUARD, "run", "--data-dir", str(tmp_path / "data"), "--json-logs", "--api-port", "0", "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    restored = next(r for r in records(second.stderr) if r["event"] == "state restored")
    assert restored["snapshot_seq"] > 0  # the clean stop wrote a snapshot: nothing to replay
    assert restored["replayed"] == 0


def test_run_when_another_daemon_holds_the_data_folder_then_refuses_to_start(tmp_path: Path) -> None:
    first = start(tmp_path / "data")
    try:
        wait_for(first, "daemon started")
        second = subprocess.run(
            [*RISKGUARD, "run", "--data-dir", str(tmp_path / "data"), "--api-port", "0", "--duration", "1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert "another riskguard daemon is running on" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)


def test_run_when_the_api_port_is_taken_then_refuses_to_start_and_says_what_to_do(tmp_path: Path) -> None:
    # Arrange: another program listens on the port
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        # Act
        result = subprocess.run(
            [*RISKGUARD, "run", "--data-dir", str(tmp_path / "data"), "--api-port", str(port), "--duration", "1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    # Assert
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert f"cannot serve the API on http://127.0.0.1:{port}" in message
    assert "pass --api-port 0 for a free port, another --api-port, or --no-api" in message


def test_run_when_no_api_then_says_so_and_runs(tmp_path: Path) -> None:
    # Act
    result = subprocess.run(
        [*RISKGUARD, "run", "--data-dir", str(tmp_path / "data"), "--json-logs", "--no-api", "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Assert
    assert result.returncode == 0, result.stderr
    running = next(r for r in records(result.stderr) if r["event"] == "riskguard is running")
    assert running["api"] == "off (--no-api)"
