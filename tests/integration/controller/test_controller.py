"""`riskguard controller` against two real daemons on loopback: it shows both daemons' strategies,
sends each edit to the daemon it names and to no other, refuses a bulk update with any bad row
before sending anything, keeps its roles, and keeps answering when one daemon goes away.

The tests share one set of processes (started once, ~10 s) and run in file order; the last one
stops a daemon.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from riskguard.api.auth import Authenticator
from riskguard.controller import DaemonClient, Fleet, Source, create_controller_app
from riskguard.store.credentials import CredentialStore, Role
from riskguard.store.journal import sqlite_url
from tests.integration.controller.conftest import PASSWORD, RISKGUARD, Process, admin_session, admin_token, start_daemon

HYPERLIQUID_CONFIG = """\
execution_mode: paper
rules:
  strategy_settings:
    strategies:
      "trend-1/BTC-PERP": {risk_per_trade: 2, stop_loss_dollars: 10, max_strategy_loss: 100}
      "scalp-2/MNQ": {enabled: false, risk_per_trade: 0.5, stop_loss_dollars: 25, max_strategy_loss: 75, model_reward: 1.5}
accounts:
  PAPER-USD: {currency: USD}
  PAPER-USDC: {currency: USDC}
"""

# Lighter has a strategy with the same id and symbol as hyperliquid's: an edit must reach one only.
LIGHTER_CONFIG = """\
execution_mode: paper
rules:
  strategy_settings:
    strategies:
      "trend-1/BTC-PERP": {risk_per_trade: 1, stop_loss_dollars: 5, max_strategy_loss: 50}
      "grid-1/BTC-PERP": {risk_per_trade: 3, stop_loss_dollars: 8, max_strategy_loss: 40}
accounts:
  PAPER-USD: {currency: USD}
  PAPER-USDC: {currency: USDC}
"""


def row(strategy_id: str, symbol: str, **fields: Any) -> dict[str, Any]:
    """A strategy row as a daemon answers it: seed 000's defaults, then `fields`."""
    return {
        "strategy_id": strategy_id,
        "symbol": symbol,
        "enabled": True,
        "risk_per_trade": "1",
        "stop_loss_dollars": "5",
        "max_strategy_loss": "50",
        "is_killed": False,
        "total_pnl": "0",
        "model_reward": None,
        **fields,
    }


HYPERLIQUID_ROWS = [
    row("trend-1", "BTC-PERP", risk_per_trade="2", stop_loss_dollars="10", max_strategy_loss="100"),
    row(
        "scalp-2",
        "MNQ",
        enabled=False,
        risk_per_trade="0.5",
        stop_loss_dollars="25",
        max_strategy_loss="75",
        model_reward="1.5",
    ),
]
LIGHTER_ROWS = [
    row("trend-1", "BTC-PERP"),
    row("grid-1", "BTC-PERP", risk_per_trade="3", stop_loss_dollars="8", max_strategy_loss="40"),
]


@dataclass
class Rig:
    hyperliquid: str  # the daemons' URLs
    lighter: str
    controller: str
    daemon_sessions: dict[str, str]  # source -> admin session on that daemon (to read back directly)
    admin: httpx.Client  # the controller, signed in as admin
    viewer: httpx.Client  # the controller, with its viewer token
    anonymous: httpx.Client
    lighter_process: Process

    def daemon_rows(self, source: str) -> list[dict[str, Any]]:
        """A daemon's own GET /api/strategies, asked directly (not through the controller)."""
        url = self.hyperliquid if source == "hyperliquid" else self.lighter
        answer = httpx.get(
            f"{url}/api/strategies", headers={"Authorization": f"Bearer {self.daemon_sessions[source]}"}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    def both(self) -> dict[str, list[dict[str, Any]]]:
        return {source: self.daemon_rows(source) for source in ("hyperliquid", "lighter")}


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, processes: list[Process]) -> Iterator[Rig]:
    # Two daemons, each with an admin API token made for the controller
    tmp = tmp_path_factory.mktemp("controller")
    (tmp / "hyperliquid.yaml").write_text(HYPERLIQUID_CONFIG)
    (tmp / "lighter.yaml").write_text(LIGHTER_CONFIG)
    _, hyperliquid_url = start_daemon("hyperliquid", tmp / "hyperliquid.yaml", tmp / "d1", processes)
    lighter, lighter_url = start_daemon("lighter", tmp / "lighter.yaml", tmp / "d2", processes)
    sessions = {"hyperliquid": admin_session(hyperliquid_url), "lighter": admin_session(lighter_url)}
    hyperliquid_token = admin_token(hyperliquid_url, sessions["hyperliquid"])
    token_file = tmp / "lighter.token"
    token_file.touch(mode=0o600)
    token_file.write_text(admin_token(lighter_url, sessions["lighter"]) + "\n")
    # The controller: one token from the environment, one from a private file
    (tmp / "controller.yaml").write_text(
        textwrap.dedent(
            f"""\
            controller: {{host: 127.0.0.1, port: 0, timeout_seconds: 2}}
            sources:
              - {{name: hyperliquid, url: "{hyperliquid_url}", token_env: RISKGUARD_TOKEN_HYPERLIQUID}}
              - {{name: lighter, url: "{lighter_url}", token_file: lighter.token}}
            """
        )
    )
    controller = Process(
        "controller",
        ["controller", "--config", str(tmp / "controller.yaml"), "--data-dir", str(tmp / "c"), "--json-logs"],
        {"RISKGUARD_ADMIN_PASSWORD": PASSWORD, "RISKGUARD_TOKEN_HYPERLIQUID": hyperliquid_token},
    )
    processes.append(controller)
    url = str(controller.wait_for("riskguard controller is running")["api"])
    viewer_token = (tmp / "c" / "viewer.token").read_text().strip()
    with (
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_session(url)}"}, timeout=10) as admin,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {viewer_token}"}, timeout=10) as viewer,
        httpx.Client(base_url=url, timeout=10) as anonymous,
    ):
        yield Rig(hyperliquid_url, lighter_url, url, sessions, admin, viewer, anonymous, lighter)


def sourced(source: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "source": source} for r in rows]


def test_controller_when_asked_for_strategies_then_lists_every_row_of_both_daemons_with_its_source(rig: Rig) -> None:
    # Act
    answer = rig.viewer.get("/api/risk/strategies")
    # Assert
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(s["name"], s["url"], s["up"], s["error"]) for s in body["sources"]] == [
        ("hyperliquid", rig.hyperliquid, True, None),
        ("lighter", rig.lighter, True, None),
    ]
    assert body["strategies"] == sourced("hyperliquid", HYPERLIQUID_ROWS) + sourced("lighter", LIGHTER_ROWS)
    assert rig.both() == {"hyperliquid": HYPERLIQUID_ROWS, "lighter": LIGHTER_ROWS}


def test_controller_when_asked_for_sources_then_gives_each_daemons_switches(rig: Rig) -> None:
    # Act
    answer = rig.viewer.get("/api/risk/sources")
    # Assert
    assert answer.status_code == 200, answer.text
    assert [
        {key: source[key] for key in ("name", "up", "error", "kill_switch_active", "daily_loss_halt", "paused")}
        for source in answer.json()
    ] == [
        {
            "name": name,
            "up": True,
            "error": None,
            "kill_switch_active": False,
            "daily_loss_halt": False,
            "paused": False,
        }
        for name in ("hyperliquid", "lighter")
    ]


def test_controller_when_settings_are_put_then_only_the_named_daemons_row_changes(rig: Rig) -> None:
    # Arrange
    before = rig.both()
    # Act: trend-1/BTC-PERP exists on both daemons; the path names hyperliquid
    answer = rig.admin.put(
        "/api/risk/hyperliquid/trend-1/BTC-PERP",
        json={"risk_per_trade": "2.25", "stop_loss_dollars": 12, "reason": "wider stop for the test"},
    )
    # Assert
    assert answer.status_code == 200, answer.text
    changed = {**HYPERLIQUID_ROWS[0], "risk_per_trade": "2.25", "stop_loss_dollars": "12"}
    assert answer.json() == {**changed, "source": "hyperliquid"}
    assert rig.both() == {"hyperliquid": [changed, before["hyperliquid"][1]], "lighter": before["lighter"]}


def test_controller_when_disable_then_enable_then_the_daemon_row_follows(rig: Rig) -> None:
    # Act / Assert: disable
    answer = rig.admin.post("/api/risk/lighter/grid-1/BTC-PERP/disable")
    assert answer.status_code == 200, answer.text
    assert answer.json()["enabled"] is False
    assert answer.json()["source"] == "lighter"
    assert rig.daemon_rows("lighter")[1] == {**LIGHTER_ROWS[1], "enabled": False}
    # Act / Assert: enable
    answer = rig.admin.post("/api/risk/lighter/grid-1/BTC-PERP/enable")
    assert answer.status_code == 200, answer.text
    assert rig.daemon_rows("lighter")[1] == LIGHTER_ROWS[1]


def test_controller_when_the_daemon_refuses_then_its_status_and_detail_come_back(rig: Rig) -> None:
    # Act: a strategy lighter neither lists nor has seen trade
    answer = rig.admin.post(
        "/api/risk/lighter/nope/BTC-PERP/reset-kill-switch", json={"confirm": True, "reason": "test"}
    )
    # Assert
    assert answer.status_code == 404, answer.text
    assert answer.json() == {"detail": "no strategy nope on BTC-PERP is listed or has traded", "source": "lighter"}


def test_controller_when_a_path_names_an_unknown_source_or_a_bad_segment_then_refuses(rig: Rig) -> None:
    # Act
    unknown = rig.admin.put("/api/risk/binance/trend-1/BTC-PERP", json={"risk_per_trade": "2"})
    dots = rig.admin.post(
        "/api/risk/lighter/%2E%2E/BTC-PERP/enable"
    )  # ".." once decoded: would climb the daemon's path
    out_of_range = rig.admin.put("/api/risk/lighter/trend-1/BTC-PERP", json={"risk_per_trade": "101"})
    # Assert
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "no source named 'binance'; the sources are hyperliquid, lighter"}
    assert dots.status_code == 422
    assert dots.json()["detail"][0]["loc"] == ["path", "strategy_id"]
    assert out_of_range.status_code == 422
    assert out_of_range.json()["detail"][0]["loc"] == ["body", "risk_per_trade"]


def test_controller_when_a_bulk_update_has_bad_rows_then_422_per_row_and_nothing_is_applied(rig: Rig) -> None:
    # Arrange
    before = rig.both()
    updates = [
        {
            "source": "hyperliquid",
            "strategy_id": "trend-1",
            "symbol": "BTC-PERP",
            "settings": {"max_strategy_loss": "80"},
        },
        {"source": "lighter", "strategy_id": "grid-1", "symbol": "BTC-PERP", "settings": {"risk_per_trade": "0"}},
        {"source": "binance", "strategy_id": "trend-1", "symbol": "BTC-PERP", "settings": {"enabled": False}},
        {"source": "lighter", "strategy_id": "trend 1", "symbol": "BTC-PERP", "settings": {"enabled": False}},
    ]
    # Act
    answer = rig.admin.post("/api/risk/bulk-update", json={"updates": updates, "reason": "bulk test"})
    # Assert
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["detail"] == "3 of 4 rows cannot be applied; nothing was sent"
    assert [(r["index"], r["source"], r["strategy_id"], r["symbol"], r["ok"]) for r in body["results"]] == [
        (0, "hyperliquid", "trend-1", "BTC-PERP", True),
        (1, "lighter", "grid-1", "BTC-PERP", False),
        (2, "binance", "trend-1", "BTC-PERP", False),
        (3, "lighter", "trend 1", "BTC-PERP", False),
    ]
    errors = [r["error"] for r in body["results"]]
    assert errors[0] is None
    assert errors[1] == "settings.risk_per_trade: Input should be greater than 0 (was '0')"
    assert errors[2] == "no source named 'binance'; the sources are hyperliquid, lighter"
    assert errors[3].startswith("strategy_id: String should match pattern")
    assert all(r["status"] is None and r["row"] is None for r in body["results"])
    assert rig.both() == before


def test_controller_when_a_bulk_update_is_good_then_every_row_is_applied_on_its_daemon(rig: Rig) -> None:
    # Arrange
    before = rig.both()
    updates = [
        {
            "source": "hyperliquid",
            "strategy_id": "scalp-2",
            "symbol": "MNQ",
            "settings": {"enabled": True, "model_reward": None},
        },
        {
            "source": "lighter",
            "strategy_id": "trend-1",
            "symbol": "BTC-PERP",
            "settings": {"max_strategy_loss": "60.5"},
        },
    ]
    # Act
    answer = rig.admin.post("/api/risk/bulk-update", json={"updates": updates, "reason": "bulk test"})
    # Assert
    assert answer.status_code == 200, answer.text
    scalp = {**before["hyperliquid"][1], "enabled": True, "model_reward": None}
    trend = {**before["lighter"][0], "max_strategy_loss": "60.5"}
    assert answer.json() == {
        "detail": "all 2 rows were applied",
        "results": [
            {
                "index": 0,
                "source": "hyperliquid",
                "strategy_id": "scalp-2",
                "symbol": "MNQ",
                "ok": True,
                "error": None,
                "status": 200,
                "row": {**scalp, "source": "hyperliquid"},
            },
            {
                "index": 1,
                "source": "lighter",
                "strategy_id": "trend-1",
                "symbol": "BTC-PERP",
                "ok": True,
                "error": None,
                "status": 200,
                "row": {**trend, "source": "lighter"},
            },
        ],
    }
    assert rig.both() == {
        "hyperliquid": [before["hyperliquid"][0], scalp],
        "lighter": [trend, before["lighter"][1]],
    }


def test_controller_when_a_viewer_or_nobody_tries_a_change_then_403_or_401_and_nothing_changes(rig: Rig) -> None:
    # Arrange
    before = rig.both()
    changes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PUT", "/api/risk/hyperliquid/trend-1/BTC-PERP", {"risk_per_trade": "9"}),
        ("POST", "/api/risk/hyperliquid/trend-1/BTC-PERP/disable", None),
        ("POST", "/api/risk/lighter/grid-1/BTC-PERP/enable", None),
        ("POST", "/api/risk/lighter/grid-1/BTC-PERP/reset-kill-switch", {"confirm": True, "reason": "x"}),
        (
            "POST",
            "/api/risk/bulk-update",
            {"updates": [{"source": "lighter", "strategy_id": "grid-1", "symbol": "BTC-PERP", "settings": {}}]},
        ),
    ]
    # Act
    viewer = [rig.viewer.request(method, path, json=body).status_code for method, path, body in changes]
    anonymous = [rig.anonymous.request(method, path, json=body).status_code for method, path, body in changes]
    reads = [rig.anonymous.get("/api/risk/strategies").status_code, rig.viewer.get("/api/risk/strategies").status_code]
    # Assert
    assert viewer == [403] * len(changes)
    assert anonymous == [401] * len(changes)
    assert reads == [401, 200]
    assert rig.both() == before


def test_controller_when_a_daemon_is_stopped_then_reads_still_answer_and_forwards_to_it_are_502(rig: Rig) -> None:
    # Arrange: lighter stops as systemd would stop it
    hyperliquid_rows = rig.daemon_rows("hyperliquid")
    assert rig.lighter_process.stop() == 0
    # Act
    strategies = rig.viewer.get("/api/risk/strategies")
    sources = rig.viewer.get("/api/risk/sources")
    put = rig.admin.put("/api/risk/lighter/trend-1/BTC-PERP", json={"risk_per_trade": "2"})
    bulk = rig.admin.post(
        "/api/risk/bulk-update",
        json={
            "updates": [
                {
                    "source": "hyperliquid",
                    "strategy_id": "trend-1",
                    "symbol": "BTC-PERP",
                    "settings": {"enabled": False},
                },
                {"source": "lighter", "strategy_id": "trend-1", "symbol": "BTC-PERP", "settings": {"enabled": False}},
            ]
        },
    )
    # Assert: the other daemon's rows are all there; lighter is listed as down, with why
    assert strategies.status_code == 200, strategies.text
    body = strategies.json()
    (down,) = [s for s in body["sources"] if s["name"] == "lighter"]
    assert down["up"] is False
    assert down["error"].startswith(f"lighter ({rig.lighter}) cannot be reached")
    assert [s["up"] for s in body["sources"]] == [True, False]
    assert body["strategies"] == sourced("hyperliquid", hyperliquid_rows)
    assert [(s["name"], s["up"], s["kill_switch_active"]) for s in sources.json()] == [
        ("hyperliquid", True, False),
        ("lighter", False, None),
    ]
    assert put.status_code == 502
    assert put.json()["source"] == "lighter"
    assert put.json()["detail"].startswith(f"lighter ({rig.lighter}) cannot be reached")
    assert bulk.status_code == 422
    assert [(r["ok"], (r["error"] or "").startswith("lighter (")) for r in bulk.json()["results"]] == [
        (True, False),
        (False, True),
    ]
    assert rig.daemon_rows("hyperliquid") == hyperliquid_rows


def test_controller_when_a_token_file_is_readable_by_others_or_a_token_variable_is_unset_then_refuses_to_start(
    tmp_path: Path,
) -> None:
    # Arrange
    shared = tmp_path / "shared.token"
    shared.write_text("secret-token-value\n")
    shared.chmod(0o644)
    (tmp_path / "controller.yaml").write_text(
        textwrap.dedent(
            """\
            controller: {port: 0}
            sources:
              - {name: hyperliquid, url: "http://127.0.0.1:9", token_env: RISKGUARD_TOKEN_NOT_SET}
              - {name: lighter, url: "http://127.0.0.1:10", token_file: shared.token}
            """
        )
    )
    env = {key: value for key, value in os.environ.items() if key != "RISKGUARD_TOKEN_NOT_SET"}
    # Act
    result = subprocess.run(
        [*RISKGUARD, "controller", "--config", str(tmp_path / "controller.yaml"), "--data-dir", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    # Assert
    message = " ".join(result.stderr.split())
    assert result.returncode == 2, result.stderr
    assert "controller.yaml line 3: sources.0.token_env: RISKGUARD_TOKEN_NOT_SET is not set (or empty)" in message
    assert (
        f"controller.yaml line 4: sources.1.token_file: {tmp_path / 'shared.token'} may be read by other users "
        f"(mode 0644); a token file must be private: chmod 600 {tmp_path / 'shared.token'}"
    ) in message
    assert "secret-token-value" not in result.stderr + result.stdout
    assert not (tmp_path / "c").exists()  # refused before anything was made


@pytest.mark.asyncio
async def test_controller_when_a_daemon_refuses_a_checked_bulk_row_then_207_with_its_status_and_words(
    tmp_path: Path,
) -> None:
    # Arrange: the controller in this process; "one" takes the change, "two" has no strategy_settings
    def daemons(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/me":
            return httpx.Response(200, json={"username": "controller", "role": "admin", "via": "token"})
        if request.url.host == "one.test":
            assert json.loads(request.content) == {"reason": "bulk test", "risk_per_trade": "2.5"}
            return httpx.Response(200, json=row("a", "BTC-PERP", risk_per_trade="2.5"))
        return httpx.Response(409, json={"detail": "strategy_settings is not configured on this daemon"})

    transport = httpx.MockTransport(daemons)
    fleet = Fleet(
        [
            DaemonClient(Source(name, f"http://{name}.test", SecretStr("t")), 2, transport=transport)
            for name in ("one", "two")
        ],
        lambda: datetime(2026, 6, 10, tzinfo=UTC),
    )
    store = CredentialStore.open(sqlite_url(tmp_path / "controller.db"))
    _, token = store.create_token("ops", Role.ADMIN, "test", datetime(2026, 6, 10, tzinfo=UTC))
    updates = [
        {"source": name, "strategy_id": "a", "symbol": "BTC-PERP", "settings": {"risk_per_trade": 2.5}}
        for name in ("one", "two")
    ]
    # Act
    app = create_controller_app(fleet, Authenticator(store))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://controller.test") as client:
        answer = await client.post(
            "/api/risk/bulk-update",
            json={"updates": updates, "reason": "bulk test"},
            headers={"Authorization": f"Bearer {token}"},
        )
    await fleet.aclose()
    store.db.dispose()
    # Assert
    assert answer.status_code == 207, answer.text
    assert answer.json() == {
        "detail": "1 of 2 rows were applied; 1 were not (see their error)",
        "results": [
            {
                "index": 0,
                "source": "one",
                "strategy_id": "a",
                "symbol": "BTC-PERP",
                "ok": True,
                "error": None,
                "status": 200,
                "row": {**row("a", "BTC-PERP", risk_per_trade="2.5"), "source": "one"},
            },
            {
                "index": 1,
                "source": "two",
                "strategy_id": "a",
                "symbol": "BTC-PERP",
                "ok": False,
                "error": "strategy_settings is not configured on this daemon",
                "status": 409,
                "row": None,
            },
        ],
    }
