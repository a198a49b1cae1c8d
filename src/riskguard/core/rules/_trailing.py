"""Stops that only ever tighten: which of two stop prices is better for a position, and the tick grid.

Shared by the rules that move a position's protective stop (trade_management's breakeven and
tick trailing; trailing_stop's %-based profiles of seed 002). A stop is "tighter" when it
locks in more (or loses less): higher for a long, lower for a short. A rule keeps the last
stop it asked for and moves it only to a strictly tighter price, so a falling mark never
loosens a stop and a repeated mark never repeats a request.

The same order ranks prices: the best price a position has seen is the highest for a long,
the lowest for a short (`best_price`). A stop is hit by a price at or through it
(`stop_hit`), the opposite of resting on the loss side (`on_loss_side`). The stop to move is
the working stop order on the side that closes the position (`working_stop`).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from riskguard.core.enums import PositionSide, Side
from riskguard.core.errors import InvalidInput
from riskguard.core.events import OrderUpdated
from riskguard.core.money import DIVISION
from riskguard.core.working_orders import WorkingOrders

__all__ = [
    "best_price",
    "best_stop",
    "closing_side",
    "improves_by",
    "on_loss_side",
    "pct_from",
    "price_text",
    "round_to_tick",
    "stop_hit",
    "tighter",
    "working_stop",
]


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


def stop_hit(side: PositionSide, stop: Decimal, price: Decimal) -> bool:
    """Has `price` reached the stop: at or below it for a long, at or above it for a short?"""
    return not on_loss_side(side, stop, price)


def best_price(side: PositionSide, seen: Decimal, price: Decimal) -> Decimal:
    """The better of the best price `seen` so far and a new `price` for the position (highest for
    a long, lowest for a short): a price is better in the order in which a stop is tighter."""
    return price if tighter(side, seen, price) else seen


def improves_by(side: PositionSide, current: Decimal | None, proposed: Decimal, step: Decimal) -> bool:
    """Is `proposed` strictly tighter than `current` and by at least `step` (a price distance,
    reaching it counts)? With no current stop any proposal improves."""
    if not tighter(side, current, proposed):
        return False
    return current is None or abs(proposed - current) >= step


def pct_from(side: PositionSide, price: Decimal, pct: Decimal, *, toward_loss: bool) -> Decimal:
    """`price` moved by `pct` % of itself toward the position's loss side (long: down, short: up)
    when `toward_loss`, else toward its profit side. Not rounded to any grid."""
    _require_open(side)
    down = (side is PositionSide.LONG) == toward_loss
    return DIVISION.divide(DIVISION.multiply(price, 100 - pct if down else 100 + pct), 100)


def closing_side(side: PositionSide) -> Side:
    """The order side that closes the position: sell a long, buy back a short."""
    _require_open(side)
    return Side.SELL if side is PositionSide.LONG else Side.BUY


def working_stop(
    orders: WorkingOrders, account: str, symbol: str, side: PositionSide, strategy: str | None = None
) -> OrderUpdated | None:
    """The first reported working stop order that closes the account's `side` position in
    `symbol` (only `strategy`'s, when given), or None."""
    stops = orders.stops(account, symbol, closing_side(side))
    return next((o for o in stops if strategy is None or o.strategy == strategy), None)


def price_text(price: Decimal, tick: Decimal) -> str:
    """A price for a sentence: as is, or, when finer than the grid allows (an average entry),
    rounded half-even to two places finer than the tick."""
    exponent = tick.as_tuple().exponent
    rounded = price.quantize(Decimal(1).scaleb((exponent if isinstance(exponent, int) else 0) - 2), ROUND_HALF_EVEN)
    return f"{price}" if rounded == price else f"{rounded}"
