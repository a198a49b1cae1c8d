"""The read-only API over a real daemon on the in-process paper venue, with clocks the test moves.

The story, on PAPER-USD (50,000 USD; MNQ starts at 20000.00, tick 0.25, 2 USD a point; a market
order pays one tick of half spread; 0.62 USD a contract a side), Wednesday 2026-06-10, UTC:

- 14:00:00 — 5 MNQ bought at 20000.25 (fees 3.10), over max_contracts' 3: riskguard sells the
  excess 2 at 19999.75: (19999.75 - 20000.25) x 2 x 2 - 1.24 = -3.24. Held: 3 at 20000.25.
- 14:00:10 — MNQ moves to 19990.00.
- 14:00:20 — 3 sold at 19989.75: (19989.75 - 20000.25) x 3 x 2 - 1.86 = -64.86. The day's
  realized PnL is -3.10 - 3.24 - 64.86 = -71.20, past the -50 daily loss limit: PAPER-USD is
  locked out until the next reset, 2026-06-11 00:00 UTC.
- 14:00:30 — 1 MNQ bought at 19990.25 straight at the venue (fee 0.62; a trader's own order,
  which riskguard sees after the fact): realized -71.82, balance 50000 - 71.82 = 49928.18,
  equity 49928.18 + (19990.00 - 19990.25) x 2 = 49927.68, 1 - 49927.68 / 50000 = 0.14 % below
  the high-water mark. The position has no stop, so its risk to the stop is unknown.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from riskguard.core.enums import Side
from riskguard.daemon.executor import RetryPolicy
from riskguard.store.credentials import Role
from tests.integration._rig import ACCOUNT, ManualClock, Rig, build, market, paper_venue, until
from tests.integration.api._client import api_for

pytestmark = pytest.mark.asyncio

WEDNESDAY = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=3, first_delay=0.01, max_delay=0.02)
RULES = """\
  daily_realized_loss: {limit: -50, reset_time: "00:00", timezone: UTC}
  drawdown_kill_switch: {max_drawdown_pct: 10}
  max_contracts: {limit: 3, close_all: false}
  per_trade_risk: {max_risk_per_trade_pct: 2, portfolio_budget: 500, min_risk_reward_ratio: 1.5}
  strategy_settings: {strategies: {"s1/MNQ": {max_strategy_loss: 100, model_reward: 12.5}}}
"""

# Every field name seed 003 gives the risk page, top level and nested.
SEED_003_FIELDS = [
    "execution_mode",
    "paused",
    "kill_switch_active",
    "kill_switch_triggered_at",
    "daily_loss_halt",
    "daily_start_equity",
    "daily_date",
    "account",
    "limits",
    "current_per_trade_risk",
    "open_positions",
    "open_positions_paper",
    "circuit_breakers",
    "recovery_active",
    "recovery_status",
    "recovery_position_count",
    "recovery_discrepancy_count",
    "recovery_batch_id",
    "recovery_network",
]
SEED_003_LIMITS = ["max_drawdown", "daily_loss", "per_trade", "portfolio_budget", "min_risk_reward_ratio"]
SEED_003_ACCOUNT = ["equity", "margin_used", "withdrawable", "network"]
# The only JSON numbers that may carry a fraction: durations, not money.
FLOAT_FIELDS = {"timeout_seconds", "seconds_until_half_open", "p50", "p99"}


@dataclass
class Story:
    rig: Rig
    clock: ManualClock
    client: httpx.AsyncClient


def client_for(rig: Rig, clock: ManualClock, rules: str) -> httpx.AsyncClient:
    """A viewer's client: every read here needs no more."""
    return api_for(rig, clock, rules).client(Role.VIEWER)


@pytest_asyncio.fixture
async def story(tmp_path: Path) -> AsyncIterator[Story]:
    """The module docstring's story, played on a started daemon; the API over it."""
    clock = ManualClock(WEDNESDAY, monotonic=1000.0)
    venue = paper_venue(clock)
    rig = build(tmp_path / "riskguard.db", RULES, venue, clock, retry=FAST)
    await rig.daemon.start()
    engine = rig.daemon.guard.engine

    def held() -> Decimal:
        return engine.view().net_qty(ACCOUNT, "MNQ")

    try:
        await venue.place_order(market(clock, Side.BUY, "5"))
        await until(lambda: held() == 3 and venue.simulator.net_qty(ACCOUNT, "MNQ") == 3)
        clock.advance(10)
        venue.move_price("MNQ", Decimal("19990.00"))
        clock.advance(10)
        await venue.place_order(market(clock, Side.SELL, "3"))
        await until(lambda: held() == 0 and any(lock.rule == "daily_realized_loss" for lock in engine.lockouts.all()))
        clock.advance(10)
        await venue.place_order(market(clock, Side.BUY, "1"))
        await until(lambda: held() == 1 and engine.accounts[ACCOUNT].equity == Decimal("49927.68"))
        await until(lambda: all(row["status"] != "pending" for row in rig.journal.action_log()))
        async with client_for(rig, clock, RULES) as client:
            yield Story(rig, clock, client)
    finally:
        await rig.daemon.stop()
        rig.journal.close()


def floats_in(value: Any, key: str = "") -> set[str]:
    """The keys whose values are JSON numbers with a fraction, anywhere in `value`."""
    if isinstance(value, float):
        return {key}
    if isinstance(value, dict):
        return {found for k, v in value.items() for found in floats_in(v, k)}
    if isinstance(value, list):
        return {found for item in value for found in floats_in(item, key)}
    return set()


async def test_risk_when_the_story_has_run_then_the_summary_fields_are_as_worked_out_by_hand(story: Story) -> None:
    # Act
    response = await story.client.get("/api/risk")
    # Assert
    assert response.status_code == 200
    risk = response.json()
    assert {key: risk[key] for key in SEED_003_FIELDS if key not in ("account", "limits", "circuit_breakers")} == {
        "execution_mode": "paper",
        "paused": False,
        "kill_switch_active": False,
        "kill_switch_triggered_at": None,
        "daily_loss_halt": True,
        "daily_start_equity": {"PAPER-USD": "50000", "PAPER-USDC": "10000"},
        "daily_date": "2026-06-10",
        "current_per_trade_risk": None,  # the open MNQ has no stop: unknown, not zero
        "open_positions": 0,
        "open_positions_paper": 1,
        "recovery_active": False,
        "recovery_status": "clean",
        "recovery_position_count": 0,
        "recovery_discrepancy_count": 0,
        "recovery_batch_id": "recon-20260610T140000-0",  # the time, and the engine had taken 0 events
        "recovery_network": "paper",
    }
    assert (risk["generated_at"], risk["as_of"]) == ("2026-06-10T14:00:30+00:00", "2026-06-10T14:00:30+00:00")
    assert risk["realized_pnl"] == {"USD": "-71.82"}
    assert risk["positions"] == [
        {
            "account": "PAPER-USD",
            "strategy": "s1",
            "symbol": "MNQ",
            "net_qty": "1",
            "avg_entry_price": "19990.25",
            "unrealized_pnl": "-0.50",
            "currency": "USD",
            "paper": True,
        }
    ]
    assert [(b["name"], b["state"], b["failures"]) for b in risk["circuit_breakers"]] == [
        ("paper_price", "CLOSED", 0),
        ("paper_trade", "CLOSED", 0),
        ("paper_account", "CLOSED", 0),
    ]
    assert risk["halts"] == []
    assert risk["enforcement_latency_ms"]["samples"] == 3  # max_contracts' reduce and cancel, the loss's cancel
    assert floats_in(risk) <= FLOAT_FIELDS  # money and quantities are strings


async def test_risk_when_the_story_has_run_then_each_account_and_the_limits_are_as_worked_out_by_hand(
    story: Story,
) -> None:
    # Act
    risk = (await story.client.get("/api/risk")).json()
    # Assert
    assert risk["account"]["PAPER-USD"] == {
        "currency": "USD",
        "balance": "49928.18",
        "equity": "49927.68",
        "margin_used": "0",
        "withdrawable": None,
        "can_trade": True,
        "network": "paper",
        "reported_at": "2026-06-10T14:00:30+00:00",
        "kill_switch_active": False,
        "kill_switch_triggered_at": None,
        "high_water_mark": "50000",
        "drawdown_pct": "0.14",
        "daily_loss_halt": True,
        "daily_start_equity": "50000",
        "daily_realized_pnl": "-71.82",
        "current_per_trade_risk": None,
        "open_positions": 1,
    }
    usdc = risk["account"]["PAPER-USDC"]
    assert (usdc["equity"], usdc["daily_loss_halt"], usdc["current_per_trade_risk"]) == ("10000", False, "0.00")
    assert risk["limits"] == {
        "max_drawdown": "10",
        "daily_loss": {
            "limit": "-50",
            "limit_pct": None,
            "start_basis": "balance",
            "reset_time": "00:00",
            "timezone": "UTC",
        },
        "per_trade": "2",
        "portfolio_budget": "500",
        "min_risk_reward_ratio": "1.5",
        "max_concurrent_positions": None,
    }


async def test_risk_when_the_story_has_run_then_the_lockout_and_headroom_rows_are_as_worked_out_by_hand(
    story: Story,
) -> None:
    # Act
    risk = (await story.client.get("/api/risk")).json()
    # Assert
    assert risk["lockouts"] == [
        {
            "rule": "daily_realized_loss",
            "scope": "account PAPER-USD",
            "account": "PAPER-USD",
            "strategy": None,
            "symbol": None,
            "code": "locked_out",
            "reason": "Daily realized loss -71.20 USD reached the -50.00 USD limit on PAPER-USD; "
            "locked out until 2026-06-11 00:00 UTC",
            "since": "2026-06-10T14:00:20+00:00",
            "until": "2026-06-11T00:00:00+00:00",
        }
    ]
    rows = {(row["rule"], row["scope"]): row for row in risk["headroom"]}
    daily = rows[("daily_realized_loss", "account PAPER-USD")]
    assert (daily["value"], daily["limit"], daily["unit"], daily["used_pct"]) == ("-71.82", "-50", "USD", "143.6")
    drawdown = rows[("drawdown_kill_switch", "account PAPER-USD")]
    assert (drawdown["value"], drawdown["limit"], drawdown["unit"], drawdown["used_pct"]) == ("0.14", "10", "%", "1.4")
    contracts = rows[("max_contracts", "account PAPER-USD")]
    assert (contracts["value"], contracts["limit"], contracts["used_pct"]) == ("1", "3", "33.3")
    strategy = rows[("strategy_settings", "strategy s1, symbol MNQ")]
    assert (strategy["value"], strategy["limit"], strategy["used_pct"]) == ("-71.82", "-100", "71.8")
    assert ("per_trade_risk", "account PAPER-USD") not in rows  # no stop: its risk cannot be measured


async def test_risk_when_read_then_every_field_name_of_seed_003_is_present(story: Story) -> None:
    # Act
    risk = (await story.client.get("/api/risk")).json()
    # Assert
    assert [name for name in SEED_003_FIELDS if name not in risk] == []
    assert [name for name in SEED_003_LIMITS if name not in risk["limits"]] == []
    for summary in risk["account"].values():
        assert [name for name in SEED_003_ACCOUNT if name not in summary] == []


async def test_lockouts_when_the_clock_passes_the_reset_then_the_ended_lockout_is_not_listed(story: Story) -> None:
    # Arrange
    before = (await story.client.get("/api/lockouts")).json()
    # Act: 2026-06-11 00:00:00 UTC, the end of the lockout (at `until` exactly it has ended)
    story.clock.advance((datetime(2026, 6, 11, tzinfo=UTC) - story.clock.now()).total_seconds())
    after = (await story.client.get("/api/lockouts")).json()
    # Assert
    assert [(row["rule"], row["until"]) for row in before] == [("daily_realized_loss", "2026-06-11T00:00:00+00:00")]
    assert after == []


async def test_strategies_when_strategy_settings_is_configured_then_seed_000_rows_with_decimals_as_strings(
    story: Story,
) -> None:
    # Act
    response = await story.client.get("/api/strategies")
    # Assert
    assert response.json() == [
        {
            "strategy_id": "s1",
            "symbol": "MNQ",
            "enabled": True,
            "risk_per_trade": "1",
            "stop_loss_dollars": "5",
            "max_strategy_loss": "100",
            "is_killed": False,
            "total_pnl": "-71.82",
            "model_reward": "12.5",
        }
    ]


async def test_strategies_when_strategy_settings_is_not_configured_then_an_empty_list(tmp_path: Path) -> None:
    # Arrange
    clock = ManualClock(WEDNESDAY, monotonic=1000.0)
    rules = "  max_contracts: {limit: 3}\n"
    rig = build(tmp_path / "riskguard.db", rules, paper_venue(clock), clock, retry=FAST)
    await rig.daemon.start()
    try:
        async with client_for(rig, clock, rules) as client:
            # Act
            strategies = (await client.get("/api/strategies")).json()
            risk = (await client.get("/api/risk")).json()
    finally:
        await rig.daemon.stop()
        rig.journal.close()
    # Assert: and the limits of rules that are not configured are null
    assert strategies == []
    assert risk["limits"] == dict.fromkeys([*SEED_003_LIMITS, "max_concurrent_positions"])
    assert (risk["daily_start_equity"], risk["daily_date"], risk["daily_loss_halt"]) == (None, None, False)


async def test_actions_when_asked_for_two_then_the_two_newest_with_their_status_and_body(story: Story) -> None:
    # Act
    response = await story.client.get("/api/actions", params={"limit": 2})
    # Assert
    rows = response.json()
    assert [(r["name"], r["rule"], r["status"]) for r in rows] == [
        ("lock_out", "daily_realized_loss", "recorded"),
        ("cancel_all_orders", "daily_realized_loss", "done"),
    ]
    assert rows[0]["body"]["scope"] == {"account": "PAPER-USD", "strategy": None, "symbol": None}
    every = (await story.client.get("/api/actions", params={"limit": 1000})).json()
    reduce = next(r for r in every if r["name"] == "reduce_position")
    assert (reduce["rule"], reduce["status"], reduce["attempts"], reduce["body"]["qty"]) == (
        "max_contracts",
        "done",
        1,
        "2",
    )


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("0", "Input should be greater than or equal to 1"),
        ("1001", "Input should be less than or equal to 1000"),
        ("ten", "Input should be a valid integer, unable to parse string as an integer"),
    ],
)
async def test_actions_when_the_limit_is_out_of_range_then_422_naming_the_parameter(
    story: Story, limit: str, message: str
) -> None:
    # Act
    response = await story.client.get("/api/actions", params={"limit": limit})
    # Assert
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert (problem["loc"], problem["msg"], problem["input"]) == (["query", "limit"], message, limit)


async def test_alerts_when_the_story_has_run_then_newest_first(story: Story) -> None:
    # Act
    alerts = (await story.client.get("/api/alerts")).json()
    # Assert
    assert [(a["rule"], a["level"], a["account"]) for a in alerts] == [
        ("daily_realized_loss", "critical", "PAPER-USD"),
        ("max_contracts", "critical", "PAPER-USD"),
    ]
    assert alerts[1]["reason"] == "PAPER-USD holds 5 contracts, over the limit of 3"


async def test_healthz_when_the_daemon_sees_the_venue_then_ok(story: Story) -> None:
    # Act
    response = await story.client.get("/healthz")
    # Assert
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["daemon"]["ready"] is True


async def test_healthz_when_the_venue_connection_is_lost_then_503_with_the_reason(story: Story) -> None:
    # Arrange
    story.rig.daemon.connected = False
    # Act
    response = await story.client.get("/healthz")
    # Assert
    assert response.status_code == 503
    assert response.json()["reason"] == "the connection to paper is down; new risk is refused until it is back"


async def test_metrics_when_scraped_then_prometheus_text_with_the_daemon_gauges(story: Story) -> None:
    # Act
    response = await story.client.get("/metrics")
    # Assert
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = set(response.text.splitlines())
    expected = {
        'riskguard_circuit_breaker_state{breaker="paper_trade",state="CLOSED"} 1.0',
        'riskguard_circuit_breaker_state{breaker="paper_trade",state="OPEN"} 0.0',
        'riskguard_circuit_breaker_state{breaker="paper_price",state="CLOSED"} 1.0',
        'riskguard_circuit_breaker_state{breaker="paper_account",state="CLOSED"} 1.0',
        "riskguard_lockouts_active 1.0",
        'riskguard_open_positions{kind="live"} 0.0',
        'riskguard_open_positions{kind="paper"} 1.0',
        'riskguard_kill_switch_active{account="PAPER-USD"} 0.0',
        'riskguard_realized_pnl{currency="USD"} -71.82',
        "riskguard_paused 0.0",
        "riskguard_venue_connected 1.0",
        "riskguard_enforcement_latency_samples 3.0",
        "# TYPE riskguard_enforcement_latency_seconds gauge",
    }
    assert expected - lines == set()
    assert any(line.startswith('riskguard_enforcement_latency_seconds{quantile="0.99"} ') for line in lines)


async def test_openapi_when_fetched_then_lists_every_path_and_the_risk_payload_schema(story: Story) -> None:
    # Act
    schema = (await story.client.get("/openapi.json")).json()
    # Assert
    assert set(schema["paths"]) == {
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/me",
        "/api/auth/tokens",
        "/api/auth/tokens/{token_id}",
        "/api/risk",
        "/api/lockouts",
        "/api/equity",
        "/api/rules",
        "/api/actions",
        "/api/alerts",
        "/api/strategies",
        "/api/strategies/{strategy_id}/{symbol}/settings",
        "/api/strategies/{strategy_id}/{symbol}/enable",
        "/api/strategies/{strategy_id}/{symbol}/disable",
        "/api/strategies/{strategy_id}/{symbol}/reset-kill-switch",
        "/api/ops/reset-kill-switch",
        "/api/ops/halt",
        "/api/ops/pause",
        "/api/ops/resume",
        "/api/ops/reset",
        "/api/orders/check",
        "/healthz",
        "/metrics",
    }
    risk = schema["paths"]["/api/risk"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert risk == {"$ref": "#/components/schemas/RiskPayload"}
    properties = schema["components"]["schemas"]["RiskPayload"]["properties"]
    assert [name for name in SEED_003_FIELDS if name not in properties] == []


async def test_api_when_a_browser_page_from_elsewhere_asks_then_no_cors_header(story: Story) -> None:
    # Act
    response = await story.client.get("/api/risk", headers={"Origin": "https://evil.example"})
    # Assert
    assert "access-control-allow-origin" not in response.headers


async def test_run_when_started_with_api_port_0_then_serves_the_risk_payload_at_the_logged_url_to_the_viewer_token(
    tmp_path: Path,
) -> None:
    # Arrange
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "riskguard",
        "run",
        "--data-dir",
        str(tmp_path / "data"),
        "--json-logs",
        "--api-port",
        "0",
        "--duration",
        "8",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        url = None
        while url is None:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
            assert line, "the daemon exited before saying where its API is"
            text = line.decode()
            if text.startswith("{") and json.loads(text)["event"] == "riskguard is running":
                url = json.loads(text)["api"]
        data = tmp_path / "data"
        token = (data / "viewer.token").read_text().strip()
        # Act
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            anonymous = await client.get("/api/risk")
            risk = (await client.get("/api/risk", headers={"Authorization": f"Bearer {token}"})).json()
        rest = await asyncio.wait_for(process.stdout.read(), timeout=30)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    # Assert
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    assert anonymous.status_code == 401
    assert {
        path.name: path.stat().st_mode & 0o777
        for path in data.iterdir()
        if path.suffix != ".db" and "db-" not in path.name
    } == {
        ".daemon.lock": 0o644,
        "initial-admin-password": 0o600,
        "viewer.token": 0o600,
    }
    assert risk["execution_mode"] == "paper"
    assert [(b["name"], b["state"]) for b in risk["circuit_breakers"]] == [
        ("paper_price", "CLOSED"),
        ("paper_trade", "CLOSED"),
        ("paper_account", "CLOSED"),
    ]
    assert code == 0, rest.decode()[-4000:]
