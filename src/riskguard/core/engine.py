"""The risk engine: one event in, state changes and actions out; one order in, a decision out.

Pure and deterministic: no I/O, no clock. Time is the latest event time seen (it never goes
backwards), so the same events in the same order give the same decisions, actions and ids.

The pre-trade gate, in order (the first refusal wins):

1. the order must fit its instrument (known symbol, tick and lot grid) -> ``invalid_order``;
2. an order that only reduces the account's position is **approved here**, whatever follows:
   exits are never blocked by a lockout, halt, loss limit or rate limit;
3. the system pause -> ``paused``; an operator or engine halt covering the order -> ``halted``;
4. no account snapshot from the venue yet -> ``account_unknown`` (fail closed);
5. a rule that faulted (raised) -> ``rule_faulted`` until an operator resets it;
6. an active lockout covering the order -> its code (``locked_out`` unless the rule set another);
7. every enabled gate rule, in config order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import (
    Action,
    AlertLevel,
    CancelAllOrders,
    ClosePosition,
    EndLockout,
    Halt,
    LockOut,
    RaiseAlert,
)
from riskguard.core.decisions import Decision, Deny
from riskguard.core.enums import PositionChange
from riskguard.core.errors import InvalidInput
from riskguard.core.events import (
    ActionFailed,
    ClockTicked,
    Event,
    FillBooked,
    HaltRequested,
    InputEvent,
    MarkUpdated,
    OperatorCommand,
    OrderApproved,
    OrderUpdated,
    PauseRequested,
    PositionReported,
    ResetRequested,
    ResumeRequested,
)
from riskguard.core.fills import Fill
from riskguard.core.headroom import Headroom
from riskguard.core.instruments import Instrument
from riskguard.core.ledger import FillApplied, Ledger
from riskguard.core.lockouts import Lockout, LockoutBook
from riskguard.core.orders import OrderRequest
from riskguard.core.rules.base import AccountView, Rule
from riskguard.core.scope import Scope
from riskguard.core.working_orders import WorkingOrders

__all__ = ["EngineHalt", "RiskEngine"]

ENGINE = "engine"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EngineHalt:
    """A halt in force: an operator's, or the engine's own after something it cannot value."""

    scope: Scope
    reason: str
    since: datetime
    by: str


class RiskEngine:
    """Holds the ledger, accounts, working orders, lockouts, halts and each rule's state."""

    def __init__(self, rules: Sequence[Rule[Any, Any]], instruments: Iterable[Instrument]) -> None:
        self._use(rules)
        self.ledger = Ledger(instruments)
        self.accounts: dict[str, AccountSnapshot] = {}
        self.orders = WorkingOrders()
        self.lockouts = LockoutBook()
        self.halts: dict[Scope, EngineHalt] = {}
        self.paused: EngineHalt | None = None
        self.venue_positions: dict[tuple[str, str], Decimal] = {}
        self.states: dict[str, Any] = {rule.name: rule.initial_state() for rule in self.rules}
        self.faulted: dict[str, str] = {}
        self.now = _EPOCH
        self.sequence = 0
        self.last_fill: FillApplied | None = None  # what the latest fill did, for reports

    def _use(self, rules: Sequence[Rule[Any, Any]]) -> None:
        names = [rule.name for rule in rules]
        if len(set(names)) != len(names):
            raise InvalidInput("rules", names, "a rule may appear only once")
        self.rules = tuple(rules)
        self._gate = tuple(rule for rule in self.rules if rule.gate)
        self._reactive = tuple(rule for rule in self.rules if rule.reactive)
        self._by_name = {rule.name: rule for rule in self.rules}

    def reconfigure(self, rules: Sequence[Rule[Any, Any]]) -> None:
        """Run `rules` from now on (a changed config). A rule kept by name keeps its state, with
        its new settings; a new rule starts fresh; a removed one is dropped, and so is its fault.
        Positions, lockouts and halts already in force stay: a lockout ends when it was due to,
        whatever the new limits say (fail closed)."""
        self._use(rules)
        self.states = {rule.name: self.states.get(rule.name, rule.initial_state()) for rule in self.rules}
        self.faulted = {name: why for name, why in self.faulted.items() if name in self._by_name}

    # -- the pre-trade gate ----------------------------------------------------------------

    def check(self, order: OrderRequest) -> Decision:
        """Decide on one order request. Rules that count orders see it only if it is approved."""
        self._advance(order.ts)
        view = self.view()
        reducing = view.reduces_position(order)
        verdict = self._verdict(order, view, reducing)
        if verdict is not None:
            return Decision.deny(order.order_id, verdict)
        healthy = set(self.faulted)
        self._feed(OrderApproved(order), view, allow_actions=False)
        broken = [name for name in self.faulted if name not in healthy]
        if broken and not reducing:
            return Decision.deny(
                order.order_id,
                Deny(
                    broken[0],
                    "rule_faulted",
                    f"rule {broken[0]} failed ({self.faulted[broken[0]]}); the order is refused",
                ),
            )
        if reducing:
            return Decision.approve(order.order_id, "approved: the order only reduces a position")
        return Decision.approve(order.order_id)

    def _verdict(self, order: OrderRequest, view: AccountView, reducing: bool) -> Deny | None:
        instrument = self.ledger.instruments.get(order.symbol)
        if instrument is None:
            return Deny(ENGINE, "invalid_order", f"{order.symbol} is not a configured instrument")
        try:
            order.require_fits(instrument)
        except InvalidInput as exc:
            return Deny(ENGINE, "invalid_order", str(exc))
        if reducing:
            return None
        if order.reduce_only:
            return Deny(
                ENGINE, "invalid_order", f"reduce-only order, but {order.account} holds no {order.symbol} to reduce"
            )
        if self.paused is not None:
            return Deny(
                "operator", "paused", f"the system is paused ({self.paused.reason}); new risk is refused until resumed"
            )
        halt = self._halt_covering(order)
        if halt is not None:
            return Deny(halt.by, "halted", f"trading is halted for {halt.scope}: {halt.reason}")
        if order.account not in self.accounts:
            return Deny(
                ENGINE,
                "account_unknown",
                f"no account update has been received for {order.account}; new risk is refused until the venue reports it",
            )
        if self.faulted:
            rule_name, problem = next(iter(self.faulted.items()))
            return Deny(
                rule_name, "rule_faulted", f"rule {rule_name} failed ({problem}); new risk is refused until reset"
            )
        lockout = self.lockouts.blocking(order.account, order.strategy, order.symbol, self.now)
        if lockout is not None:
            return Deny(lockout.rule, lockout.code, lockout.reason)
        for rule in self._gate:
            try:
                verdict = rule.check(order, view, self.states[rule.name])
            except Exception as exc:  # a broken rule must deny, never allow
                self.faulted[rule.name] = f"{type(exc).__name__}: {exc}"
                return Deny(rule.name, "rule_faulted", f"rule {rule.name} failed ({exc}); the order is refused")
            if isinstance(verdict, Deny):
                return verdict
        return None

    def _halt_covering(self, order: OrderRequest) -> EngineHalt | None:
        for halt in self.halts.values():
            if halt.scope.covers(order.account, order.strategy, order.symbol):
                return halt
        return None

    # -- events ----------------------------------------------------------------------------

    def handle(self, event: InputEvent) -> list[Action]:
        """Apply one event; return the actions it calls for, each with a stable id."""
        self._advance(event.ts)
        self.sequence += 1
        actions: list[Action] = []
        rule_event = self._apply(event, actions)
        for lockout in self.lockouts.expire(self.now):
            actions.append(_ended(lockout))
        view = self.view()
        if rule_event is not None:
            actions.extend(self._feed(rule_event, view, allow_actions=True))
        return self._commit(actions)

    def _apply(self, event: InputEvent, actions: list[Action]) -> Event | None:
        """Update the engine's own state; return what the rules should see (None: nothing)."""
        if isinstance(event, Fill):
            return self._apply_fill(event, actions)
        if isinstance(event, MarkUpdated):
            self.ledger.mark(event.symbol, event.price, event.ts)
        elif isinstance(event, AccountSnapshot):
            previous = self.accounts.get(event.account)
            if previous is not None and event.ts < previous.ts:
                return None
            self.accounts[event.account] = event
        elif isinstance(event, OrderUpdated):
            self.orders.update(event)
        elif isinstance(event, PositionReported):
            self.venue_positions[(event.account, event.symbol)] = event.net_qty
        elif isinstance(event, OperatorCommand):
            self._apply_command(event, actions)
        elif not isinstance(event, ClockTicked | ActionFailed):
            raise InvalidInput("event", type(event).__name__, "is not an event the engine knows")
        return event

    def _apply_fill(self, fill: Fill, actions: list[Action]) -> Event | None:
        try:
            applied = self.ledger.apply(fill)
        except InvalidInput as exc:
            # A real execution the ledger cannot value: stop new risk on the account until a human looks.
            reason = f"a fill could not be booked ({exc}); positions may be wrong"
            self.halts[Scope(account=fill.account)] = EngineHalt(Scope(account=fill.account), reason, self.now, ENGINE)
            actions.append(RaiseAlert(rule=ENGINE, reason=reason, level=AlertLevel.CRITICAL, account=fill.account))
            actions.append(Halt(rule=ENGINE, reason=reason, scope=Scope(account=fill.account)))
            self.last_fill = None
            return None
        self.last_fill = applied
        if applied.change is PositionChange.DUPLICATE:
            return None
        return FillBooked(fill, applied)

    def _apply_command(self, command: OperatorCommand, actions: list[Action]) -> None:
        who = f"{command.actor}: {command.reason}"
        if isinstance(command, PauseRequested):
            self.paused = EngineHalt(Scope(), who, self.now, "operator")
        elif isinstance(command, HaltRequested):
            self.halts[command.scope] = EngineHalt(command.scope, who, self.now, "operator")
            reason = f"halted by {who}"
            actions.append(Halt(rule="operator", reason=reason, scope=command.scope))
            actions.extend(self._emergency(command, reason))
        elif isinstance(command, ResumeRequested):
            for scope in [s for s in self.halts if _within(s, command.scope)]:
                del self.halts[scope]
            if command.scope == Scope():
                self.paused = None
        elif isinstance(command, ResetRequested):
            self._reset(command, who, actions)

    def _emergency(self, halt: HaltRequested, reason: str) -> list[Action]:
        """The emergency halt's sweep: cancel the scope's orders and, if asked, close its positions."""
        actions: list[Action] = []
        view = self.view()
        accounts = [halt.scope.account] if halt.scope.account else list(self.accounts)
        for account in accounts:
            if halt.flatten:
                held = view.symbols_held(account)
                for symbol in held if halt.scope.symbol is None else [s for s in held if s == halt.scope.symbol]:
                    if view.net_qty(account, symbol) != 0:
                        actions.append(ClosePosition(rule="operator", reason=reason, account=account, symbol=symbol))
            if halt.cancel_orders or halt.flatten:
                actions.append(
                    CancelAllOrders(rule="operator", reason=reason, account=account, symbol=halt.scope.symbol)
                )
        return actions

    def _reset(self, command: ResetRequested, who: str, actions: list[Action]) -> None:
        """Clear faults and lockouts in the command's scope, unless the rule that set a lockout
        refuses (a circuit breaker while its cooldown runs); a refusal is said, not silent."""
        if command.rule is None:
            self.faulted.clear()
        else:
            self.faulted.pop(command.rule, None)
        view = self.view()
        for lockout in self.lockouts.all():
            if command.rule not in (None, lockout.rule) or not _within(lockout.scope, command.scope):
                continue
            rule = self._by_name.get(lockout.rule)
            refusal = None if rule is None else rule.refuses_reset(view, self.states[rule.name], lockout)
            if refusal is not None:
                actions.append(
                    RaiseAlert(
                        rule=lockout.rule,
                        reason=f"reset refused: {refusal}",
                        level=AlertLevel.WARNING,
                        account=lockout.scope.account,
                    )
                )
                continue
            self.lockouts.clear(lockout.rule, lockout.scope)
            actions.append(_ended(lockout, f"cleared by {who}"))

    def _feed(self, event: Event, view: AccountView, *, allow_actions: bool) -> list[Action]:
        actions: list[Action] = []
        for rule in self._reactive:
            try:
                state, produced = rule.react(event, view, self.states[rule.name])
            except Exception as exc:  # the rule stops protecting: say so loudly and refuse new risk
                problem = f"{type(exc).__name__}: {exc}"
                self.faulted[rule.name] = problem
                actions.append(
                    RaiseAlert(rule=rule.name, reason=f"rule {rule.name} failed: {problem}", level=AlertLevel.CRITICAL)
                )
                continue
            self.states[rule.name] = state
            if produced and not allow_actions:  # a rule may only count an approval: it is broken
                self.faulted[rule.name] = "it returned actions for an order approval, which it may only count"
                continue
            actions.extend(produced)
        return actions

    def _commit(self, actions: list[Action]) -> list[Action]:
        """Give each action its id and record the lockouts asked for."""
        committed = []
        for index, action in enumerate(actions, start=1):
            action = replace(action, id=f"{self.sequence}.{index}.{action.rule}.{action.name}")
            if isinstance(action, LockOut) and action.until is not None and self._latches(action.rule):
                reason = f"{action.reason} (latched: only an operator's reset ends it)"
                action = replace(action, until=None, reason=reason)
            if isinstance(action, LockOut):
                kept = self.lockouts.add(
                    Lockout(action.scope, action.rule, action.reason, self.now, action.until, action.code)
                )
                if kept.since != self.now or kept.reason != action.reason:
                    continue  # an existing lockout lasts at least as long: nothing new to do
            committed.append(action)
        return committed

    def _latches(self, rule_name: str) -> bool:
        rule = self._by_name.get(rule_name)
        return rule is not None and bool(getattr(rule.params, "latch", False))

    # -- time and views --------------------------------------------------------------------

    def _advance(self, ts: datetime) -> None:
        if ts > self.now:
            self.now = ts

    def view(self) -> AccountView:
        return AccountView(
            self.now,
            self.ledger,
            self.accounts,
            self.orders,
            self.ledger.instruments,
            self.lockouts,
            self.venue_positions,
        )

    def headroom(self, account: str | None = None) -> list[Headroom]:
        """Every limit's distance to breach now, rule by rule in config order; with `account`,
        only that account's limits and the portfolio-wide ones."""
        view = self.view()
        rows = [row for rule in self.rules for row in rule.headroom(view, self.states[rule.name])]
        return [row for row in rows if account is None or row.scope.account in (None, account)]

    def next_deadline(self) -> datetime | None:
        """The next time something falls due without an event: feed a ClockTicked then."""
        view = self.view()
        deadlines = [self.lockouts.next_deadline()]
        deadlines += [rule.next_deadline(view, self.states[rule.name]) for rule in self._reactive]
        return min((d for d in deadlines if d is not None and d > self.now), default=None)


def _within(inner: Scope, outer: Scope) -> bool:
    """Is `inner` the same as or narrower than `outer`?"""
    return all(
        o is None or i == o
        for i, o in ((inner.account, outer.account), (inner.strategy, outer.strategy), (inner.symbol, outer.symbol))
    )


def _ended(lockout: Lockout, why: str = "its time is up") -> EndLockout:
    return EndLockout(
        rule=lockout.rule,
        reason=f"lockout by {lockout.rule} on {lockout.scope} ended: {why}",
        scope=lockout.scope,
        locked_by=lockout.rule,
    )
