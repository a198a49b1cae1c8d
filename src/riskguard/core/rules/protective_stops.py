"""ProtectiveStops: a position that had a stop gets it back after a restart or a reconnect.

The rule remembers, per account, symbol and closing side, the stop price of the latest working
stop order the venue reported: the one placed with the entry, or where trade management or the
trader moved it. A stop that fills, or the position going flat, forgets it. A cancel does not:
a dead man's switch or a venue's cancel-on-disconnect cancels stops with every other order while
the daemon is away, and that is exactly when the position needs one back.

When the daemon's reconciliation after a restart or a reconnect reports an open position with no
working stop on its closing side (a `position` event with `protected: false`), the rule places
the remembered stop again (`move_stop` with no order id: a new stop for the whole position) and
says so in a warning. A position that never had a stop is only reported: placing one would be
guessing the trader's risk, and `no_stop_loss_grace` is the rule that acts on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from riskguard.core.actions import Action, AlertLevel, MoveStop, RaiseAlert
from riskguard.core.enums import Side
from riskguard.core.events import Event, FillBooked, OrderStatus, OrderUpdated, PositionReported
from riskguard.core.rules._amounts import fmt_qty
from riskguard.core.rules.base import AccountView, Rule, RuleParams

__all__ = ["ProtectiveStops", "ProtectiveStopsParams", "ProtectiveStopsState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectiveStopsParams(RuleParams):
    """No settings beyond `enabled`: the stop to re-arm is the one the position last had."""


@dataclass(frozen=True, slots=True)
class ProtectiveStopsState:
    """The last working stop price seen, by (account, symbol, side of the stop)."""

    stops: dict[tuple[str, str, Side], Decimal] = field(default_factory=dict)


class ProtectiveStops(Rule[ProtectiveStopsParams, ProtectiveStopsState]):
    name = "protective_stops"
    reactive = True

    def initial_state(self) -> ProtectiveStopsState:
        return ProtectiveStopsState()

    def react(
        self, event: Event, view: AccountView, state: ProtectiveStopsState
    ) -> tuple[ProtectiveStopsState, Sequence[Action]]:
        if isinstance(event, OrderUpdated):
            return _remember(event, state), ()
        if isinstance(event, FillBooked):
            fill = event.fill
            if view.net_qty(fill.account, fill.symbol) != 0:
                return state, ()
            kept = {key: price for key, price in state.stops.items() if key[:2] != (fill.account, fill.symbol)}
            return (state, ()) if len(kept) == len(state.stops) else (ProtectiveStopsState(kept), ())
        if isinstance(event, PositionReported) and event.protected is False and event.net_qty != 0:
            return state, self._rearm(event, state)
        return state, ()

    def _rearm(self, position: PositionReported, state: ProtectiveStopsState) -> list[Action]:
        side = Side.SELL if position.net_qty > 0 else Side.BUY
        held = f"{'long' if position.net_qty > 0 else 'short'} {fmt_qty(abs(position.net_qty))} {position.symbol}"
        stop = state.stops.get((position.account, position.symbol, side))
        if stop is None:
            reason = (
                f"{position.account} holds {held} with no working stop at the venue, and riskguard has seen "
                "none for it to re-arm; no_stop_loss_grace decides what happens to an unprotected position"
            )
            return [RaiseAlert(rule=self.name, reason=reason, level=AlertLevel.WARNING, account=position.account)]
        reason = (
            f"{position.account} holds {held} with no working stop at the venue (cancelled while riskguard was "
            f"away or the link was down); re-arming its {side.value} stop at {stop}"
        )
        return [
            MoveStop(rule=self.name, reason=reason, account=position.account, symbol=position.symbol, stop_price=stop),
            RaiseAlert(rule=self.name, reason=reason, level=AlertLevel.WARNING, account=position.account),
        ]


def _remember(order: OrderUpdated, state: ProtectiveStopsState) -> ProtectiveStopsState:
    """A working stop's price is remembered; a filled one is forgotten; anything else changes nothing."""
    if not order.is_stop or order.stop_price is None:
        return state
    key = (order.account, order.symbol, order.side)
    if order.status.is_open:
        if state.stops.get(key) == order.stop_price:
            return state
        return ProtectiveStopsState({**state.stops, key: order.stop_price})
    if order.status is OrderStatus.FILLED and key in state.stops:
        return ProtectiveStopsState({k: v for k, v in state.stops.items() if k != key})
    return state
