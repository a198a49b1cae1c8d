"""RepeatedExecutionThrottle (FIA automated-trading controls, MiFID II RTS 6 style): a strategy
that executes too often in a short time is switched off until a human looks at it.

Fills are counted per (account, strategy) at their venue time; the window at `now` is
(now - window_seconds, now]. Up to `max_fills` fills in a window are allowed; the fill that
makes one more trips the throttle: a critical alert and a latched lockout of the strategy on
the account (`Scope(account, strategy)`, until an operator resets it). New risk of that
strategy is then refused by the engine (`locked_out`); its exits and other strategies are not
affected, and working orders are left alone (the venue may still fill them; they do not trip
it again). An operator reset (ResetRequested) clears the lockout in the engine, and then this
rule forgets the strategy's fills, so it starts counting afresh.
The state keeps per strategy at most `max_fills + 1` fill times, only those inside the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from riskguard.core.actions import Action
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked, ResetRequested
from riskguard.core.headroom import Headroom
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.scope import Scope

__all__ = [
    "RepeatedExecutionThrottle",
    "RepeatedExecutionThrottleParams",
    "StrategyFills",
    "ThrottleState",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RepeatedExecutionThrottleParams(RuleParams):
    max_fills: int  # most fills one strategy may get on one account within the window
    window_seconds: int = 60  # the length of the window, in seconds


@dataclass(frozen=True, slots=True)
class StrategyFills:
    """One strategy's recent fill times (oldest first), and whether it has been switched off."""

    times: tuple[datetime, ...] = ()
    tripped: bool = False


@dataclass(frozen=True, slots=True)
class ThrottleState:
    strategies: dict[tuple[str, str], StrategyFills] = field(default_factory=dict)  # (account, strategy)


class RepeatedExecutionThrottle(Rule[RepeatedExecutionThrottleParams, ThrottleState]):
    name = "repeated_execution_throttle"
    reactive = True

    def __init__(self, params: RepeatedExecutionThrottleParams) -> None:
        for name in ("max_fills", "window_seconds"):
            value = getattr(params, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(name, value, "must be a whole number, 1 or more")
        super().__init__(params)
        self.window = timedelta(seconds=params.window_seconds)

    def initial_state(self) -> ThrottleState:
        return ThrottleState()

    def react(self, event: Event, view: AccountView, state: ThrottleState) -> tuple[ThrottleState, Sequence[Action]]:
        if isinstance(event, ResetRequested):
            return self._reset(event, view, state), ()
        if not isinstance(event, FillBooked):
            return state, ()
        account, strategy = event.fill.account, event.fill.strategy
        key = (account, strategy)
        current = state.strategies.get(key, StrategyFills())
        if current.tripped:
            return state, ()
        since = view.now - self.window
        times = self._recent((*current.times, event.fill.ts), view.now)[-(self.params.max_fills + 1) :]
        strategies = {
            k: s for k, s in state.strategies.items() if k != key and (s.tripped or any(t > since for t in s.times))
        }
        if len(times) <= self.params.max_fills:
            if times:  # a fill reported too late to fall in the window is not counted
                strategies[key] = StrategyFills(times)
            return ThrottleState(strategies), ()
        reason = (
            f"strategy {strategy} on {account} had {len(times)} fills within {self.params.window_seconds} s, over the "
            f"limit of {self.params.max_fills}; the strategy is disabled until an operator resets it"
        )
        strategies[key] = StrategyFills(times, tripped=True)
        scope = Scope(account=account, strategy=strategy)
        actions = breach_actions(self.name, Enforcement.BLOCK_ENTRIES, view, account, reason, None, scope=scope)
        return ThrottleState(strategies), actions

    def _recent(self, times: tuple[datetime, ...], now: datetime) -> tuple[datetime, ...]:
        """The fill times in the window (now - window, now], oldest first."""
        return tuple(sorted(t for t in times if now - self.window < t <= now))

    def headroom(self, view: AccountView, state: ThrottleState) -> Sequence[Headroom]:
        """The fills in the window against `max_fills`, per account and strategy with any; a tripped
        strategy keeps the count that tripped it until an operator resets it."""
        label = f"fills in the last {self.params.window_seconds} s"
        limit = Decimal(self.params.max_fills)
        return [
            Headroom(self.name, label, Scope(account=account, strategy=strategy), Decimal(count), limit, "fills")
            for (account, strategy), fills in state.strategies.items()
            if (count := len(fills.times if fills.tripped else self._recent(fills.times, view.now)))
        ]

    def _reset(self, command: ResetRequested, view: AccountView, state: ThrottleState) -> ThrottleState:
        """Forget the strategies the reset covers; a tripped one only once its lockout is gone."""
        scope = command.scope
        if command.rule not in (None, self.name) or scope.symbol is not None:
            return state
        locked = {lockout.scope for lockout in view.lockouts.all() if lockout.rule == self.name}
        kept = {
            key: fills
            for key, fills in state.strategies.items()
            if scope.account not in (None, key[0])
            or scope.strategy not in (None, key[1])
            or (fills.tripped and Scope(account=key[0], strategy=key[1]) in locked)
        }
        return state if kept == state.strategies else ThrottleState(kept)
