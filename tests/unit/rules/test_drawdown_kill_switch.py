"""DrawdownKillSwitch: 1 − equity / HWM against the limit; trip closes all; reset re-baselines the HWM."""

from __future__ import annotations

from decimal import Decimal

import pytest

from riskguard.core import (
    ActionFailed,
    CancelAllOrders,
    ClosePosition,
    EndLockout,
    InvalidInput,
    LockOut,
    RaiseAlert,
    ResetRequested,
    RiskEngine,
    Scope,
)
from riskguard.core.decisions import Deny
from riskguard.core.rules.drawdown_kill_switch import AccountDrawdown, DrawdownKillSwitch, DrawdownKillSwitchParams
from riskguard.testing.factories import ES, MNQ, make_fill
from tests.unit.rules._view import account, at, order

D = Decimal


def engine(pct: str = "10") -> RiskEngine:
    return RiskEngine([DrawdownKillSwitch(DrawdownKillSwitchParams(max_drawdown_pct=D(pct)))], [MNQ, ES])


def equity(value: str, seconds: int) -> object:
    return account(balance="100000", equity=value, ts=at(seconds))


def test_kill_switch_when_just_short_of_the_limit_then_nothing() -> None:
    # Arrange: peak 100,000; 90,000.01 is 9.99999 % below it
    eng = engine()
    eng.handle(equity("100000", 0))  # type: ignore[arg-type]
    # Act
    actions = eng.handle(equity("90000.01", 1))  # type: ignore[arg-type]
    # Assert
    assert actions == []
    assert eng.check(order(ts=at(2))).approved


def test_kill_switch_when_drawdown_reaches_the_limit_then_close_everything_cancel_and_latch() -> None:
    # Arrange: peak 100,000 after a rise from 95,000; two positions open
    eng = engine()
    eng.handle(equity("95000", 0))  # type: ignore[arg-type]
    eng.handle(equity("100000", 1))  # type: ignore[arg-type]
    eng.handle(make_fill("f1", "buy", "2", "18000.00", seconds=2))
    eng.handle(make_fill("f2", "sell", "1", "5000.00", symbol="ES", seconds=2))
    # Act: 90,000 is exactly 10 % below 100,000: reaching the limit trips it
    actions = eng.handle(equity("90000", 3))  # type: ignore[arg-type]
    # Assert
    reason = (
        "Kill switch: equity 90000.00 USD on A1 is 10.00 % below its high-water mark 100000.00 USD, at or past the "
        "10.00 % limit; every position is closed and new risk refused until an operator resets it"
    )
    assert [(type(a), getattr(a, "symbol", None)) for a in actions] == [
        (RaiseAlert, None),
        (ClosePosition, "MNQ"),
        (ClosePosition, "ES"),
        (CancelAllOrders, None),
        (LockOut, None),
    ]
    assert all(a.reason == reason for a in actions)
    lock = actions[-1]
    assert isinstance(lock, LockOut)
    assert (lock.scope, lock.until) == (Scope(account="A1"), None)
    switch = eng.states["drawdown_kill_switch"].accounts["A1"]
    assert (switch.kill_switch_active, switch.kill_switch_triggered_at, switch.hwm) == (True, at(3), D("100000"))
    refused = eng.check(order(ts=at(4)))
    assert (refused.approved, refused.reason_code) == (False, "locked_out")
    assert eng.check(order("sell", "2", ts=at(4))).approved  # the exit still passes


def test_kill_switch_when_an_emergency_close_fails_then_recorded_as_close_fail_and_alerted() -> None:
    # Arrange
    eng = engine()
    eng.handle(equity("100000", 0))  # type: ignore[arg-type]
    eng.handle(make_fill("f1", "buy", "2", "18000.00", seconds=1))
    close = next(a for a in eng.handle(equity("89000", 2)) if isinstance(a, ClosePosition))  # type: ignore[arg-type]
    # Act: the shell reports the close failed after its retries
    failed = ActionFailed(
        close.id, "drawdown_kill_switch", "close_position", "A1", "venue rejected: market closed", at(3), "MNQ"
    )
    actions = eng.handle(failed)
    # Assert
    (alert,) = actions
    assert isinstance(alert, RaiseAlert)
    assert alert.level == "critical"
    assert alert.details == {"close_reason": "kill_switch_close_fail", "symbol": "MNQ", "action_id": close.id}
    assert "the emergency close of MNQ failed (venue rejected: market closed)" in alert.reason
    switch = eng.states["drawdown_kill_switch"].accounts["A1"]
    assert switch.close_failures == (("MNQ", "kill_switch_close_fail", "venue rejected: market closed"),)


def test_kill_switch_when_reset_after_a_20_pct_fall_then_a_further_10_pct_is_28_pct_from_the_old_peak() -> None:
    # Arrange: a 20 % limit lets equity fall to 80,000 from 100,000 before it trips
    eng = engine("20")
    eng.handle(equity("100000", 0))  # type: ignore[arg-type]
    eng.handle(equity("80000", 1))  # type: ignore[arg-type]
    # Act: the operator resets: the HWM is re-baselined to 80,000
    reset = eng.handle(ResetRequested(actor="ops", reason="reviewed the drawdown", ts=at(2)))
    # Assert: the switch is off and the next trip needs 20 % below 80,000 = 64,000 (36 % from 100,000)
    assert [type(a) for a in reset] == [EndLockout]
    assert "cleared by ops: reviewed the drawdown" in reset[0].reason
    assert eng.states["drawdown_kill_switch"].accounts["A1"] == AccountDrawdown(hwm=D("80000"), equity=D("80000"))
    assert eng.handle(equity("64000.01", 3)) == []  # type: ignore[arg-type]
    assert isinstance(eng.handle(equity("64000", 4))[0], RaiseAlert)  # type: ignore[arg-type]


def test_kill_switch_seed_003_example_when_reset_after_20_pct_then_trips_again_at_28_pct_with_a_10_pct_limit() -> None:
    # Arrange: seed 003's worked example with the default 10 %: a 20 % fall trips it (at 90,000 already)
    eng = engine("10")
    eng.handle(equity("100000", 0))  # type: ignore[arg-type]
    eng.handle(equity("80000", 1))  # type: ignore[arg-type]
    eng.handle(ResetRequested(actor="ops", reason="reset at 80,000", ts=at(2)))
    # Act: 72,000 is 10 % below the new HWM 80,000, i.e. 28 % below the original 100,000
    before = eng.handle(equity("72000.01", 3))  # type: ignore[arg-type]
    at_limit = eng.handle(equity("72000", 4))  # type: ignore[arg-type]
    # Assert
    assert before == []
    assert isinstance(at_limit[0], RaiseAlert)
    assert "equity 72000.00 USD on A1 is 10.00 % below its high-water mark 80000.00 USD" in at_limit[0].reason


def test_kill_switch_when_equity_unknown_then_new_risk_refused_visibly() -> None:
    # Arrange: the rule alone, with no account update yet: build the view as the engine would
    rule = DrawdownKillSwitch(DrawdownKillSwitchParams())
    from tests.unit.rules._view import make_view

    # Act
    verdict = rule.check(order(), make_view(), rule.initial_state())
    # Assert
    assert isinstance(verdict, Deny)
    assert verdict.code == "drawdown_unknown"


def test_kill_switch_when_equity_is_zero_or_less_then_drawdown_cannot_be_measured() -> None:
    eng = engine()
    eng.handle(equity("0", 0))  # type: ignore[arg-type]
    decision = eng.check(order(ts=at(1)))
    assert (decision.approved, decision.reason_code) == (False, "drawdown_unknown")


@pytest.mark.parametrize("pct", ["0.5", "31", "0"])
def test_kill_switch_when_limit_outside_1_to_30_then_refused(pct: str) -> None:
    with pytest.raises(InvalidInput, match="must be from 1 to 30"):
        DrawdownKillSwitch(DrawdownKillSwitchParams(max_drawdown_pct=D(pct)))


def test_kill_switch_when_equity_rises_then_the_hwm_follows_and_falls_are_measured_from_it() -> None:
    eng = engine()
    eng.handle(equity("100000", 0))  # type: ignore[arg-type]
    eng.handle(equity("120000", 1))  # type: ignore[arg-type]
    # 108,000 is 10 % below 120,000 (but only 8 % above the first value): it trips
    actions = eng.handle(equity("108000", 2))  # type: ignore[arg-type]
    assert isinstance(actions[0], RaiseAlert)
    assert eng.states["drawdown_kill_switch"].accounts["A1"].hwm == D("120000")


def test_kill_switch_headroom_when_equity_is_93_500_after_a_100_000_peak_then_6_5_of_10_pct() -> None:
    # Arrange: peak 100,000, now 93,500: 1 - 93,500 / 100,000 = 6.5 % of a 10 % limit = 65 % used
    eng = engine()
    eng.handle(equity("100000", 0))  # type: ignore[arg-type]
    eng.handle(equity("93500", 1))  # type: ignore[arg-type]
    # Act
    (row,) = eng.headroom()
    # Assert
    assert (row.rule, row.scope.account, row.value, row.limit, row.unit) == (
        "drawdown_kill_switch",
        "A1",
        D("6.50"),
        D(10),
        "%",
    )
    assert row.used_pct == D("65.0")
    assert eng.headroom(account="B9") == []  # another account's view shows none of A1's limits
