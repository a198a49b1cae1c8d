"""Facts the engine consumes, besides fills (`fills.Fill`) and account snapshots
(`accounts.AccountSnapshot`): marks, order updates, venue positions, clock ticks and operator
commands. Every event carries its time; the engine never reads a clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from riskguard.core._validate import coerce, require_bool, require_decimal, require_id, require_utc
from riskguard.core.accounts import AccountSnapshot
from riskguard.core.enums import OrderType, Side, _ParsedEnum
from riskguard.core.errors import InvalidInput
from riskguard.core.fills import Fill
from riskguard.core.ledger import FillApplied
from riskguard.core.money import Price, Quantity
from riskguard.core.orders import OrderRequest
from riskguard.core.scope import Scope

__all__ = [
    "ActionFailed",
    "ClockTicked",
    "Event",
    "FillBooked",
    "HaltRequested",
    "InputEvent",
    "MarkUpdated",
    "OperatorCommand",
    "OrderApproved",
    "OrderStatus",
    "OrderUpdated",
    "PauseRequested",
    "PositionReported",
    "ResetRequested",
    "ResumeRequested",
]


@dataclass(frozen=True, slots=True)
class MarkUpdated:
    """A new mark (or last) price for a symbol, as of `ts`."""

    symbol: str
    price: Price
    ts: datetime

    def __post_init__(self) -> None:
        coerce(self, "mark", "symbol", require_id)
        coerce(self, "mark", "price", Price.parse)
        coerce(self, "mark", "ts", require_utc)


class OrderStatus(_ParsedEnum):
    NEW = "new"
    WORKING = "working"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.WORKING)


def _optional_price(field: str, value: object) -> Price | None:
    return None if value is None else Price.parse(field, value)


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """The venue's view of one working order. A stop (or stop-limit) order on the side that
    closes the position is what NoStopLossGrace looks for; `reason` explains a rejection."""

    order_id: str
    account: str
    strategy: str
    symbol: str
    side: Side
    order_type: OrderType
    status: OrderStatus
    qty: Quantity
    ts: datetime
    price: Price | None = None
    stop_price: Price | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        for name in ("order_id", "account", "strategy", "symbol"):
            coerce(self, "order_update", name, require_id)
        coerce(self, "order_update", "side", Side.parse)
        coerce(self, "order_update", "order_type", OrderType.parse)
        coerce(self, "order_update", "status", OrderStatus.parse)
        coerce(self, "order_update", "qty", Quantity.parse)
        coerce(self, "order_update", "ts", require_utc)
        coerce(self, "order_update", "price", _optional_price)
        coerce(self, "order_update", "stop_price", _optional_price)
        if not isinstance(self.reason, str):
            raise InvalidInput("order_update.reason", self.reason, "must be a string")

    @property
    def is_stop(self) -> bool:
        return self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)


@dataclass(frozen=True, slots=True)
class PositionReported:
    """What the venue says the account holds in `symbol` (signed net quantity). `protected`, when
    the daemon's reconciliation after a restart or reconnect has looked, says whether a stop order
    on the closing side is working at the venue (None: not looked)."""

    account: str
    symbol: str
    net_qty: Decimal
    ts: datetime
    protected: bool | None = None

    def __post_init__(self) -> None:
        coerce(self, "position", "account", require_id)
        coerce(self, "position", "symbol", require_id)
        coerce(self, "position", "net_qty", require_decimal)
        coerce(self, "position", "ts", require_utc)
        if self.protected is not None and not isinstance(self.protected, bool):
            raise InvalidInput("position.protected", self.protected, "must be true or false")


@dataclass(frozen=True, slots=True)
class ClockTicked:
    """Time passed: lockouts may end, resets may fall due, grace periods may run out."""

    ts: datetime

    def __post_init__(self) -> None:
        coerce(self, "clock", "ts", require_utc)


def _require_text(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, value, "must be a non-empty text")
    return value


@dataclass(frozen=True, slots=True)
class OperatorCommand:
    """An operator's instruction, with who gave it and why (both go to the audit log)."""

    actor: str
    reason: str
    ts: datetime
    scope: Scope = field(default_factory=Scope)

    def __post_init__(self) -> None:
        coerce(self, "command", "actor", _require_text)
        coerce(self, "command", "reason", _require_text)
        coerce(self, "command", "ts", require_utc)
        if not isinstance(self.scope, Scope):
            raise InvalidInput("command.scope", self.scope, "must be a Scope")


@dataclass(frozen=True, slots=True)
class ResetRequested(OperatorCommand):
    """Clear latched lockouts (of `rule` only, when given) within `scope`, and reset the rule's
    state where the rule allows it (a circuit breaker refuses while its cooldown runs)."""

    rule: str | None = None


@dataclass(frozen=True, slots=True)
class HaltRequested(OperatorCommand):
    """Stop approving new risk in `scope` until resumed. As seed 003's emergency halt it also
    cancels every working order in the scope (`cancel_orders`) and can close every position
    (`flatten`)."""

    cancel_orders: bool = False
    flatten: bool = False

    def __post_init__(self) -> None:
        OperatorCommand.__post_init__(self)
        coerce(self, "halt", "cancel_orders", require_bool)
        coerce(self, "halt", "flatten", require_bool)


@dataclass(frozen=True, slots=True)
class PauseRequested(OperatorCommand):
    """Seed 003's system pause: the operator's "stop everything" — no new risk anywhere until a
    resume — distinct from the kill switch (an automatic reaction to drawdown). Orders and
    positions are left as they are."""


@dataclass(frozen=True, slots=True)
class ResumeRequested(OperatorCommand):
    """Lift the operator halts within `scope`, and the system pause when `scope` is the whole portfolio."""


@dataclass(frozen=True, slots=True)
class ActionFailed:
    """The shell could not carry out an action (after its retries): a close the venue rejected,
    a cancel that timed out. Rules that depend on the action (an emergency close) record it."""

    action_id: str
    rule: str
    action: str
    account: str
    reason: str
    ts: datetime
    symbol: str | None = None

    def __post_init__(self) -> None:
        coerce(self, "action_failed", "action_id", _require_text)
        coerce(self, "action_failed", "rule", require_id)
        coerce(self, "action_failed", "action", require_id)
        coerce(self, "action_failed", "account", require_id)
        coerce(self, "action_failed", "reason", _require_text)
        coerce(self, "action_failed", "ts", require_utc)
        if self.symbol is not None:
            coerce(self, "action_failed", "symbol", require_id)


@dataclass(frozen=True, slots=True)
class FillBooked:
    """A fill as the rules see it: the fill and what it did to the ledger."""

    fill: Fill
    applied: FillApplied

    @property
    def ts(self) -> datetime:
        return self.fill.ts


@dataclass(frozen=True, slots=True)
class OrderApproved:
    """The gate approved `order`: rate limits and duplicate checks count it."""

    order: OrderRequest

    @property
    def ts(self) -> datetime:
        return self.order.ts


#: Everything `RiskEngine.handle` accepts.
InputEvent = (
    Fill
    | MarkUpdated
    | AccountSnapshot
    | OrderUpdated
    | PositionReported
    | ClockTicked
    | OperatorCommand
    | ActionFailed
)
#: What rules' `react` receive: a fill arrives booked, and approvals are events too.
Event = (
    FillBooked
    | MarkUpdated
    | AccountSnapshot
    | OrderUpdated
    | PositionReported
    | ClockTicked
    | OperatorCommand
    | OrderApproved
    | ActionFailed
)
