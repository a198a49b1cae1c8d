"""An admin's changes through the API, on a started daemon over the paper venue (PAPER-USD, 50,000
USD; MNQ at 20000.00, tick 0.25, 2 USD a point, one tick of half spread, 0.62 USD a contract a
side): strategy settings, enable / disable, the strategy kill switch and its reset, the rules
replaced all or nothing, halt / pause / resume with their confirmation, the drawdown kill switch
and its re-basing reset, and the pre-trade gate with and without the gateway. Every change is
journaled with the admin's name, and a wrong request changes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from riskguard.config import parse_config
from riskguard.core.enums import Side
from riskguard.store.credentials import Role
from tests.integration._rig import ACCOUNT, ManualClock, build, market, paper_venue, until
from tests.integration.api._client import FAST, Api, api_for

pytestmark = pytest.mark.asyncio

RULES = """\
  max_contracts: {limit: 3}
  drawdown_kill_switch: {max_drawdown_pct: 10}
  strategy_settings: {strategies: {"s1/MNQ": {max_strategy_loss: 100, risk_per_trade: 100}}}
"""
S1_ROW = {
    "strategy_id": "s1",
    "symbol": "MNQ",
    "enabled": True,
    "risk_per_trade": "100",
    "stop_loss_dollars": "5",
    "max_strategy_loss": "100",
    "is_killed": False,
    "total_pnl": "0",
    "model_reward": None,
}


@pytest_asyncio.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    clock = ManualClock(datetime(2026, 6, 10, 14, 0, tzinfo=UTC), monotonic=1000.0)
    rig = build(tmp_path / "riskguard.db", RULES, paper_venue(clock), clock, retry=FAST)
    await rig.daemon.start()
    try:
        yield api_for(rig, clock, RULES)
    finally:
        await rig.daemon.stop()
        rig.journal.close()


def order(order_id: str, qty: str = "1", strategy: str = "s1", **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "account": ACCOUNT,
        "strategy": strategy,
        "symbol": "MNQ",
        "side": "buy",
        "qty": qty,
        **extra,
    }


def config_entries(api: Api) -> list[dict[str, Any]]:
    return [entry.body for entry in api.rig.journal.entries() if entry.kind == "config"]


async def rows(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return (await client.get("/api/strategies")).json()


# -- strategies ----------------------------------------------------------------------------------


async def test_settings_when_an_admin_saves_a_row_then_the_row_changes_and_the_journal_says_who(api: Api) -> None:
    async with api.client(Role.ADMIN) as admin:
        # Act
        answer = await admin.put(
            "/api/strategies/s1/MNQ/settings", json={"stop_loss_dollars": "123.5", "risk_per_trade": 2.5}
        )
        listed = await rows(admin)
    # Assert
    assert answer.status_code == 200
    assert answer.json() == {**S1_ROW, "stop_loss_dollars": "123.5", "risk_per_trade": "2.5"}
    assert listed == [answer.json()]
    last = config_entries(api)[-1]
    assert (last["source"], last["actor"], last["reason"]) == (
        "api",
        "test-admin",
        "s1/MNQ: risk_per_trade = 2.5, stop_loss_dollars = 123.5",
    )
    assert last["strategy"] == {"strategy_id": "s1", "symbol": "MNQ"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"risk_per_trade": "0"}, "greater than 0"),
        ({"risk_per_trade": 100.5}, "less than or equal to 100"),
        ({"stop_loss_dollars": "five"}, "must be a decimal number, was 'five'"),
        ({"max_strategy_loss": None}, "max_strategy_loss cannot be null"),
        ({"stop_los_dollars": "5"}, "Extra inputs are not permitted"),
        ({"enabled": "maybe"}, "valid boolean"),
    ],
)
async def test_settings_when_a_value_is_wrong_then_422_naming_it_and_nothing_changed(
    api: Api, body: dict[str, Any], says: str
) -> None:
    async with api.client(Role.ADMIN) as admin:
        before = len(config_entries(api))
        # Act
        answer = await admin.put("/api/strategies/s1/MNQ/settings", json=body)
        listed = await rows(admin)
    # Assert
    assert answer.status_code == 422
    assert says in json.dumps(answer.json())
    assert listed == [S1_ROW]
    assert len(config_entries(api)) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/strategies/s 1/MNQ/settings",
        "/api/strategies/s1/MNQ%3Bdrop/settings",
        f"/api/strategies/{'x' * 65}/MNQ/settings",
    ],
)
async def test_settings_when_a_path_segment_is_not_an_id_then_422(api: Api, path: str) -> None:
    async with api.client(Role.ADMIN) as admin:
        # Act
        answer = await admin.put(path, json={"enabled": False})
        listed = await rows(admin)
    # Assert
    assert answer.status_code == 422
    assert "string_pattern_mismatch" in answer.text
    assert listed == [S1_ROW]


async def test_settings_when_the_strategy_is_not_listed_then_it_is_added_on_the_defaults(api: Api) -> None:
    async with api.client(Role.ADMIN) as admin:
        # Act
        answer = await admin.put("/api/strategies/s2/MES/settings", json={"model_reward": "12.5"})
    # Assert: seed 000's defaults (1 %, 5, 50) and the change
    assert answer.json() == {
        "strategy_id": "s2",
        "symbol": "MES",
        "enabled": True,
        "risk_per_trade": "1",
        "stop_loss_dollars": "5",
        "max_strategy_loss": "50",
        "is_killed": False,
        "total_pnl": "0",
        "model_reward": "12.5",
    }


async def test_disable_when_posted_then_the_strategys_orders_are_refused_until_enabled(api: Api) -> None:
    async with api.client(Role.ADMIN) as admin:
        # Act
        disabled = (await admin.post("/api/strategies/s1/MNQ/disable")).json()
        refused = (await admin.post("/api/orders/check", json=order("o-1"))).json()
        enabled = (await admin.post("/api/strategies/s1/MNQ/enable")).json()
        approved = (await admin.post("/api/orders/check", json=order("o-2"))).json()
    # Assert
    assert (disabled["enabled"], enabled["enabled"]) == (False, True)
    assert (refused["approved"], refused["reason_code"]) == (False, "strategy_disabled")
    assert (approved["approved"], approved["reason_code"], approved["forwarded"]) == (True, "approved", False)
    assert [entry["reason"] for entry in config_entries(api)[-2:]] == ["s1/MNQ disabled", "s1/MNQ enabled"]


async def test_strategy_kill_switch_when_tripped_then_reset_needs_confirmation_and_clears_it(api: Api) -> None:
    rig, clock = api.rig, api.clock
    async with api.client(Role.ADMIN) as admin:
        await admin.put("/api/strategies/s1/MNQ/settings", json={"max_strategy_loss": "1"})
        # 2 MNQ bought at 20000.25 pay 2 x 0.62 = 1.24: total PnL -1.24, past -1
        await rig.venue.place_order(market(clock, Side.BUY, "2"))
        await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 2)
        killed = (await rows(admin))[0]
        # Act
        unconfirmed = await admin.post("/api/strategies/s1/MNQ/reset-kill-switch", json={"reason": "looked at it"})
        still = (await rows(admin))[0]
        reset = await admin.post(
            "/api/strategies/s1/MNQ/reset-kill-switch", json={"confirm": True, "reason": "looked at it"}
        )
        unknown = await admin.post("/api/strategies/nope/MNQ/reset-kill-switch", json={"confirm": True, "reason": "x"})
        check = (await admin.post("/api/orders/check", json=order("o-3", qty="1"))).json()
    # Assert
    assert (killed["is_killed"], killed["total_pnl"]) == (True, "-1.24")
    kill_actions = [
        (row["name"], row["status"]) for row in reversed(rig.journal.action_log()) if row["rule"] == "strategy_settings"
    ]
    # the order whose fill killed it was still listed as working: its cancel finds it filled, which is done, not failed
    assert kill_actions == [
        ("alert", "done"),
        ("cancel_order", "done"),
        ("lock_out", "recorded"),
        ("end_lockout", "recorded"),  # the reset's
    ]
    assert unconfirmed.status_code == 422
    assert "this action needs an explicit confirmation" in unconfirmed.text or "Field required" in unconfirmed.text
    assert (still["is_killed"], still["total_pnl"]) == (True, "-1.24")
    assert reset.status_code == 200
    assert (reset.json()["is_killed"], reset.json()["total_pnl"]) == (False, "0")
    assert unknown.status_code == 404
    assert check["approved"] is True  # the kill's lockout is gone too
    commands = [
        entry.body for entry in rig.journal.entries() if entry.kind == "event" and entry.body.get("type") == "reset"
    ]
    assert [(c["actor"], c["reason"], c["rule"]) for c in commands] == [
        ("test-admin", "looked at it", "strategy_settings")
    ]


async def test_settings_when_the_daemon_restarts_on_the_same_file_then_the_api_change_is_still_in_force(
    api: Api, tmp_path: Path
) -> None:
    async with api.client(Role.ADMIN) as admin:
        await admin.put("/api/strategies/s1/MNQ/settings", json={"stop_loss_dollars": "42"})
    await api.rig.daemon.stop()
    api.rig.journal.close()
    # Act: the same file's rules, then a file whose rules changed
    same = build(tmp_path / "riskguard.db", RULES, api.rig.venue, api.clock, retry=FAST)
    await same.daemon.start()
    async with api_for(same, api.clock, RULES).client(Role.VIEWER) as viewer:
        kept = (await rows(viewer))[0]
    await same.daemon.stop()
    same.journal.close()
    changed_file = RULES.replace("max_strategy_loss: 100", "max_strategy_loss: 90")
    edited = build(tmp_path / "riskguard.db", changed_file, api.rig.venue, api.clock, retry=FAST)
    await edited.daemon.start()
    async with api_for(edited, api.clock, changed_file).client(Role.VIEWER) as viewer:
        replaced = (await rows(viewer))[0]
    await edited.daemon.stop()
    api.rig = edited  # the fixture stops and closes this one
    # Assert
    assert kept == {**S1_ROW, "stop_loss_dollars": "42"}
    assert replaced == {**S1_ROW, "max_strategy_loss": "90"}


# -- rules ---------------------------------------------------------------------------------------


async def test_rules_when_replaced_then_in_force_and_journaled(api: Api) -> None:
    new_rules = {
        "max_contracts": {"limit": 2},
        "strategy_settings": {"strategies": {"s1/MNQ": {"risk_per_trade": 100}}},
    }
    async with api.client(Role.ADMIN) as admin:
        # Act
        answer = await admin.put("/api/rules", json={"rules": new_rules, "reason": "tighter for the FOMC"})
        check = (await admin.post("/api/orders/check", json=order("o-4", qty="3"))).json()
    # Assert
    assert answer.status_code == 200
    assert [(r["name"], r["params"].get("limit")) for r in answer.json()] == [
        ("max_contracts", "2"),
        ("strategy_settings", None),
    ]
    assert (check["approved"], check["reason_code"]) == (False, "max_contracts")
    assert config_entries(api)[-1]["reason"] == "tighter for the FOMC"


async def test_rules_when_any_part_is_wrong_then_422_naming_each_and_nothing_changed(api: Api) -> None:
    async with api.client(Role.ADMIN) as admin:
        before = (await admin.get("/api/rules")).json()
        # Act
        answer = await admin.put(
            "/api/rules",
            json={
                "rules": {
                    "max_contracts": {"limit": 2},
                    "max_contract": {},
                    "drawdown_kill_switch": {"max_drawdown_pct": 90},
                },
                "reason": "oops",
            },
        )
        after = (await admin.get("/api/rules")).json()
    # Assert
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert len(detail) == 2
    assert detail[0].startswith("<api>: rules.max_contract: unknown rule (did you mean max_contracts?)")
    assert detail[1].startswith("<api>: rules.drawdown_kill_switch.max_drawdown_pct:")
    assert after == before


# -- operator actions ----------------------------------------------------------------------------


async def test_halt_when_unconfirmed_then_422_and_when_confirmed_then_refuses_new_risk_until_resumed(api: Api) -> None:
    async with api.client(Role.ADMIN) as admin:
        # Act
        unconfirmed = await admin.post("/api/ops/halt", json={"confirm": False, "reason": "desk review"})
        unhalted = (await admin.get("/api/risk")).json()["halts"]
        halted = await admin.post("/api/ops/halt", json={"confirm": True, "reason": "desk review"})
        risk = (await admin.get("/api/risk")).json()
        refused = (await admin.post("/api/orders/check", json=order("o-5"))).json()
        resumed = await admin.post("/api/ops/resume", json={"reason": "review done"})
        approved = (await admin.post("/api/orders/check", json=order("o-6"))).json()
    # Assert
    assert unconfirmed.status_code == 422
    assert "must be true: this action needs an explicit confirmation" in unconfirmed.text
    assert unhalted == []
    assert (halted.status_code, halted.json()["ok"], halted.json()["actor"]) == (200, True, "test-admin")
    assert [(h["scope"], h["reason"], h["by"]) for h in risk["halts"]] == [
        ("portfolio", "test-admin: desk review", "operator")
    ]
    assert refused["approved"] is False
    assert resumed.status_code == 200
    assert approved["approved"] is True


async def test_pause_when_posted_then_paused_with_its_reason_and_resume_lifts_it(api: Api) -> None:
    async with api.client(Role.ADMIN) as admin:
        # Act
        await admin.post("/api/ops/pause", json={"reason": "news in 5 minutes"})
        paused = (await admin.get("/api/risk")).json()
        await admin.post("/api/ops/resume", json={"reason": "news is out"})
        resumed = (await admin.get("/api/risk")).json()
    # Assert
    assert (paused["paused"], paused["pause_reason"]) == (True, "test-admin: news in 5 minutes")
    assert (resumed["paused"], resumed["pause_reason"]) == (False, None)


async def test_ops_when_an_account_is_unknown_then_404_and_nothing_done(api: Api) -> None:
    async with api.client(Role.ADMIN) as admin:
        # Act
        answer = await admin.post("/api/ops/halt", json={"confirm": True, "reason": "x", "account": "NOPE"})
        risk = (await admin.get("/api/risk")).json()
    # Assert
    assert (answer.status_code, answer.json()["detail"]) == (
        404,
        "no account NOPE is configured or reported by the venue",
    )
    assert risk["halts"] == []


async def test_kill_switch_when_drawdown_trips_it_then_the_confirmed_reset_clears_it_and_rebases_the_hwm(
    api: Api,
) -> None:
    rig, clock = api.rig, api.clock
    async with api.client(Role.ADMIN) as admin:
        rules = {
            "drawdown_kill_switch": {"max_drawdown_pct": 1},
            "strategy_settings": {"strategies": {"s1/MNQ": {"risk_per_trade": 100, "max_strategy_loss": 10000}}},
        }
        await admin.put("/api/rules", json={"rules": rules, "reason": "a 1 % switch"})
        # 3 bought at 20000.25 (fees 1.86); at 19910.00 equity is 50000 - 1.86 - 90.25 x 3 x 2 = 49456.64,
        # 1.09 % under the 50,000 HWM: the switch trips and closes the 3 at 19909.75 (fees 1.86):
        # 50000 - 1.86 - 90.50 x 3 x 2 - 1.86 = 49453.28
        await rig.venue.place_order(market(clock, Side.BUY, "3"))
        await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 3)
        clock.advance(1)
        rig.venue.move_price("MNQ", Decimal("19910.00"))
        await until(lambda: rig.daemon.guard.engine.view().net_qty(ACCOUNT, "MNQ") == 0)
        await until(lambda: rig.daemon.guard.engine.accounts[ACCOUNT].equity == Decimal("49453.28"))
        tripped = (await admin.get("/api/risk")).json()
        # Act
        reset = await admin.post("/api/ops/reset-kill-switch", json={"confirm": True, "reason": "cause fixed"})
        after = (await admin.get("/api/risk")).json()
    # Assert
    assert (tripped["kill_switch_active"], tripped["account"][ACCOUNT]["high_water_mark"]) == (True, "50000")
    assert reset.status_code == 200
    assert after["kill_switch_active"] is False
    assert (after["account"][ACCOUNT]["high_water_mark"], after["account"][ACCOUNT]["drawdown_pct"]) == (
        "49453.28",
        "0.00",
    )


# -- the gate and the gateway --------------------------------------------------------------------


async def test_check_when_the_gateway_is_off_then_submit_is_409_and_nothing_reaches_the_venue(api: Api) -> None:
    async with api.client(Role.BOT) as bot:
        # Act
        answer = await bot.post("/api/orders/check", params={"submit": "true"}, json=order("o-7"))
    # Assert
    assert answer.status_code == 409
    assert api.rig.venue.simulator.venue_orders(ACCOUNT) == []


async def test_check_when_the_gateway_is_on_then_an_approved_order_and_its_stop_go_to_the_venue(api: Api) -> None:
    config = parse_config(f"api: {{gateway: true}}\nrules:\n{RULES}", "test", env={})
    gateway = api_for(api.rig, api.clock, config)
    rig = api.rig
    async with gateway.client(Role.BOT) as bot:
        # Act
        sent = (
            await bot.post(
                "/api/orders/check", params={"submit": "true"}, json=order("o-8", qty="1", stop_loss="19999.00")
            )
        ).json()
        refused = (await bot.post("/api/orders/check", params={"submit": "true"}, json=order("o-9", qty="5"))).json()
        await until(lambda: rig.venue.simulator.net_qty(ACCOUNT, "MNQ") == 1)
    # Assert
    assert (sent["approved"], sent["forwarded"]) == (True, True)
    assert sent["venue_order_id"] is not None
    assert (refused["approved"], refused["reason_code"], refused["forwarded"]) == (False, "max_contracts", False)
    working = [(o.side, o.qty, o.stop_price) for o in await rig.venue.open_orders(ACCOUNT)]
    assert working == [(Side.SELL, Decimal("1"), Decimal("19999.00"))]
    assert ("o-8-stop" in {client_id for _, client_id in rig.venue.simulator.venue_orders(ACCOUNT)}) is True


async def test_check_when_the_order_is_malformed_then_422_naming_the_field(api: Api) -> None:
    async with api.client(Role.BOT) as bot:
        # Act
        zero = await bot.post("/api/orders/check", json=order("o-10", qty="0"))
        missing = await bot.post("/api/orders/check", json={"order_id": "o-11"})
    # Assert
    assert zero.status_code == 422
    assert "order.qty was" in zero.json()["detail"]
    assert missing.status_code == 422
    assert {error["loc"][-1] for error in missing.json()["detail"]} == {"account", "strategy", "symbol", "side", "qty"}


async def test_actor_header_when_sent_with_an_admin_token_then_the_journal_names_both(api: Api) -> None:
    async with api.client(Role.ADMIN) as admin:
        # Act
        answer = await admin.post("/api/strategies/s1/MNQ/disable", headers={"X-Riskguard-Actor": "alice"})
        bad = await admin.post("/api/strategies/s1/MNQ/enable", headers={"X-Riskguard-Actor": "alice; drop"})
        listed = await rows(admin)
    # Assert
    assert answer.status_code == 200
    assert config_entries(api)[-1]["actor"] == "alice via test-admin"
    assert bad.status_code == 422
    assert listed[0]["enabled"] is False
