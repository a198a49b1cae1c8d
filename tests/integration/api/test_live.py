"""`/ws` over a real uvicorn server on loopback: what a signed-in client hears, in order, as a
trader's fill breaches a rule and an admin edits a strategy; who is turned away."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets
from websockets.asyncio.client import ClientConnection

from riskguard.api.app import create_app
from riskguard.api.server import ApiServer
from riskguard.config import parse_config
from riskguard.core.enums import Side
from riskguard.store.credentials import Role
from tests.integration._rig import ManualClock, Rig, build, market, paper_venue
from tests.integration.api._client import ADMIN_PASSWORD, FAST, api_for

pytestmark = pytest.mark.asyncio

RULES = """\
  max_contracts: {limit: 3, close_all: false}
  strategy_settings: {strategies: {"s1/MNQ": {risk_per_trade: 100}}}
"""


@dataclass
class Served:
    rig: Rig
    clock: ManualClock
    url: str
    tokens: dict[Role, str]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest_asyncio.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    clock = ManualClock(datetime(2026, 6, 10, 14, 0, tzinfo=UTC), monotonic=1000.0)
    rig = build(tmp_path / "riskguard.db", RULES, paper_venue(clock), clock, retry=FAST)
    await rig.daemon.start()
    api = api_for(rig, clock, RULES)
    config = parse_config(f"rules:\n{RULES}", "test", env={})
    app = create_app(rig.daemon, config, api.auth, wall_clock=clock.now, monotonic=clock.monotonic, live_interval=0.05)
    server = ApiServer(app, "127.0.0.1", 0)
    server.start()
    try:
        yield Served(rig, clock, server.url, api.tokens)
    finally:
        await server.stop()
        await rig.daemon.stop()
        rig.journal.close()


async def collect(ws: ClientConnection, done: Any, seconds: float = 5.0) -> list[dict[str, Any]]:
    """Messages as they come, until `done(messages)` is true."""
    messages: list[dict[str, Any]] = []
    async with asyncio.timeout(seconds):
        while not done(messages):
            messages.append(json.loads(await ws.recv()))
    return messages


def of(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m["data"] for m in messages if m["type"] == kind]


async def test_ws_when_signed_in_then_hello_then_the_state_then_what_happens_as_it_happens(served: Served) -> None:
    async with websockets.connect(served.ws_url, additional_headers=served.headers(Role.VIEWER)) as ws:
        first = [json.loads(await ws.recv()) for _ in range(3)]
        # Act: a trader buys 5 MNQ straight at the venue (max_contracts 3 reduces it by 2) ...
        await served.rig.venue.place_order(market(served.clock, Side.BUY, "5"))
        breach = await collect(
            ws,
            lambda ms: (
                of(ms, "alert")
                and any(s["id"].endswith("reduce_position") and s["status"] == "done" for s in of(ms, "action_status"))
            ),
        )
        # ... and an admin saves a strategy's settings
        async with httpx.AsyncClient(base_url=served.url, headers=served.headers(Role.ADMIN)) as admin:
            await admin.put("/api/strategies/s1/MNQ/settings", json={"stop_loss_dollars": "77"})
        edit = await collect(ws, lambda ms: any(rows[0]["stop_loss_dollars"] == "77" for rows in of(ms, "strategies")))
    # Assert
    assert [m["type"] for m in first] == ["hello", "risk", "strategies"]
    assert first[0]["data"] == {"username": "test-viewer", "role": "viewer"}
    assert first[1]["data"]["execution_mode"] == "paper"
    assert first[2]["data"][0]["stop_loss_dollars"] == "5"
    actions = of(breach, "action")
    assert [(a["name"], a["status"]) for a in actions] == [
        ("alert", "pending"),
        ("reduce_position", "pending"),
        ("cancel_all_orders", "pending"),
    ]
    assert actions[1]["body"]["qty"] == "2"
    [alert] = of(breach, "alert")
    assert (alert["rule"], alert["level"], alert["reason"]) == (
        "max_contracts",
        "critical",
        "PAPER-USD holds 5 contracts, over the limit of 3",
    )
    reduce_done = [s for s in of(breach, "action_status") if s["id"] == actions[1]["id"]]
    assert reduce_done == [{"id": actions[1]["id"], "status": "done", "attempts": 1, "last_error": None}]
    assert of(edit, "settings") == [
        {
            "actor": "test-admin",
            "reason": "s1/MNQ: stop_loss_dollars = 77",
            "rules": ["strategy_settings"],
            "strategy": {"strategy_id": "s1", "symbol": "MNQ"},
        }
    ]


async def test_ws_when_the_token_comes_as_the_first_message_then_signed_in(served: Served) -> None:
    async with websockets.connect(served.ws_url) as ws:
        # Act
        await ws.send(json.dumps({"token": served.tokens[Role.BOT]}))
        hello = json.loads(await ws.recv())
    # Assert
    assert hello == {"type": "hello", "data": {"username": "test-bot", "role": "bot"}}


async def test_ws_when_anonymous_then_closed_with_1008(served: Served) -> None:
    async with websockets.connect(served.ws_url) as ws:
        # Act
        await ws.send(json.dumps({"token": "rg_not-a-token"}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    # Assert
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008


async def test_ws_when_the_cookie_comes_from_another_sites_page_then_closed_with_1008(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.url) as client:
        login = await client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    cookie = {"Cookie": f"riskguard_session={login.json()['token']}"}
    host = served.url.removeprefix("http://")
    async with websockets.connect(served.ws_url, additional_headers=cookie, origin=f"http://{host}") as ws:  # type: ignore[arg-type]
        own_page = json.loads(await ws.recv())
    # Act
    async with websockets.connect(served.ws_url, additional_headers=cookie, origin="https://evil.example") as ws:  # type: ignore[arg-type]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    # Assert
    assert own_page["data"] == {"username": "admin", "role": "admin"}
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
