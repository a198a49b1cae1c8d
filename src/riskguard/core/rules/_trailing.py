"""Stops that only ever tighten: which of two stop prices is better for a position, and the tick grid.

Shared by the rules that move a position's protective stop (trade_management's breakeven and
tick trailing; seed 002's %-based trailing profiles build on the same pieces). A stop is
"tighter" when it locks in more (or loses less): higher for a long, lower for a short. A
rule keeps the last stop it asked for and moves it only to a strictly tighter price, so a
falling mark never loosens a stop and a repeated mark never repeats a request.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from riskguard.core.enums import PositionSide
from riskguard.core.errors import InvalidInput
from riskguard.core.money import DIVISION

__all__ = ["best_stop", "on_loss_side", "round_to_tick", "tighter"]


def _require_open(side: PositionSide) -> None:
    if side is PositionSide.FLAT:
        raise InvalidInput("side", side, "a stop belongs to a long or a short position, not a flat one")


def tighter(side: PositionSide, current: Decimal | None, proposed: Decimal) -> bool:
    """Is `proposed` strictly better for the position than `current` (None: no stop yet)?"""
    _require_open(side)
    if current is None:
        return True
    return proposed > current if side is PositionSide.LONG else proposed < current


def best_stop(side: PositionSide, *stops: Decimal | None) -> Decimal | None:
    """The tightest of `stops` for the position, ignoring None; None when all are None."""
    best: Decimal | None = None
    for stop in stops:
        if stop is not None and tighter(side, best, stop):
            best = stop
    return best


def round_to_tick(price: Decimal, tick_size: Decimal, side: PositionSide, *, toward_loss: bool) -> Decimal:
    """`price` on the tick grid, rounded toward the position's loss side (long: down, short: up)
    when `toward_loss`, else toward its profit side. Exact: a price already on the grid is kept."""
    _require_open(side)
    down = (side is PositionSide.LONG) == toward_loss
    ticks = DIVISION.divide(price, tick_size).to_integral_value(rounding=ROUND_FLOOR if down else ROUND_CEILING)
    return ticks * tick_size


def on_loss_side(side: PositionSide, stop: Decimal, mark: Decimal) -> bool:
    """Would a stop at `stop` rest (not trigger at once) with the market at `mark`?
    Below the mark for a long, above it for a short."""
    _require_open(side)
    return stop < mark if side is PositionSide.LONG else stop > mark
