"""TradeManagement: breakeven and tick trailing stops that only ever tighten; and the _trailing helpers.

MNQ ticks are 0.25 points, so 8 ticks = 2.00 points and 16 ticks = 4.00 points.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

import pytest

from riskguard.core import (
    AccountView,
    Action,
    Fill,
    FillBooked,
    InvalidInput,
    MarkUpdated,
    MoveStop,
    PositionSide,
    RiskEngine,
)
from riskguard.core.rules._trailing import best_stop, on_loss_side, round_to_tick, tighter
from riskguard.core.rules.trade_management import (
    ManagedStop,
    TradeManagement,
    TradeManagementParams,
    TradeManagementState,
)
from riskguard.testing.factories import T0
from tests.unit.rules._view import INSTRUMENTS, account, at, make_view, working

D = Decimal
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT


def rule(**settings: Any) -> TradeManagement:
    defaults: dict[str, Any] = {"breakeven_after_ticks": 8, "trail_after_ticks": 16, "trail_distance_ticks": 8}
    return TradeManagement(TradeManagementParams(**{**defaults, **settings}))


def fill(fill_id: str, side: str, price: str, *, qty: str = "1", strategy: str = "s1", seconds: float = 0) -> Fill:
    return Fill(fill_id, f"o-{fill_id}", "A1", strategy, "MNQ", side, qty, price, at(seconds))  # type: ignore[arg-type]


def mark(price: str, seconds: float = 10) -> MarkUpdated:
    return MarkUpdated("MNQ", price, at(seconds))  # type: ignore[arg-type]


def marks(
    manager: TradeManagement, view: AccountView, prices: list[str], state: TradeManagementState | None = None
) -> tuple[TradeManagementState, list[list[Action]]]:
    """Feed marks one after the other (a second apart), recording each one in the view's ledger first."""
    state = state or manager.initial_state()
    produced = []
    for n, price in enumerate(prices):
        event = mark(price, 10 + n)
        view.now = event.ts
        view.ledger.mark(event.symbol, event.price, event.ts)
        state, actions = manager.react(event, view, state)
        produced.append(list(actions))
    return state, produced


def fields(action: Action) -> tuple[str, dict[str, Any]]:
    return type(action).__name__, {k: v for k, v in asdict(action).items() if k not in ("id", "reason")}


def move(stop: str, order_id: str | None = None) -> tuple[str, dict[str, Any]]:
    return (
        "MoveStop",
        {"rule": "trade_management", "account": "A1", "symbol": "MNQ", "stop_price": D(stop), "order_id": order_id},
    )


# -- breakeven -------------------------------------------------------------------------------------


def test_react_when_profit_one_tick_short_of_breakeven_trigger_then_nothing() -> None:
    # Arrange: long 1 at 18000.00; 18001.75 is 7 ticks in profit
    manager = rule()
    view = make_view(T0, fills=[fill("f1", "buy", "18000.00")])
    # Act
    state, produced = marks(manager, view, ["18001.75"])
    # Assert
    assert produced == [[]]
    assert state == TradeManagementState()


def test_react_when_profit_reaches_breakeven_trigger_then_stop_to_entry_without_working_stop() -> None:
    # Arrange: 18002.00 is (18002.00 - 18000.00) / 0.25 = 8 ticks: reaching the trigger counts
    manager = rule()
    view = make_view(T0, fills=[fill("f1", "buy", "18000.00")])
    # Act
    state, produced = marks(manager, view, ["18002.00"])
    # Assert
    assert [fields(a) for a in produced[0]] == [move("18000.00")]
    assert produced[0][0].reason == (
        "MNQ long on A1 is 8 ticks in profit (entry 18000.00, mark 18002.00); stop moved to 18000.00, breakeven"
    )
    assert state == TradeManagementState({("A1", "MNQ"): ManagedStop(LONG, D("18000.00"))})


def test_react_when_a_working_stop_closes_the_position_then_it_is_the_one_moved() -> None:
    # Arrange: a sell stop at 17990.00 protects the long
    manager = rule()
    view = make_view(T0, fills=[fill("f1", "buy", "18000.00")], orders=[working("stop1", "sell", "1")])
    # Act
    _, produced = marks(manager, view, ["18002.00"])
    # Assert
    assert [fields(a) for a in produced[0]] == [move("18000.00", "stop1")]


def test_react_when_working_stop_already_tighter_than_breakeven_then_nothing() -> None:
    # Arrange: the trader's stop is at 18001.00, above the 18000.00 breakeven
    manager = rule()
    view = make_view(
        T0, fills=[fill("f1", "buy", "18000.00")], orders=[working("stop1", "sell", "1", stop_price="18001.00")]
    )
    # Act
    state, produced = marks(manager, view, ["18002.00"])
    # Assert
    assert produced == [[]]
    assert state == TradeManagementState()


def test_react_when_short_reaches_trigger_then_stop_to_entry_above_the_mark() -> None:
    # Arrange: short 1 at 18000.00; 17998.00 is (18000.00 - 17998.00) / 0.25 = 8 ticks
    manager = rule()
    view = make_view(T0, fills=[fill("f1", "sell", "18000.00")])
    # Act
    _, produced = marks(manager, view, ["17998.00"])
    # Assert
    assert [fields(a) for a in produced[0]] == [move("18000.00")]


@pytest.mark.parametrize(
    ("side", "mark_price", "stop"),
    [
        # entry (18000.00 + 18000.25) / 2 = 18000.125; + 2 ticks = 18000.625, rounded up (profit side) = 18000.75;
        # trigger at 18000.125 + 8 x 0.25 = 18002.125: 18002.25 is 8.5 ticks
        ("buy", "18002.25", "18000.75"),
        # short: 18000.125 - 0.50 = 17999.625, rounded down (profit side) = 17999.50; 17998.00 is 8.5 ticks
        ("sell", "17998.00", "17999.50"),
    ],
)
def test_react_when_offset_and_entry_off_the_grid_then_breakeven_rounds_toward_profit(
    side: str, mark_price: str, stop: str
) -> None:
    # Arrange
    manager = rule(breakeven_offset_ticks=2, trail_after_ticks=None, trail_distance_ticks=None)
    view = make_view(T0, fills=[fill("f1", side, "18000.00"), fill("f2", side, "18000.25", seconds=1)])
    # Act
    _, produced = marks(manager, view, [mark_price])
    # Assert
    assert [fields(a) for a in produced[0]] == [move(stop)]
    assert produced[0][0].reason.endswith(f"stop moved to {stop}, breakeven +2 ticks")


def test_react_when_strategies_share_the_symbol_then_entry_is_their_weighted_average() -> None:
    # Arrange: s1 long 2 at 18000.00, s2 long 1 at 18003.00: (2 x 18000 + 18003) / 3 = 18001.00;
    # 18003.00 is (18003.00 - 18001.00) / 0.25 = 8 ticks
    manager = rule(trail_after_ticks=None, trail_distance_ticks=None)
    view = make_view(T0, fills=[fill("f1", "buy", "18000.00", qty="2"), fill("f2", "buy", "18003.00", strategy="s2")])
    # Act
    _, produced = marks(manager, view, ["18003.00"])
    # Assert
    assert [fields(a) for a in produced[0]] == [move("18001.00")]


def test_react_when_strategies_on_opposite_sides_then_entry_is_the_net_break_even() -> None:
    # Arrange: s1 long 3 at 18000.00, s2 short 1 at 18010.00: net long 2, cost 54000 - 18010 = 35990,
    # entry 35990 / 2 = 17995.00 (at 17995 s1 loses 15 points, s2 gains 15); 17997.00 is 8 ticks
    manager = rule(trail_after_ticks=None, trail_distance_ticks=None)
    view = make_view(T0, fills=[fill("f1", "buy", "18000.00", qty="3"), fill("f2", "sell", "18010.00", strategy="s2")])
    # Act
    _, produced = marks(manager, view, ["17997.00"])
    # Assert
    assert [fields(a) for a in produced[0]] == [move("17995.00")]


# -- trailing ----------------------------------------------------------------------------------------


def test_react_when_mark_rises_and_falls_then_the_stop_only_tightens() -> None:
    # Arrange: long 1 at 18000.00
    manager = rule()
    view = make_view(T0, fills=[fill("f1", "buy", "18000.00")])
    # Act
    state, produced = marks(manager, view, ["18002.00", "18004.00", "18003.00", "18004.60", "18004.60", "18002.00"])
    # Assert:
    # 18002.00: 8 ticks, breakeven 18000.00
    # 18004.00: 16 ticks, trail 18004.00 - 8 x 0.25 = 18002.00, tighter than 18000.00
    # 18003.00: 12 ticks, trail off, breakeven 18000.00 is not tighter: nothing
    # 18004.60: 18.4 ticks, trail 18002.60 floored to the grid = 18002.50
    # 18004.60 again, then 18002.00: nothing changes
    assert [[fields(a) for a in actions] for actions in produced] == [
        [move("18000.00")],
        [move("18002.00")],
        [],
        [move("18002.50")],
        [],
        [],
    ]
    assert produced[1][0].reason.endswith("stop moved to 18002.00, a trailing stop 8 ticks behind the mark")
    assert state == TradeManagementState({("A1", "MNQ"): ManagedStop(LONG, D("18002.50"))})


def test_react_when_short_trails_then_stop_is_ceiled_to_the_grid() -> None:
    # Arrange: short 1 at 18000.00; 17995.40 is (18000.00 - 17995.40) / 0.25 = 18.4 ticks;
    # trail 17995.40 + 2.00 = 17997.40, ceiled = 17997.50 (tighter than breakeven 18000.00)
    manager = rule()
    view = make_view(T0, fills=[fill("f1", "sell", "18000.00")])
    # Act
    _, produced = marks(manager, view, ["17995.40"])
    # Assert
    assert [fields(a) for a in produced[0]] == [move("17997.50")]


def test_react_when_position_flips_then_its_stop_memory_is_dropped() -> None:
    # Arrange: long 1 with a stop asked at 18002.00; then sell 2 at 18001.00 flips to short 1
    manager = rule()
    view = make_view(T0, fills=[fill("f1", "buy", "18000.00")])
    state, _ = marks(manager, view, ["18004.00"])
    flip = fill("f2", "sell", "18001.00", qty="2", seconds=20)
    view.now = flip.ts
    # Act: short 1 at 18001.00 with the mark at 18004.00 is 12 ticks in loss
    after, actions = manager.react(FillBooked(flip, view.ledger.apply(flip)), view, state)
    # Assert
    assert list(actions) == []
    assert after == TradeManagementState()


def test_react_when_position_closes_then_state_resets_and_a_new_position_starts_fresh() -> None:
    # Arrange: long 1 at 18000.00 trailed to 18002.00, then closed at 18003.00
    manager = rule()
    view = make_view(T0, fills=[fill("f1", "buy", "18000.00")])
    state, _ = marks(manager, view, ["18004.00"])
    close = fill("f2", "sell", "18003.00", seconds=20)
    view.now = close.ts
    closed, _ = manager.react(FillBooked(close, view.ledger.apply(close)), view, state)
    reopen = fill("f3", "buy", "17990.00", seconds=21)
    view.now = reopen.ts
    view.ledger.apply(reopen)
    # Act: 17992.00 is 8 ticks above the new entry: breakeven 17990.00, below the old 18002.00 stop
    _, produced = marks(manager, view, ["17992.00"], closed)
    # Assert
    assert closed == TradeManagementState()
    assert [fields(a) for a in produced[0]] == [move("17990.00")]


def test_react_when_no_mark_yet_then_nothing() -> None:
    # Arrange
    manager = rule()
    view = make_view(T0)
    entry = fill("f1", "buy", "18000.00")
    # Act
    state, actions = manager.react(FillBooked(entry, view.ledger.apply(entry)), view, manager.initial_state())
    # Assert
    assert (state, list(actions)) == (TradeManagementState(), [])


def test_react_when_other_events_then_nothing() -> None:
    # Arrange
    manager = rule()
    view = make_view(T0, fills=[fill("f1", "buy", "18000.00")], marks={"MNQ": "18010.00"})
    # Act
    state, actions = manager.react(account(ts=T0), view, manager.initial_state())
    # Assert
    assert (state, actions) == (TradeManagementState(), ())


@pytest.mark.parametrize(
    ("settings", "field_name"),
    [
        ({"breakeven_after_ticks": None, "trail_after_ticks": None}, "breakeven_after_ticks"),
        ({"breakeven_after_ticks": 0}, "breakeven_after_ticks"),
        ({"breakeven_offset_ticks": 8}, "breakeven_offset_ticks"),
        ({"trail_distance_ticks": None}, "trail_distance_ticks"),
        ({"trail_distance_ticks": 0}, "trail_distance_ticks"),
        ({"trail_after_ticks": -1}, "trail_after_ticks"),
    ],
)
def test_params_when_invalid_then_refused_naming_the_field(settings: dict[str, Any], field_name: str) -> None:
    # Act
    with pytest.raises(InvalidInput) as raised:
        rule(**settings)
    # Assert
    assert raised.value.field == field_name


# -- the shared helpers in _trailing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "current", "proposed", "expected"),
    [
        (LONG, None, D("1"), True),
        (LONG, D("10"), D("10"), False),
        (LONG, D("10"), D("10.25"), True),
        (LONG, D("10"), D("9.75"), False),
        (SHORT, D("10"), D("9.75"), True),
        (SHORT, D("10"), D("10.25"), False),
        (SHORT, D("10"), D("10"), False),
    ],
)
def test_tighter_when_compared_then_only_strictly_better_for_the_side_is_true(
    side: PositionSide, current: Decimal | None, proposed: Decimal, expected: bool
) -> None:
    # Act / Assert
    assert tighter(side, current, proposed) is expected


def test_best_stop_when_several_then_highest_for_long_lowest_for_short() -> None:
    # Act / Assert
    assert best_stop(LONG, None, D("1"), D("3"), D("2")) == D("3")
    assert best_stop(SHORT, D("1"), None, D("3")) == D("1")
    assert best_stop(LONG, None, None) is None


@pytest.mark.parametrize(
    ("price", "side", "toward_loss", "expected"),
    [
        (D("18002.60"), LONG, True, D("18002.50")),
        (D("18002.60"), LONG, False, D("18002.75")),
        (D("18002.60"), SHORT, True, D("18002.75")),
        (D("18002.60"), SHORT, False, D("18002.50")),
        (D("18002.50"), LONG, True, D("18002.50")),
        (D("18002.50"), SHORT, True, D("18002.50")),
    ],
)
def test_round_to_tick_when_off_or_on_grid_then_rounds_to_the_asked_side(
    price: Decimal, side: PositionSide, toward_loss: bool, expected: Decimal
) -> None:
    # Act / Assert
    assert round_to_tick(price, D("0.25"), side, toward_loss=toward_loss) == expected


def test_on_loss_side_when_stop_at_the_mark_then_false() -> None:
    # Act / Assert
    assert on_loss_side(LONG, D("17999.75"), D("18000")) is True
    assert on_loss_side(LONG, D("18000"), D("18000")) is False
    assert on_loss_side(SHORT, D("18000.25"), D("18000")) is True
    assert on_loss_side(SHORT, D("18000"), D("18000")) is False


def test_trailing_helpers_when_side_flat_then_refused() -> None:
    # Act / Assert
    with pytest.raises(InvalidInput):
        tighter(PositionSide.FLAT, None, D("1"))


# -- through the engine -----------------------------------------------------------------------------------


def test_engine_when_marks_move_then_move_stop_actions_on_the_working_stop() -> None:
    # Arrange: long 1 MNQ at 18000.00 with a working sell stop at 17990.00
    engine = RiskEngine([rule()], INSTRUMENTS)
    engine.handle(account(ts=T0))
    engine.handle(fill("f1", "buy", "18000.00"))
    engine.handle(working("stop1", "sell", "1", ts=at(1)))
    # Act
    first = engine.handle(mark("18002.00", 2))
    repeat = engine.handle(mark("18002.00", 3))
    trail = engine.handle(mark("18004.00", 4))
    # Assert: 8 ticks -> breakeven 18000.00; 16 ticks -> trail 18002.00
    assert [(a.id, fields(a)) for a in first] == [("4.1.trade_management.move_stop", move("18000.00", "stop1"))]
    assert repeat == []
    assert [(a.id, fields(a)) for a in trail] == [("6.1.trade_management.move_stop", move("18002.00", "stop1"))]
    assert isinstance(trail[0], MoveStop)
