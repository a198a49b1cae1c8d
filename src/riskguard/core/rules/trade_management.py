"""TradeManagement (seed 001, automation): move a position's stop to breakeven, then trail it.

Per account and symbol, the position is the account's net position over its strategies, and its
entry is the quantity-weighted average entry of the strategies' positions, computed from their
exact open cost (sum of cost / net quantity; for strategies on opposite sides this is the price
at which the net position breaks even). Profit in ticks = (mark - entry) / tick size for a long,
(entry - mark) / tick size for a short, unrounded, at the latest mark.

- Breakeven: once the profit reaches `breakeven_after_ticks`, the stop goes to entry plus
  `breakeven_offset_ticks` in the position's favour, rounded to the tick grid toward the profit
  side (a long's breakeven stop never sits below its entry).
- Trailing: once the profit reaches `trail_after_ticks`, the stop goes `trail_distance_ticks`
  behind the mark (below for a long, above for a short), rounded toward the loss side (floor
  for a long, ceil for a short), so it is never nearer the mark than the distance.

The tighter of the two is asked for with one `MoveStop` (on the working stop order closing the
position when there is one, the first reported; else `order_id` None: place one), and only when
it is strictly better than both the last stop this rule asked for and the working stop's price:
a stop only ever moves in the position's favour. Nothing is emitted when nothing changes, with
no mark, or for a flat account; the memory of a position's stop ends when it closes or flips.
Evaluated on every mark of the symbol and every fill of the account in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from riskguard.core.actions import Action, MoveStop
from riskguard.core.enums import PositionSide
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked, MarkUpdated
from riskguard.core.money import DIVISION
from riskguard.core.rules._amounts import fmt_qty
from riskguard.core.rules._trailing import best_stop, on_loss_side, price_text, round_to_tick, tighter, working_stop
from riskguard.core.rules.base import AccountView, Rule, RuleParams

__all__ = ["ManagedStop", "TradeManagement", "TradeManagementParams", "TradeManagementState"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeManagementParams(RuleParams):
    breakeven_after_ticks: int | None = None  # profit in ticks that moves the stop to breakeven (None: off)
    breakeven_offset_ticks: int = 0  # the breakeven stop sits this many ticks past entry, in the position's favour
    trail_after_ticks: int | None = None  # profit in ticks that starts the trailing stop (None: off)
    trail_distance_ticks: int | None = None  # ticks between the mark and the trailing stop; needed with trailing


@dataclass(frozen=True, slots=True)
class ManagedStop:
    """The last stop price asked for on one account's position in one symbol, and its side."""

    side: PositionSide
    stop_price: Decimal


@dataclass(frozen=True, slots=True)
class TradeManagementState:
    stops: dict[tuple[str, str], ManagedStop] = field(default_factory=dict)  # (account, symbol) -> stop


class TradeManagement(Rule[TradeManagementParams, TradeManagementState]):
    name = "trade_management"
    reactive = True

    def __init__(self, params: TradeManagementParams) -> None:
        super().__init__(params)
        after, offset = params.breakeven_after_ticks, params.breakeven_offset_ticks
        trail, distance = params.trail_after_ticks, params.trail_distance_ticks
        if after is None and trail is None:
            raise InvalidInput("breakeven_after_ticks", None, "set breakeven_after_ticks, trail_after_ticks or both")
        _require_ticks("breakeven_offset_ticks", offset, None)
        if after is not None:
            _require_ticks("breakeven_after_ticks", after, 1)
            if offset >= after:
                raise InvalidInput(
                    "breakeven_offset_ticks",
                    offset,
                    f"must be smaller than breakeven_after_ticks ({after}), or the stop would be at or past the mark",
                )
        if trail is not None:
            _require_ticks("trail_after_ticks", trail, 0)
            if distance is None:
                raise InvalidInput("trail_distance_ticks", None, "is required when trail_after_ticks is set")
        if distance is not None:
            _require_ticks("trail_distance_ticks", distance, 1)

    def initial_state(self) -> TradeManagementState:
        return TradeManagementState()

    def react(
        self, event: Event, view: AccountView, state: TradeManagementState
    ) -> tuple[TradeManagementState, Sequence[Action]]:
        if isinstance(event, MarkUpdated):
            symbol = event.symbol
            held = [p.account for p in view.ledger.open_positions(symbol=symbol)]
            remembered = [account for account, held_symbol in state.stops if held_symbol == symbol]
            keys = [(account, symbol) for account in dict.fromkeys([*held, *remembered])]
        elif isinstance(event, FillBooked):
            keys = [(event.fill.account, event.fill.symbol)]
        else:
            return state, ()
        stops = dict(state.stops)
        actions: list[Action] = []
        for key in keys:
            action, managed = self._manage(view, *key, stops.get(key))
            if managed is None:
                stops.pop(key, None)
            else:
                stops[key] = managed
            if action is not None:
                actions.append(action)
        return (state if stops == state.stops else TradeManagementState(stops)), actions

    def _manage(
        self, view: AccountView, account: str, symbol: str, managed: ManagedStop | None
    ) -> tuple[MoveStop | None, ManagedStop | None]:
        """The stop move for one position, if any, and what to remember of its stop."""
        net = view.net_qty(account, symbol)
        if net == 0:
            return None, None
        side = PositionSide.LONG if net > 0 else PositionSide.SHORT
        if managed is not None and managed.side is not side:
            managed = None  # the position flipped: a new position, a new stop
        mark = view.mark(symbol)
        instrument = view.instruments.get(symbol)
        if mark is None or instrument is None:
            return None, managed
        tick, sign = instrument.tick_size, (1 if side is PositionSide.LONG else -1)
        entry = DIVISION.divide(sum((p.cost for p in view.positions(account, symbol)), ZERO), net)
        profit_ticks = DIVISION.divide((mark.price - entry) * sign, tick)
        candidates: list[tuple[Decimal, str]] = []
        after = self.params.breakeven_after_ticks
        if after is not None and profit_ticks >= after:
            offset = self.params.breakeven_offset_ticks
            stop = round_to_tick(entry + sign * offset * tick, tick, side, toward_loss=False)
            label = "breakeven" if offset == 0 else f"breakeven {offset:+d} ticks"
            candidates.append((stop, label))
        trail, distance = self.params.trail_after_ticks, self.params.trail_distance_ticks
        if trail is not None and distance is not None and profit_ticks >= trail:
            stop = round_to_tick(mark.price - sign * distance * tick, tick, side, toward_loss=True)
            candidates.append((stop, f"a trailing stop {distance} ticks behind the mark"))
        working = working_stop(view.orders, account, symbol, side)
        working_price = None if working is None else working.stop_price
        current = best_stop(side, None if managed is None else managed.stop_price, working_price)
        usable = [c for c in candidates if tighter(side, current, c[0]) and on_loss_side(side, c[0], mark.price)]
        if not usable:
            return None, managed
        stop, label = max(usable, key=lambda c: c[0] * sign)  # the tighter; breakeven first on a tie
        reason = (
            f"{symbol} {side} on {account} is {_ticks(profit_ticks)} ticks in profit "
            f"(entry {price_text(entry, tick)}, mark {mark.price}); stop moved to {stop}, {label}"
        )
        move = MoveStop(
            rule=self.name,
            reason=reason,
            account=account,
            symbol=symbol,
            stop_price=stop,
            order_id=None if working is None else working.order_id,
        )
        return move, ManagedStop(side, stop)


def _require_ticks(name: str, value: object, minimum: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        least = "" if minimum is None else f", at least {minimum}"
        raise InvalidInput(name, value, f"must be a whole number of ticks{least}")


def _ticks(ticks: Decimal) -> str:
    return fmt_qty(ticks.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
