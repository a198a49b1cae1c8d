"""CircuitBreaker (seed 004): stop an account after a run of losing trades or of order errors.

Per account, two counts. A trade is a position closing (a fill whose `applied.closed` is set,
a flip included): a loss (realized PnL net of fees below zero) adds one to the losing run, a
win or break-even ends it. An order the venue reports REJECTED adds one to the error run (each
order id once); an order reaching WORKING or FILLED ends it. Reaching `max_consecutive_losses`
or `max_consecutive_errors` trips the breaker (the 3rd loss in a row with the default 3): a
critical alert, cancel the account's working orders, and a latched account lockout (until
an operator resets it). Exits stay allowed; new risk is refused by the engine's lockout
(`locked_out`), and by this rule's gate with the same code while its state says tripped.

A reset is refused until `cooldown_minutes` after the trip (`refuses_reset` names the time it
ends, and the engine says so in a warning); from that instant on it is accepted, and the
engine's ResetRequested clears the account's lockout, then this rule's counts and trip. Each
account's cooldown is its own: resetting A1 does not wait for A2's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked, OrderStatus, OrderUpdated, ResetRequested
from riskguard.core.headroom import Headroom
from riskguard.core.lockouts import Lockout
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.scope import Scope

__all__ = ["AccountBreaker", "CircuitBreaker", "CircuitBreakerParams", "CircuitBreakerState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitBreakerParams(RuleParams):
    max_consecutive_losses: int = 3  # losing trades in a row that trip the breaker (seed 004: 3)
    max_consecutive_errors: int = 5  # rejected orders in a row that trip the breaker (seed 004: 5)
    cooldown_minutes: int = 30  # minutes after a trip before an operator may reset it (seed 004: 30)


@dataclass(frozen=True, slots=True)
class AccountBreaker:
    """One account's runs, and when and why its breaker tripped (None: it has not)."""

    losses: int = 0
    errors: tuple[str, ...] = ()  # ids of the orders rejected in a row
    tripped_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CircuitBreakerState:
    accounts: dict[str, AccountBreaker] = field(default_factory=dict)


class CircuitBreaker(Rule[CircuitBreakerParams, CircuitBreakerState]):
    name = "circuit_breaker"
    gate = True
    reactive = True

    def __init__(self, params: CircuitBreakerParams) -> None:
        for name in ("max_consecutive_losses", "max_consecutive_errors", "cooldown_minutes"):
            value = getattr(params, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(name, value, "must be a whole number, 1 or more")
        super().__init__(params)
        self.cooldown = timedelta(minutes=params.cooldown_minutes)

    def initial_state(self) -> CircuitBreakerState:
        return CircuitBreakerState()

    def check(self, order: OrderRequest, view: AccountView, state: CircuitBreakerState) -> Verdict:
        breaker = state.accounts.get(order.account)
        if breaker is not None and breaker.tripped_at is not None:
            return Deny(self.name, "locked_out", breaker.reason)
        return ALLOW

    def headroom(self, view: AccountView, state: CircuitBreakerState) -> Sequence[Headroom]:
        """Per account, its two runs toward the trip: losing trades in a row of
        `max_consecutive_losses`, rejected orders in a row of `max_consecutive_errors` (a tripped
        account keeps the run that tripped it, at 100 %, until its reset)."""
        rows = []
        for account in dict.fromkeys([*view.account_ids(), *state.accounts]):
            breaker = state.accounts.get(account, AccountBreaker())
            scope = Scope(account=account)
            losses, errors = Decimal(breaker.losses), Decimal(len(breaker.errors))
            rows += [
                Headroom(
                    self.name,
                    "losing trades in a row",
                    scope,
                    losses,
                    Decimal(self.params.max_consecutive_losses),
                    "losses",
                ),
                Headroom(
                    self.name,
                    "rejected orders in a row",
                    scope,
                    errors,
                    Decimal(self.params.max_consecutive_errors),
                    "errors",
                ),
            ]
        return rows

    def react(
        self, event: Event, view: AccountView, state: CircuitBreakerState
    ) -> tuple[CircuitBreakerState, Sequence[Action]]:
        if isinstance(event, ResetRequested):
            return self._reset(event, view, state), ()
        if isinstance(event, FillBooked) and event.applied.closed is not None:
            account = event.fill.account
            breaker = state.accounts.get(account, AccountBreaker())
            if breaker.tripped_at is not None:
                return state, ()
            realized = event.applied.closed.realized_pnl
            losses = breaker.losses + 1 if realized < 0 else 0
            breaker = AccountBreaker(losses, breaker.errors)
            if losses < self.params.max_consecutive_losses:
                return _with(state, account, breaker), ()
            currency = event.applied.closed.currency
            why = f"{losses} losing trades in a row (the last {fmt(realized, currency)})"
            return self._trip(view, state, account, breaker, why)
        if isinstance(event, OrderUpdated):
            account = event.account
            breaker = state.accounts.get(account, AccountBreaker())
            if breaker.tripped_at is not None:
                return state, ()
            if event.status in (OrderStatus.WORKING, OrderStatus.FILLED) and breaker.errors:
                return _with(state, account, AccountBreaker(breaker.losses)), ()
            if event.status is not OrderStatus.REJECTED or event.order_id in breaker.errors:
                return state, ()
            breaker = AccountBreaker(breaker.losses, (*breaker.errors, event.order_id))
            if len(breaker.errors) < self.params.max_consecutive_errors:
                return _with(state, account, breaker), ()
            detail = f": {event.reason}" if event.reason else ""
            why = f"{len(breaker.errors)} rejected orders in a row (the last {event.order_id}{detail})"
            return self._trip(view, state, account, breaker, why)
        return state, ()

    def _trip(
        self, view: AccountView, state: CircuitBreakerState, account: str, breaker: AccountBreaker, why: str
    ) -> tuple[CircuitBreakerState, Sequence[Action]]:
        reset_from = view.now + self.cooldown
        reason = (
            f"Circuit breaker tripped on {account} after {why}; working orders cancelled and new risk refused "
            f"until an operator resets it, not before {_utc(reset_from)}"
        )
        tripped = AccountBreaker(breaker.losses, breaker.errors, view.now, reason)
        actions = breach_actions(self.name, Enforcement.CANCEL_ORDERS, view, account, reason, None)
        return _with(state, account, tripped), actions

    def refuses_reset(self, view: AccountView, state: CircuitBreakerState, lockout: Lockout) -> str | None:
        cooling = [
            f"the circuit breaker on {account} cools down until {_utc(breaker.tripped_at + self.cooldown)}"
            for account, breaker in state.accounts.items()
            if lockout.scope.account in (None, account)
            and breaker.tripped_at is not None
            and view.now < breaker.tripped_at + self.cooldown
        ]
        if not cooling:
            return None
        return f"{'; '.join(cooling)} ({self.params.cooldown_minutes} min after it tripped); reset it after that"

    def _reset(self, command: ResetRequested, view: AccountView, state: CircuitBreakerState) -> CircuitBreakerState:
        """Forget the runs of the accounts the reset covers; a trip only once the engine has
        cleared its lockout (a refused reset leaves the lockout, and the trip, in place)."""
        scope = command.scope
        if command.rule not in (None, self.name) or scope.strategy is not None or scope.symbol is not None:
            return state
        locked = {lockout.scope.account for lockout in view.lockouts.all() if lockout.rule == self.name}
        kept = {
            account: breaker
            for account, breaker in state.accounts.items()
            if scope.account not in (None, account) or (breaker.tripped_at is not None and account in locked)
        }
        return state if kept == state.accounts else CircuitBreakerState(kept)


def _with(state: CircuitBreakerState, account: str, breaker: AccountBreaker) -> CircuitBreakerState:
    return CircuitBreakerState({**state.accounts, account: breaker})


def _utc(ts: datetime) -> str:
    return f"{ts.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
