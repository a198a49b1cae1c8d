"""What the engine asks the shell to do, as data. Imperative names; each carries a stable id.

The id is derived from the engine's event sequence number, the rule and the action's index, so
replaying the same events gives the same ids and an executor can refuse to carry out an id twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from riskguard.core.scope import Scope

__all__ = [
    "Action",
    "AlertLevel",
    "CancelAllOrders",
    "CancelOrder",
    "ClosePosition",
    "EndLockout",
    "Halt",
    "LockOut",
    "MoveStop",
    "RaiseAlert",
    "ReducePosition",
]


class AlertLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """Base of every action: who asked (`rule`), why (`reason`, a sentence), and a stable `id`."""

    id: str = ""
    rule: str
    reason: str

    @property
    def name(self) -> str:
        return _SNAKE[type(self).__name__]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosePosition(Action):
    """Flatten the account's whole position in `symbol` at market (reduce-only)."""

    account: str
    symbol: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReducePosition(Action):
    """Close `qty` of the account's position in `symbol` at market (reduce-only)."""

    account: str
    symbol: str
    qty: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder(Action):
    account: str
    order_id: str
    symbol: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAllOrders(Action):
    """Cancel every working order of the account (in `symbol` only, when given)."""

    account: str
    symbol: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveStop(Action):
    """Move the protective stop of the position to `stop_price`, or place one if none works
    (`order_id` is None then)."""

    account: str
    symbol: str
    stop_price: Decimal
    order_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LockOut(Action):
    """Refuse new risk in `scope` until `until`, or, when `until` is None, until an operator
    resets it. Exits stay allowed."""

    scope: Scope
    until: datetime | None
    code: str = "locked_out"  # the reason code orders get while it is in force


@dataclass(frozen=True, slots=True, kw_only=True)
class EndLockout(Action):
    """A lockout ended (its time passed, its reset came, or an operator cleared it)."""

    scope: Scope
    locked_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Halt(Action):
    """Stop approving anything new in `scope` until an operator resumes it."""

    scope: Scope


@dataclass(frozen=True, slots=True, kw_only=True)
class RaiseAlert(Action):
    level: AlertLevel
    account: str | None = None
    details: dict[str, str] = field(default_factory=dict)


_SNAKE = {
    "ClosePosition": "close_position",
    "ReducePosition": "reduce_position",
    "CancelOrder": "cancel_order",
    "CancelAllOrders": "cancel_all_orders",
    "MoveStop": "move_stop",
    "LockOut": "lock_out",
    "EndLockout": "end_lockout",
    "Halt": "halt",
    "RaiseAlert": "alert",
}
