"""NoStopLossGrace (seed 001, trade-by-trade): a position must be protected by a working stop.

A position is protected while at least one working stop (or stop-limit) order of the account
sits in its symbol on the side that closes the account's net position. An open position without
one starts a timer; if it is still open and unprotected when `grace_seconds` have passed, the
grace has run out: at `since + grace` exactly it has (timers end at their deadline), and
`on_breach` applies to that symbol (by default its position is closed and its orders cancelled,
no lockout; a locking choice locks the account until an operator resets it). A stop that appears
in time, or the position going flat, clears the timer. Each unprotected period fires once; the
rule asks the engine for a clock tick at the earliest grace end (`next_deadline`).

Gate (`require_stop_on_entry`, off by default): an order that adds risk and carries no attached
`stop_loss` is refused with `stop_loss_required`. Exits are never blocked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.enums import Side
from riskguard.core.errors import InvalidInput
from riskguard.core.events import ClockTicked, Event, FillBooked, OrderUpdated
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt_qty
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.scope import Scope

__all__ = ["NoStopLossGrace", "NoStopLossGraceParams", "NoStopLossState", "Unprotected"]

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class NoStopLossGraceParams(RuleParams):
    grace_seconds: int = 30  # how long a position may stay open without a working stop, seconds (0: none)
    on_breach: Enforcement = Enforcement.FLATTEN  # when the grace runs out: close the symbol, cancel its orders
    require_stop_on_entry: bool = False  # refuse orders that add risk without an attached stop_loss


@dataclass(frozen=True, slots=True)
class Unprotected:
    """A position seen open without a protective stop since `since`; `breached` once acted on."""

    since: datetime
    breached: bool = False


@dataclass(frozen=True, slots=True)
class NoStopLossState:
    """The unprotected positions, by (account, symbol), in the order they were first seen."""

    unprotected: dict[tuple[str, str], Unprotected] = field(default_factory=dict)


class NoStopLossGrace(Rule[NoStopLossGraceParams, NoStopLossState]):
    name = "no_stop_loss_grace"
    gate = True
    reactive = True

    def __init__(self, params: NoStopLossGraceParams) -> None:
        super().__init__(params)
        if isinstance(params.grace_seconds, bool) or not isinstance(params.grace_seconds, int):
            raise InvalidInput("grace_seconds", params.grace_seconds, "must be a whole number of seconds")
        if params.grace_seconds < 0:
            raise InvalidInput("grace_seconds", params.grace_seconds, "must be zero or more seconds")
        self.grace = timedelta(seconds=params.grace_seconds)

    def initial_state(self) -> NoStopLossState:
        return NoStopLossState()

    def check(self, order: OrderRequest, view: AccountView, state: NoStopLossState) -> Verdict:
        if self.params.require_stop_on_entry and order.stop_loss is None:
            return Deny(
                self.name,
                "stop_loss_required",
                f"an order that opens or adds to a position in {order.symbol} must carry a stop loss; "
                "attach one (stop_loss) and send it again",
            )
        return ALLOW

    def react(
        self, event: Event, view: AccountView, state: NoStopLossState
    ) -> tuple[NoStopLossState, Sequence[Action]]:
        if isinstance(event, FillBooked):
            keys = [(event.fill.account, event.fill.symbol)]
        elif isinstance(event, OrderUpdated):
            keys = [(event.account, event.symbol)]
        elif isinstance(event, ClockTicked):
            held = ((p.account, p.symbol) for p in view.ledger.open_positions())
            keys = list(dict.fromkeys([*state.unprotected, *held]))
        else:
            return state, ()
        timers = dict(state.unprotected)
        actions: list[Action] = []
        for key in keys:
            actions.extend(self._evaluate(key, view, timers))
        return NoStopLossState(timers), actions

    def _evaluate(
        self, key: tuple[str, str], view: AccountView, timers: dict[tuple[str, str], Unprotected]
    ) -> list[Action]:
        """Update `timers` (a fresh copy) for one position; return the breach actions, if due."""
        account, symbol = key
        if not _unprotected(view, account, symbol):
            timers.pop(key, None)
            return []
        net = view.net_qty(account, symbol)
        timer = timers.get(key)
        if timer is None:
            timer = timers[key] = Unprotected(view.now)
        if timer.breached or view.now < timer.since + self.grace:
            return []
        timers[key] = Unprotected(timer.since, breached=True)
        side = "long" if net > 0 else "short"
        reason = (
            f"{account} has held {side} {fmt_qty(abs(net))} {symbol} without a working stop order for "
            f"{(view.now - timer.since) // _SECOND} s, past the {self.params.grace_seconds} s grace; "
            f"{_outcome(self.params.on_breach, symbol)}"
        )
        return breach_actions(self.name, self.params.on_breach, view, account, reason, None, symbol=symbol)

    def headroom(self, view: AccountView, state: NoStopLossState) -> Sequence[Headroom]:
        """Whole seconds without a working stop against the grace, per unprotected account and symbol."""
        return [
            Headroom(
                self.name,
                "seconds without a stop",
                Scope(account=account, symbol=symbol),
                Decimal((view.now - timer.since) // _SECOND),
                Decimal(self.params.grace_seconds),
                "s",
            )
            for (account, symbol), timer in state.unprotected.items()
            if _unprotected(view, account, symbol)
        ]

    def next_deadline(self, view: AccountView, state: NoStopLossState) -> datetime | None:
        ends = [timer.since + self.grace for timer in state.unprotected.values() if not timer.breached]
        return min(ends, default=None)


def _unprotected(view: AccountView, account: str, symbol: str) -> bool:
    """Is the account's net position in `symbol` open with no working stop on the side that closes it?"""
    net = view.net_qty(account, symbol)
    return net != 0 and not view.orders.stops(account, symbol, Side.SELL if net > 0 else Side.BUY)


def _outcome(enforcement: Enforcement, symbol: str) -> str:
    return {
        Enforcement.ALERT: "no action is taken beyond this alert",
        Enforcement.BLOCK_ENTRIES: "new risk is refused until an operator resets it",
        Enforcement.CANCEL_ORDERS: f"its {symbol} orders are cancelled and new risk refused until an operator resets it",
        Enforcement.FLATTEN: f"closing the {symbol} position and cancelling its orders",
        Enforcement.FLATTEN_AND_LOCK: (
            f"closing the {symbol} position, cancelling its orders and refusing new risk until an operator resets it"
        ),
    }[enforcement]
