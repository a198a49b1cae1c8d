"""TrailingStop (seed 002): stops by strategy type that only ever tighten, and per-type limits.

`strategy_types` gives each strategy id a type, and the type a profile. Built in, from seed 002
(initial stop / activation / trailing distance / tightening increment, max position, max
leverage): `trend_following` 1 / 1 / 0.5 / 0.2 %, 15 %, 1.2x; `htf` 2 / 1.5 / 1 / 0.5 %, 20 %,
1.0x; `arbitrage`, `market_making`, `news_driven` no trailing and 5 %, 8 %, 12 % max position
(the seed gives them no stop %: set `initial_stop_pct` in their profile for a fixed stop). A
profile in `profiles` replaces the built-in one of its type whole, or adds a type. Strategies
without a type are left alone.

A position is one strategy's in one symbol on one account, its entry the ledger's average entry.

- Open: a fill that opens (or flips) it asks, when the profile has `initial_stop_pct`, for one
  `MoveStop` to entry minus that % for a long (plus for a short), on the tick grid rounded toward
  the loss side; on the strategy's working stop closing the position if the venue reports one,
  else `order_id` None (place one). A working stop already at least as tight is kept.
- Trail: once the profit at a mark, (mark - entry) / entry x 100 (entry - mark for a short),
  reaches `activation_pct`, the trail is on (and stays on): the stop sits `distance_pct` behind
  the best price seen since the open (highest mark for a long, lowest for a short), rounded
  toward the loss side. It is moved only when that improves on the current stop by at least
  `tightening_pct` % of the best price (reaching the increment counts), and never to a price
  the mark has reached. The current stop is the tighter of the last one asked for and the
  working stop's price: a stop only ever moves in the position's favour.
- Exit: a mark at or through the current stop (at or below it for a long, at or above for a
  short) closes the position at market with the exit's reason, e.g. "trailing stop 18138.75 hit
  at 18138.75 (trend_following): ...": `ClosePosition` of the account's symbol when the strategy
  holds the account's whole position there, `ReducePosition` of the strategy's quantity when
  other strategies hold more on the same side, a warning alert (nothing to reduce) when the
  account's net position is on the other side. Once per position: later marks do nothing until a
  fill closes it. The memory of a position ends when it closes and starts afresh when it flips;
  one first seen on a mark is taken up as if it had just opened.

Gate, for orders of a typed strategy (exits never get here): the strategy's position in the
symbol after the order, |qty| x price x point value, at most `max_position_pct` % of the
account's equity (`max_position_pct`); the account's exposure after the order (what it holds at
the marks, the order's symbol with its net quantity after the order at the order's price) at
most `max_leverage` x equity (`max_leverage`). The price is the order's limit (or stop) price,
else the mark. Equal is allowed. Fail closed: no account update (`account_unknown`), no price
for the order or a held symbol (`price_unknown`), amounts in two currencies (`currency_mismatch`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import Action, AlertLevel, ClosePosition, MoveStop, RaiseAlert, ReducePosition
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.enums import PositionChange, PositionSide
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked, MarkUpdated
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.positions import Position
from riskguard.core.rules._amounts import Unpriced, fmt, fmt_qty, held_exposure, order_price
from riskguard.core.rules._trailing import (
    best_price,
    best_stop,
    improves_by,
    on_loss_side,
    pct_from,
    price_text,
    round_to_tick,
    stop_hit,
    tighter,
    working_stop,
)
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.scope import Scope

__all__ = [
    "DEFAULT_PROFILES",
    "TrailedStop",
    "TrailingProfile",
    "TrailingStop",
    "TrailingStopParams",
    "TrailingStopState",
]

ZERO = Decimal(0)
HUNDRED = Decimal(100)

Key = tuple[str, str, str]  # (account, strategy, symbol)
StopKind = Literal["initial", "fixed", "trailing", "working"]
_LABEL: dict[StopKind, str] = {
    "initial": "initial stop",
    "fixed": "fixed stop",
    "trailing": "trailing stop",
    "working": "working stop",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailingProfile:
    """How positions of one strategy type are stopped, and how big they may be."""

    __pydantic_config__: ClassVar[Mapping[str, Any]] = {"extra": "forbid"}

    initial_stop_pct: Decimal | None = None  # stop placed at the open, % of the entry away from it (None: none)
    activation_pct: Decimal | None = None  # profit in % of the entry that starts trailing (None: a fixed stop)
    distance_pct: Decimal | None = None  # the trailing stop sits this % of the best price behind it
    tightening_pct: Decimal | None = None  # least move of the trailing stop, % of the best price (None: any)
    max_position_pct: Decimal | None = None  # most value of the strategy's position in a symbol, % of equity
    max_leverage: Decimal | None = None  # most account exposure after an order, times equity (1.0: none)

    @property
    def trails(self) -> bool:
        return self.activation_pct is not None and self.distance_pct is not None


#: Seed 002's profiles by strategy type.
DEFAULT_PROFILES: Mapping[str, TrailingProfile] = MappingProxyType(
    {
        "trend_following": TrailingProfile(
            initial_stop_pct=Decimal(1),
            activation_pct=Decimal(1),
            distance_pct=Decimal("0.5"),
            tightening_pct=Decimal("0.2"),
            max_position_pct=Decimal(15),
            max_leverage=Decimal("1.2"),
        ),
        "htf": TrailingProfile(
            initial_stop_pct=Decimal(2),
            activation_pct=Decimal("1.5"),
            distance_pct=Decimal(1),
            tightening_pct=Decimal("0.5"),
            max_position_pct=Decimal(20),
            max_leverage=Decimal("1.0"),
        ),
        "arbitrage": TrailingProfile(max_position_pct=Decimal(5)),
        "market_making": TrailingProfile(max_position_pct=Decimal(8)),
        "news_driven": TrailingProfile(max_position_pct=Decimal(12)),
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailingStopParams(RuleParams):
    strategy_types: dict[str, str] = field(default_factory=dict)  # strategy id -> type, e.g. {"t-1": "htf"}
    profiles: dict[str, TrailingProfile] = field(default_factory=dict)  # type -> profile (replaces/adds to seed 002's)


@dataclass(frozen=True, slots=True)
class TrailedStop:
    """What the rule remembers of one open position."""

    side: PositionSide
    best: Decimal  # the best price seen since the open: the entry, then the marks
    stop: Decimal | None  # the current stop (None: none yet)
    kind: StopKind  # where the current stop came from, for the exit's reason
    active: bool = False  # the profit has reached the activation: the stop trails
    exited: bool = False  # a mark hit the stop and the close was asked for


@dataclass(frozen=True, slots=True)
class TrailingStopState:
    positions: dict[Key, TrailedStop] = field(default_factory=dict)  # (account, strategy, symbol) -> its stop


class TrailingStop(Rule[TrailingStopParams, TrailingStopState]):
    name = "trailing_stop"
    gate = True
    reactive = True

    def __init__(self, params: TrailingStopParams) -> None:
        super().__init__(params)
        profiles = {**DEFAULT_PROFILES, **params.profiles}
        for type_name, profile in params.profiles.items():
            _validate_profile(type_name, profile)
        if not params.strategy_types:
            raise InvalidInput("strategy_types", {}, "name at least one strategy and its type")
        for strategy, type_name in params.strategy_types.items():
            if type_name not in profiles:
                known = ", ".join(profiles)
                raise InvalidInput(
                    f"strategy_types.{strategy}", type_name, f"is not a strategy type with a profile ({known})"
                )
        self._types: dict[str, tuple[str, TrailingProfile]] = {
            strategy: (type_name, profiles[type_name]) for strategy, type_name in params.strategy_types.items()
        }

    def initial_state(self) -> TrailingStopState:
        return TrailingStopState()

    # -- the gate ----------------------------------------------------------------------------

    def check(self, order: OrderRequest, view: AccountView, state: TrailingStopState) -> Verdict:
        typed = self._types.get(order.strategy)
        if typed is None:
            return ALLOW
        type_name, profile = typed
        max_position, max_leverage = profile.max_position_pct, profile.max_leverage
        if max_position is None and max_leverage is None:
            return ALLOW
        account, symbol = order.account, order.symbol
        snapshot = view.account(account)
        if snapshot is None:
            return Deny(
                self.name,
                "account_unknown",
                f"no account update for {account}: the {type_name} limits cannot be compared with its equity; "
                f"the order is refused",
            )
        instrument = view.instruments[symbol]
        currency = instrument.currency
        if snapshot.currency != currency:
            return self._mismatch(f"{symbol} is valued in {currency} but {account}'s equity is in {snapshot.currency}")
        price = order_price(order, view)
        if price is None:
            return Deny(
                self.name,
                "price_unknown",
                f"no price for {symbol}: the order cannot be sized against the {type_name} limits; the order is refused",
            )
        signed = order.side.sign * order.qty
        if max_position is not None:
            value = _position_value(view, account, order.strategy, symbol, price, signed)
            if value != 0 and value * HUNDRED > snapshot.equity * max_position:
                allowed = _max_position_value(snapshot.equity, max_position)
                return Deny(
                    self.name,
                    "max_position_pct",
                    f"{order.strategy}'s {symbol} position on {account} would be worth {fmt(value, currency)} after "
                    f"this order, over the {fmt(max_position)} % of equity limit for {type_name} "
                    f"({fmt(allowed, currency)} of {fmt(snapshot.equity, currency)}); the order is refused",
                )
        if max_leverage is not None:
            return self._check_leverage(order, view, snapshot, price, type_name, max_leverage)
        return ALLOW

    def _check_leverage(
        self,
        order: OrderRequest,
        view: AccountView,
        snapshot: AccountSnapshot,
        price: Decimal,
        type_name: str,
        max_leverage: Decimal,
    ) -> Verdict:
        account, instrument = order.account, view.instruments[order.symbol]
        currency = instrument.currency
        exposure = (
            abs(view.net_qty(account, order.symbol) + order.side.sign * order.qty) * price * instrument.multiplier
        )
        others = held_exposure(view, account, currency, skip=order.symbol)
        if isinstance(others, Unpriced) and others.currency is not None:
            return self._mismatch(
                f"{account} holds {others.symbol} in {others.currency} and {order.symbol} is in {currency}"
            )
        if isinstance(others, Unpriced):
            return Deny(
                self.name,
                "price_unknown",
                f"no mark for {others.symbol}, which {account} holds: its leverage cannot be measured; "
                f"the order is refused until a price arrives",
            )
        exposure += others
        allowed = _max_exposure(snapshot.equity, max_leverage)
        if exposure > allowed:
            return Deny(
                self.name,
                "max_leverage",
                f"{account}'s exposure would be {fmt(exposure, currency)} after this order, over the "
                f"{fmt_qty(max_leverage)}x leverage limit for {type_name} ({fmt(allowed, currency)} on "
                f"{fmt(snapshot.equity, currency)} of equity); the order is refused",
            )
        return ALLOW

    def headroom(self, view: AccountView, state: TrailingStopState) -> Sequence[Headroom]:
        """The per-type limits the gate holds orders to, now, per account with a snapshot: each typed
        strategy's position at the mark against `max_position_pct` of equity, and the account's
        exposure at the marks against `max_leverage` x equity for each type that has one. No row
        without a positive equity, a mark or one currency (the gate refuses then)."""
        leverages = {
            type_name: profile.max_leverage
            for type_name, profile in self._types.values()
            if profile.max_leverage is not None
        }
        rows: list[Headroom] = []
        for account in view.account_ids():
            snapshot = view.account(account)
            if snapshot is None or snapshot.equity <= 0:
                continue
            currency, equity = snapshot.currency, snapshot.equity
            for position in view.positions(account):
                typed = self._types.get(position.strategy)
                mark = view.mark(position.symbol)
                if typed is None or typed[1].max_position_pct is None or mark is None:
                    continue
                if view.instruments[position.symbol].currency != currency:
                    continue
                type_name, max_position = typed[0], typed[1].max_position_pct
                value = _position_value(view, account, position.strategy, position.symbol, mark.price)
                scope = Scope(account=account, strategy=position.strategy, symbol=position.symbol)
                limit = _max_position_value(equity, max_position)
                rows.append(Headroom(self.name, f"position value ({type_name})", scope, value, limit, currency))
            exposure = held_exposure(view, account, currency)
            if isinstance(exposure, Unpriced):
                continue
            for type_name, max_leverage in leverages.items():
                limit = _max_exposure(equity, max_leverage)
                label = f"exposure ({type_name}, {fmt_qty(max_leverage)}x equity)"
                rows.append(Headroom(self.name, label, Scope(account=account), exposure, limit, currency))
        return rows

    def _mismatch(self, what: str) -> Deny:
        return Deny(self.name, "currency_mismatch", f"{what}: the amounts cannot be compared; the order is refused")

    # -- the stops ---------------------------------------------------------------------------

    def react(
        self, event: Event, view: AccountView, state: TrailingStopState
    ) -> tuple[TrailingStopState, Sequence[Action]]:
        if isinstance(event, FillBooked):
            fill = event.fill
            if fill.strategy not in self._types:
                return state, ()
            key = (fill.account, fill.strategy, fill.symbol)
            if event.applied.change not in (PositionChange.OPENED, PositionChange.FLIPPED, PositionChange.CLOSED):
                return state, ()  # an add or a partial exit keeps the stop; the marks take it from here
            return self._follow(view, state, [key], mark=None, fresh=True)
        if isinstance(event, MarkUpdated):
            mark = view.mark(event.symbol)
            if mark is None:
                return state, ()
            held = [
                (p.account, p.strategy, p.symbol)
                for p in view.ledger.open_positions(symbol=event.symbol)
                if p.strategy in self._types
            ]
            remembered = [key for key in state.positions if key[2] == event.symbol]
            return self._follow(view, state, list(dict.fromkeys([*held, *remembered])), mark=mark.price, fresh=False)
        return state, ()

    def _follow(
        self, view: AccountView, state: TrailingStopState, keys: list[Key], *, mark: Decimal | None, fresh: bool
    ) -> tuple[TrailingStopState, list[Action]]:
        """Open, trail or exit each position in `keys` (fresh: a fill just opened or closed it)."""
        positions = dict(state.positions)
        actions: list[Action] = []
        for key in keys:
            position = view.ledger.position(*key)
            remembered = None if fresh else positions.get(key)
            if position is None:
                positions.pop(key, None)
                continue
            type_name, profile = self._types[key[1]]
            if remembered is None or remembered.side is not position.side:
                remembered = self._open(view, position, type_name, profile, actions)
            if mark is not None:
                remembered = self._on_mark(view, position, remembered, mark, type_name, profile, actions)
            positions[key] = remembered
        return (state if positions == state.positions else TrailingStopState(positions)), actions

    def _open(
        self, view: AccountView, position: Position, type_name: str, profile: TrailingProfile, actions: list[Action]
    ) -> TrailedStop:
        """A new position: remember it, and ask for its initial stop unless a working one is as tight."""
        side, entry = position.side, position.avg_entry_price
        kind: StopKind = "initial" if profile.trails else "fixed"
        if profile.initial_stop_pct is None:
            return TrailedStop(side, entry, None, kind)
        tick = view.instruments[position.symbol].tick_size
        stop = round_to_tick(
            pct_from(side, entry, profile.initial_stop_pct, toward_loss=True), tick, side, toward_loss=True
        )
        working = working_stop(view.orders, position.account, position.symbol, side, position.strategy)
        if working is not None and working.stop_price is not None and not tighter(side, working.stop_price, stop):
            return TrailedStop(side, entry, working.stop_price, "working")  # as tight already: never loosen it
        actions.append(
            MoveStop(
                rule=self.name,
                reason=(
                    f"{_who(position)} opened at {price_text(entry, tick)} ({type_name}): {_LABEL[kind]} at {stop}, "
                    f"{fmt_qty(profile.initial_stop_pct)} % from the entry"
                ),
                account=position.account,
                symbol=position.symbol,
                stop_price=stop,
                order_id=None if working is None else working.order_id,
            )
        )
        return TrailedStop(side, entry, stop, kind)

    def _on_mark(
        self,
        view: AccountView,
        position: Position,
        remembered: TrailedStop,
        mark: Decimal,
        type_name: str,
        profile: TrailingProfile,
        actions: list[Action],
    ) -> TrailedStop:
        """Exit at a stop the mark has reached, else trail from the best price seen."""
        if remembered.exited:
            return remembered
        side, entry = position.side, position.avg_entry_price
        working = working_stop(view.orders, position.account, position.symbol, side, position.strategy)
        working_price = None if working is None else working.stop_price
        current = best_stop(side, remembered.stop, working_price)
        kind: StopKind = remembered.kind if current == remembered.stop else "working"
        if current is not None and stop_hit(side, current, mark):
            actions.append(self._exit(view, position, f"{_LABEL[kind]} {current} hit at {mark} ({type_name})"))
            return replace(remembered, stop=current, kind=kind, exited=True)
        best = best_price(side, remembered.best, mark)
        sign = 1 if side is PositionSide.LONG else -1
        activation, distance = profile.activation_pct, profile.distance_pct
        active = remembered.active or (activation is not None and (mark - entry) * sign * HUNDRED >= activation * entry)
        now = replace(remembered, best=best, stop=current, kind=kind, active=active)
        if not active or distance is None:
            return now
        tick = view.instruments[position.symbol].tick_size
        trail = round_to_tick(pct_from(side, best, distance, toward_loss=True), tick, side, toward_loss=True)
        step = ZERO if profile.tightening_pct is None else profile.tightening_pct * best / HUNDRED
        if not improves_by(side, current, trail, step) or not on_loss_side(side, trail, mark):
            return now
        profit = ((mark - entry) * sign * HUNDRED / entry).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        actions.append(
            MoveStop(
                rule=self.name,
                reason=(
                    f"{_who(position)} is {profit} % in profit (entry {price_text(entry, tick)}, best {best}; "
                    f"{type_name}): trailing stop moved to {trail}, {fmt_qty(distance)} % behind the best price"
                ),
                account=position.account,
                symbol=position.symbol,
                stop_price=trail,
                order_id=None if working is None else working.order_id,
            )
        )
        return replace(now, stop=trail, kind="trailing")

    def _exit(self, view: AccountView, position: Position, why: str) -> Action:
        """Close the strategy's position: all of the account's in the symbol, or the strategy's share."""
        account, symbol = position.account, position.symbol
        net, own = view.net_qty(account, symbol), position.net_qty
        if net == 0 or (net > 0) != (own > 0):
            return RaiseAlert(
                rule=self.name,
                reason=(
                    f"{why}: {_who(position)} should close, but {account}'s net {symbol} position is "
                    f"{fmt_qty(net)}, so there is nothing to reduce; close it by hand if needed"
                ),
                level=AlertLevel.WARNING,
                account=account,
            )
        if abs(own) >= abs(net):
            return ClosePosition(
                rule=self.name, reason=f"{why}: {_who(position)} is closed", account=account, symbol=symbol
            )
        return ReducePosition(
            rule=self.name,
            reason=(
                f"{why}: {_who(position)} is closed, {fmt_qty(abs(own))} of the account's {fmt_qty(abs(net))}; "
                f"the other strategies keep theirs"
            ),
            account=account,
            symbol=symbol,
            qty=abs(own),
        )


def _position_value(
    view: AccountView, account: str, strategy: str, symbol: str, price: Decimal, added: Decimal = ZERO
) -> Decimal:
    """|the strategy's position in `symbol` on `account`, plus `added`| x `price` x point value."""
    own = view.ledger.position(account, strategy, symbol)
    return abs((ZERO if own is None else own.net_qty) + added) * price * view.instruments[symbol].multiplier


def _max_position_value(equity: Decimal, max_position_pct: Decimal) -> Decimal:
    """The most a strategy's position in a symbol may be worth: `max_position_pct` % of equity."""
    return equity * max_position_pct / HUNDRED


def _max_exposure(equity: Decimal, max_leverage: Decimal) -> Decimal:
    """The most an account may hold at the marks: `max_leverage` x equity."""
    return equity * max_leverage


def _who(position: Position) -> str:
    return f"{position.strategy}'s {position.symbol} {position.side} on {position.account}"


def _validate_profile(type_name: str, profile: TrailingProfile) -> None:
    """Percentages of a price stay within (0, 100); the trail needs its activation and distance together."""
    where = f"profiles.{type_name}"
    if not isinstance(profile, TrailingProfile):
        raise InvalidInput(where, profile, "must be a profile (initial_stop_pct, activation_pct, ...)")
    for spec in fields(profile):
        value = getattr(profile, spec.name)
        if value is None:
            continue
        if spec.name in ("initial_stop_pct", "distance_pct"):
            if not ZERO < value < HUNDRED:
                raise InvalidInput(f"{where}.{spec.name}", str(value), "must be above 0 and below 100 (% of a price)")
        elif value < 0:
            raise InvalidInput(f"{where}.{spec.name}", str(value), "must be zero or more")
    if (profile.activation_pct is None) != (profile.distance_pct is None):
        raise InvalidInput(
            f"{where}.distance_pct", profile.distance_pct, "set activation_pct and distance_pct together (or neither)"
        )
    if profile.tightening_pct is not None and profile.distance_pct is None:
        raise InvalidInput(
            f"{where}.tightening_pct", str(profile.tightening_pct), "needs a trailing stop (distance_pct)"
        )
