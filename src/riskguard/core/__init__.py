"""riskguard's functional core: domain values, the position ledger, the rules and the engine.

Nothing here does I/O or reads the wall clock; time arrives as data.
"""

from __future__ import annotations

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import (
    Action,
    AlertLevel,
    CancelAllOrders,
    CancelOrder,
    ClosePosition,
    EndLockout,
    Halt,
    LockOut,
    MoveStop,
    RaiseAlert,
    ReducePosition,
)
from riskguard.core.decisions import ALLOW, Allow, Decision, Deny, Verdict
from riskguard.core.engine import EngineHalt, RiskEngine
from riskguard.core.enums import OrderType, PositionChange, PositionSide, Side
from riskguard.core.errors import (
    AuditChainBroken,
    AuditError,
    AuditLogLocked,
    ConflictingFill,
    CurrencyMismatch,
    InvalidInput,
    InvariantViolation,
    RiskguardError,
    UnknownInstrument,
)
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
    OrderStatus,
    OrderUpdated,
    PauseRequested,
    PositionReported,
    ResetRequested,
    ResumeRequested,
)
from riskguard.core.fills import Fill
from riskguard.core.headroom import Headroom
from riskguard.core.instruments import Instrument
from riskguard.core.ledger import FillApplied, Ledger, LedgerTotals, Mark
from riskguard.core.lockouts import Lockout, LockoutBook
from riskguard.core.money import Money, Price, Quantity
from riskguard.core.orders import OrderRequest
from riskguard.core.positions import Position, PositionKey
from riskguard.core.rules import RULES, AccountView, Enforcement, Rule, RuleParams
from riskguard.core.schedule import ResetSchedule, parse_time_of_day, require_timezone
from riskguard.core.scope import Scope, ScopeKind
from riskguard.core.working_orders import WorkingOrders

__all__ = [
    "ALLOW",
    "RULES",
    "AccountSnapshot",
    "AccountView",
    "Action",
    "ActionFailed",
    "AlertLevel",
    "Allow",
    "AuditChainBroken",
    "AuditError",
    "AuditLogLocked",
    "CancelAllOrders",
    "CancelOrder",
    "ClockTicked",
    "ClosePosition",
    "ConflictingFill",
    "CurrencyMismatch",
    "Decision",
    "Deny",
    "EndLockout",
    "Enforcement",
    "EngineHalt",
    "Event",
    "Fill",
    "FillApplied",
    "FillBooked",
    "Halt",
    "HaltRequested",
    "Headroom",
    "InputEvent",
    "Instrument",
    "InvalidInput",
    "InvariantViolation",
    "Ledger",
    "LedgerTotals",
    "LockOut",
    "Lockout",
    "LockoutBook",
    "Mark",
    "MarkUpdated",
    "Money",
    "MoveStop",
    "OperatorCommand",
    "OrderApproved",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "OrderUpdated",
    "PauseRequested",
    "Position",
    "PositionChange",
    "PositionKey",
    "PositionReported",
    "PositionSide",
    "Price",
    "Quantity",
    "RaiseAlert",
    "ReducePosition",
    "ResetRequested",
    "ResetSchedule",
    "ResumeRequested",
    "RiskEngine",
    "RiskguardError",
    "Rule",
    "RuleParams",
    "Scope",
    "ScopeKind",
    "Side",
    "UnknownInstrument",
    "Verdict",
    "WorkingOrders",
    "parse_time_of_day",
    "require_timezone",
]
