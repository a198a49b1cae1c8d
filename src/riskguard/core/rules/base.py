"""What every rule is made of, and the read-only view of the engine's state it is given.

A rule is a small class with typed, frozen `Params`, an explicit immutable state, and pure
methods: `check` (the pre-trade gate) and `react` (after an event), both taking the time from
the view, never from a clock. Rules ask for lockouts and closes by returning actions; the engine
keeps lockouts and timers (`core/lockouts.py`, `core/schedule.py`) and assigns action ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import Action, AlertLevel, CancelAllOrders, ClosePosition, LockOut, RaiseAlert
from riskguard.core.decisions import ALLOW, Verdict
from riskguard.core.enums import Side
from riskguard.core.headroom import Headroom
from riskguard.core.instruments import Instrument
from riskguard.core.ledger import Ledger, Mark
from riskguard.core.lockouts import Lockout, LockoutBook
from riskguard.core.orders import OrderRequest
from riskguard.core.positions import ZERO, Position
from riskguard.core.scope import Scope
from riskguard.core.working_orders import WorkingOrders

if TYPE_CHECKING:
    from riskguard.core.events import Event

__all__ = ["AccountView", "Enforcement", "Rule", "RuleParams", "breach_actions"]

P = TypeVar("P", bound="RuleParams")
S = TypeVar("S")
T = TypeVar("T")


class Enforcement(StrEnum):
    """What a breach does. Exits are never blocked, so "reduce-only" is `block_entries`."""

    ALERT = "alert"  # tell someone; change nothing
    BLOCK_ENTRIES = "block_entries"  # refuse new risk in the scope until the lockout ends
    CANCEL_ORDERS = "cancel_orders"  # cancel working orders and refuse new risk
    FLATTEN = "flatten"  # close positions and cancel orders, no lockout
    FLATTEN_AND_LOCK = "flatten_and_lock"  # close, cancel and refuse new risk


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleParams:
    """Fields every rule has. Unknown keys in a config are refused (see riskguard.config)."""

    __pydantic_config__: ClassVar[Mapping[str, Any]] = {"extra": "forbid"}

    enabled: bool = True  # false: configured but off (it neither checks nor reacts)
    latch: bool = False  # true: its lockouts never end by themselves, only by an operator's reset


class AccountView:
    """The engine's state as a rule may read it, at `now`.

    A view lives for one check or one event, while nothing changes, so it remembers each
    account's open positions the first time a rule asks: twenty rules asking costs one scan
    (and the memory is dropped if the ledger changes under it)."""

    __slots__ = (
        "_held",
        "_memo",
        "_pool",
        "_version",
        "accounts",
        "instruments",
        "ledger",
        "lockouts",
        "now",
        "orders",
        "venue_positions",
    )

    def __init__(
        self,
        now: datetime,
        ledger: Ledger,
        accounts: Mapping[str, AccountSnapshot],
        orders: WorkingOrders,
        instruments: Mapping[str, Instrument],
        lockouts: LockoutBook,
        venue_positions: Mapping[tuple[str, str], Decimal],
    ) -> None:
        self.now = now
        self.ledger = ledger
        self.accounts = accounts
        self.orders = orders
        self.instruments = instruments
        self.lockouts = lockouts
        self.venue_positions = venue_positions
        self._held: dict[str, tuple[list[Position], dict[str, Decimal]]] = {}
        self._pool: list[Position] | None = None
        self._memo: dict[tuple[object, ...], object] = {}
        self._version = ledger.version

    def _forget_if_moved(self) -> None:
        if self._version != self.ledger.version:  # the ledger moved on (tests drive one view through fills)
            self._held.clear()
            self._pool = None
            self._memo.clear()
            self._version = self.ledger.version

    def remembered(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """`compute()`, once per view (and ledger state) for `key`: what several rules derive
        from the same positions and marks, such as an account's exposure, is worked out once."""
        self._forget_if_moved()
        if key in self._memo:
            return self._memo[key]  # type: ignore[return-value]
        value = self._memo[key] = compute()
        return value

    def _account_book(self, account: str) -> tuple[list[Position], dict[str, Decimal]]:
        """The account's open positions, and its net quantity per symbol (symbols in first-seen order)."""
        self._forget_if_moved()
        book = self._held.get(account)
        if book is None:
            positions = self.ledger.open_positions(account=account)
            net: dict[str, Decimal] = {}
            for position in positions:
                net[position.symbol] = net.get(position.symbol, ZERO) + position.net_qty
            book = self._held[account] = (positions, net)
        return book

    def account(self, account: str) -> AccountSnapshot | None:
        return self.accounts.get(account)

    def account_ids(self) -> list[str]:
        """Every account the engine knows, from account updates or fills, in first-seen order."""
        known = dict.fromkeys(self.accounts)
        known.update(dict.fromkeys(key.account for key in self.ledger.position_keys()))
        return list(known)

    def all_positions(self) -> list[Position]:
        """Every account's open positions, in the ledger's order (portfolio-wide rules)."""
        self._forget_if_moved()
        if self._pool is None:
            self._pool = self.ledger.open_positions()
        return list(self._pool)

    def positions(self, account: str, symbol: str | None = None) -> list[Position]:
        positions = self._account_book(account)[0]
        return list(positions) if symbol is None else [p for p in positions if p.symbol == symbol]

    def net_qty(self, account: str, symbol: str) -> Decimal:
        """The account's net position in `symbol`, over all its strategies (what the venue shows)."""
        return self._account_book(account)[1].get(symbol, ZERO)

    def symbols_held(self, account: str) -> list[str]:
        """Symbols in which the account holds a position (any strategy), in first-seen order."""
        return [symbol for symbol, _ in self._account_book(account)[1].items()]

    def mark(self, symbol: str) -> Mark | None:
        return self.ledger.last_mark(symbol)

    def reduces_position(self, order: OrderRequest) -> bool:
        """Does `order` only take risk off? Reduce-only against an open position, or on the
        closing side and no larger than the account's net position in the symbol."""
        held = self.net_qty(order.account, order.symbol)
        if held == 0:
            return False
        closing_side = Side.SELL if held > 0 else Side.BUY
        if order.side is not closing_side:
            return False
        return order.reduce_only or order.qty <= abs(held)


class Rule(Generic[P, S]):
    """Base class: subclasses set `name`, `Params`, and override what they take part in."""

    name: ClassVar[str]
    gate: ClassVar[bool] = False  # takes part in the pre-trade gate
    reactive: ClassVar[bool] = False  # reacts to events

    def __init__(self, params: P) -> None:
        self.params = params

    def initial_state(self) -> S:
        return None  # type: ignore[return-value]

    def check(self, order: OrderRequest, view: AccountView, state: S) -> Verdict:
        return ALLOW

    def react(self, event: Event, view: AccountView, state: S) -> tuple[S, Sequence[Action]]:
        return state, ()

    def refuses_reset(self, view: AccountView, state: S, lockout: Lockout) -> str | None:
        """Why an operator may not clear `lockout`, one of this rule's, now (None: they may)."""
        return None

    def next_deadline(self, view: AccountView, state: S) -> datetime | None:
        """When this rule next needs a clock tick (a grace period ends, a reset falls due)."""
        return None

    def headroom(self, view: AccountView, state: S) -> Sequence[Headroom]:
        """How much of each of this rule's limits is used now, for every account and scope it
        watches (core/headroom.py). Rules that judge each order alone report nothing."""
        return ()


def breach_actions(
    rule: str,
    enforcement: Enforcement,
    view: AccountView,
    account: str,
    reason: str,
    until: datetime | None,
    *,
    symbol: str | None = None,
    scope: Scope | None = None,
) -> list[Action]:
    """The actions of one breach, all together (seed 001: close + cancel + lock in one step),
    always with a critical alert first so the log says why before anything is done."""
    actions: list[Action] = [RaiseAlert(rule=rule, reason=reason, level=AlertLevel.CRITICAL, account=account)]
    if enforcement is Enforcement.ALERT:
        return actions
    if enforcement in (Enforcement.FLATTEN, Enforcement.FLATTEN_AND_LOCK):
        for held in [symbol] if symbol is not None else view.symbols_held(account):
            if view.net_qty(account, held) != 0:
                actions.append(ClosePosition(rule=rule, reason=reason, account=account, symbol=held))
    if enforcement is not Enforcement.BLOCK_ENTRIES:
        actions.append(CancelAllOrders(rule=rule, reason=reason, account=account, symbol=symbol))
    if enforcement in (Enforcement.BLOCK_ENTRIES, Enforcement.CANCEL_ORDERS, Enforcement.FLATTEN_AND_LOCK):
        actions.append(LockOut(rule=rule, reason=reason, scope=scope or Scope(account=account), until=until))
    return actions
