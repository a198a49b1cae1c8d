"""CooldownAfterLoss (seed 001, timer lockout): a pause after a big loss or a losing streak.

A trade is a position that closes: a fill that closes or flips one. Its result is the closed
position's realized PnL, net of fees, in the instrument's currency. A trade that loses at least
`loss_amount` (written 100 or -100; losing exactly 100 fires), or the `consecutive_losses`-th
losing trade in a row on the account, locks the account for `cooldown_minutes` from when the close is booked:
new risk is refused (`locked_out`), exits stay allowed, and a warning alert says why. A winning
or break-even trade ends a streak; a streak that fires starts again from zero. Every trade that
fires starts its own cooldown, so a loss during a cooldown (an exit may lose) lengthens it.
Either trigger may be off (None); at least one must be on. An operator reset of this rule (or
of every rule) for an account clears its streak as well as its lockout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from riskguard.core.actions import Action, AlertLevel, LockOut, RaiseAlert
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked, ResetRequested
from riskguard.core.headroom import Headroom
from riskguard.core.rules._amounts import fmt
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.schedule import require_timezone
from riskguard.core.scope import Scope

__all__ = ["CooldownAfterLoss", "CooldownAfterLossParams", "CooldownState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CooldownAfterLossParams(RuleParams):
    loss_amount: Decimal | None = None  # one trade losing at least this much starts a cooldown, e.g. 100 (currency)
    consecutive_losses: int | None = None  # or this many losing trades in a row, e.g. 3
    cooldown_minutes: int = 15  # how long new risk is refused, in minutes
    timezone: str = "America/New_York"  # IANA name, for the local time in messages only


@dataclass(frozen=True, slots=True)
class CooldownState:
    """Losing trades in a row, per account (an account missing has none)."""

    streaks: dict[str, int] = field(default_factory=dict)


class CooldownAfterLoss(Rule[CooldownAfterLossParams, CooldownState]):
    name = "cooldown_after_loss"
    reactive = True

    def __init__(self, params: CooldownAfterLossParams) -> None:
        super().__init__(params)
        if params.loss_amount is not None and params.loss_amount == 0:
            raise InvalidInput("loss_amount", params.loss_amount, "must not be 0 (a loss of 0 is every trade)")
        streak = params.consecutive_losses
        if streak is not None and (isinstance(streak, bool) or not isinstance(streak, int) or streak < 1):
            raise InvalidInput("consecutive_losses", streak, "must be a whole number of trades, at least 1")
        if params.loss_amount is None and streak is None:
            raise InvalidInput("loss_amount", None, "set loss_amount, consecutive_losses or both")
        minutes = params.cooldown_minutes
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
            raise InvalidInput("cooldown_minutes", minutes, "must be a whole number of minutes, at least 1")
        self.cooldown = timedelta(minutes=minutes)
        self.loss_threshold = None if params.loss_amount is None else abs(params.loss_amount)
        self.timezone = require_timezone("timezone", params.timezone)

    def initial_state(self) -> CooldownState:
        return CooldownState()

    def react(self, event: Event, view: AccountView, state: CooldownState) -> tuple[CooldownState, Sequence[Action]]:
        if isinstance(event, ResetRequested) and event.rule in (None, self.name):
            return _reset(state, event.scope), ()
        if not isinstance(event, FillBooked) or event.applied.closed is None:
            return state, ()
        closed = event.applied.closed
        account, result = closed.account, closed.realized_pnl
        if result >= 0:
            return _with(state, account, 0), ()
        streak = state.streaks.get(account, 0) + 1
        why = []
        if self.loss_threshold is not None and -result >= self.loss_threshold:
            why.append(
                f"a loss of {fmt(result, closed.currency)} (the limit is {fmt(-self.loss_threshold, closed.currency)})"
            )
        if self.params.consecutive_losses is not None and streak >= self.params.consecutive_losses:
            why.append(f"{streak} losing trades in a row")
        if not why:
            return _with(state, account, streak), ()
        until = view.now + self.cooldown
        reason = (
            f"cooldown after {' and '.join(why)} on {account} ({closed.symbol}); new risk is refused "
            f"until {self._local(until)} ({until.strftime('%H:%M:%S')} UTC)"
        )
        return _with(state, account, 0), (
            RaiseAlert(rule=self.name, reason=reason, level=AlertLevel.WARNING, account=account),
            LockOut(rule=self.name, reason=reason, scope=Scope(account=account), until=until),
        )

    def headroom(self, view: AccountView, state: CooldownState) -> Sequence[Headroom]:
        """The losing streak against `consecutive_losses`, per account (`loss_amount` is judged on
        each trade alone and has no standing value)."""
        streak = self.params.consecutive_losses
        if streak is None:
            return ()
        return [
            Headroom(
                self.name,
                "losing trades in a row",
                Scope(account=account),
                Decimal(state.streaks.get(account, 0)),
                Decimal(streak),
                "trades",
            )
            for account in view.account_ids()
        ]

    def _local(self, ts: datetime) -> str:
        return f"{ts.astimezone(self.timezone).strftime('%Y-%m-%d %H:%M:%S')} {self.timezone.key}"


def _reset(state: CooldownState, scope: Scope) -> CooldownState:
    """An operator reset of an account (not of one strategy or symbol in it) clears its streak."""
    if scope.strategy is not None or scope.symbol is not None:
        return state
    return CooldownState({a: n for a, n in state.streaks.items() if scope.account not in (None, a)})


def _with(state: CooldownState, account: str, streak: int) -> CooldownState:
    """The state with the account's streak set; a streak of 0 is not stored."""
    if state.streaks.get(account, 0) == streak:
        return state
    streaks = {a: n for a, n in state.streaks.items() if a != account}
    return CooldownState({**streaks, account: streak} if streak else streaks)
