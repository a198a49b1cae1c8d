"""The JSON event format of recorded days and replays (documented in docs/events.md).

Every line is one object with a ``type``. Numbers that are money, prices or quantities are
strings (``"18000.25"``); integers are accepted, floats are refused. Unknown keys are errors,
so a misspelt ``"fee "`` is reported instead of silently reading as a zero fee.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any, get_args, get_type_hints

from riskguard.audit._format import to_jsonable
from riskguard.core._validate import require_decimal, require_id, require_utc
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
from riskguard.core.errors import InvalidInput
from riskguard.core.events import (
    ActionFailed,
    ClockTicked,
    HaltRequested,
    MarkUpdated,
    OperatorCommand,
    OrderUpdated,
    PauseRequested,
    PositionReported,
    ResetRequested,
    ResumeRequested,
)
from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.core.orders import OrderRequest
from riskguard.core.scope import Scope

__all__ = ["EVENT_TYPES", "Event", "decode_action", "encode_action", "encode_event", "parse_event"]

Event = (
    Fill
    | MarkUpdated
    | AccountSnapshot
    | Instrument
    | OrderRequest
    | OrderUpdated
    | PositionReported
    | ClockTicked
    | ResetRequested
    | HaltRequested
    | PauseRequested
    | ResumeRequested
    | ActionFailed
)
_SCOPE = {"account", "strategy", "symbol"}

_REQUIRED: dict[str, set[str]] = {
    "fill": {"id", "ts", "account", "strategy", "symbol", "side", "qty", "price"},
    "mark": {"ts", "symbol", "price"},
    "account": {"ts", "account", "balance", "equity"},
    "instrument": {"symbol", "tick_size"},
    "order": {"id", "ts", "account", "strategy", "symbol", "side", "order_type", "qty"},
    "order_update": {"id", "ts", "account", "strategy", "symbol", "side", "order_type", "status", "qty"},
    "position": {"ts", "account", "symbol", "net_qty"},
    "clock": {"ts"},
    "reset": {"ts", "actor", "reason"},
    "halt": {"ts", "actor", "reason"},
    "pause": {"ts", "actor", "reason"},
    "resume": {"ts", "actor", "reason"},
    "action_failed": {"ts", "action_id", "rule", "action", "account", "reason"},
}
_OPTIONAL: dict[str, set[str]] = {
    "fill": {"fee", "order_id"},
    "mark": set(),
    "account": {"margin_used", "can_trade", "currency"},
    "instrument": {"multiplier", "currency", "lot_size"},
    "order": {"price", "stop_price", "reduce_only", "stop_loss", "take_profit"},
    "order_update": {"price", "stop_price", "reason"},
    "position": {"protected"},
    "clock": set(),
    "reset": {"rule", *_SCOPE},
    "halt": {"cancel_orders", "flatten", *_SCOPE},
    "pause": set(),
    "resume": set(_SCOPE),
    "action_failed": {"symbol"},
}
EVENT_TYPES = tuple(_REQUIRED)


def parse_event(obj: object) -> Event:
    """Turn one decoded JSON object into a domain event, or raise InvalidInput naming the key."""
    if not isinstance(obj, Mapping):
        raise InvalidInput("event", obj, "must be a JSON object")
    kind = obj.get("type")
    if kind not in _REQUIRED:
        raise InvalidInput("type", kind, f"must be one of: {', '.join(EVENT_TYPES)}")
    keys = set(obj) - {"type"}
    missing = sorted(_REQUIRED[kind] - keys)
    if missing:
        raise InvalidInput(f"{kind}.{missing[0]}", None, "is required")
    unknown = sorted(keys - _REQUIRED[kind] - _OPTIONAL[kind])
    if unknown:
        allowed = ", ".join(sorted(_REQUIRED[kind] | _OPTIONAL[kind]))
        raise InvalidInput(f"{kind}.{unknown[0]}", obj[unknown[0]], f"is not a {kind} field (allowed: {allowed})")
    builder: Callable[[Mapping[str, Any]], Event] = _BUILDERS[kind]
    return builder(obj)


def _fill(o: Mapping[str, Any]) -> Fill:
    return Fill(
        fill_id=o["id"],
        order_id=o.get("order_id", o["id"]),
        account=o["account"],
        strategy=o["strategy"],
        symbol=o["symbol"],
        side=o["side"],
        qty=o["qty"],
        price=o["price"],
        ts=o["ts"],
        fee=o.get("fee", "0"),
    )


def _mark(o: Mapping[str, Any]) -> MarkUpdated:
    return MarkUpdated(symbol=o["symbol"], price=o["price"], ts=o["ts"])


def _account(o: Mapping[str, Any]) -> AccountSnapshot:
    return AccountSnapshot(
        account=o["account"],
        balance=o["balance"],
        equity=o["equity"],
        ts=o["ts"],
        margin_used=o.get("margin_used", "0"),
        can_trade=o.get("can_trade", True),
        currency=o.get("currency", "USD"),
    )


def _instrument(o: Mapping[str, Any]) -> Instrument:
    return Instrument(
        symbol=o["symbol"],
        tick_size=o["tick_size"],
        multiplier=o.get("multiplier", "1"),
        currency=o.get("currency", "USD"),
        lot_size=o.get("lot_size", "1"),
    )


def _order(o: Mapping[str, Any]) -> OrderRequest:
    return OrderRequest(
        order_id=o["id"],
        account=o["account"],
        strategy=o["strategy"],
        symbol=o["symbol"],
        side=o["side"],
        order_type=o["order_type"],
        qty=o["qty"],
        ts=o["ts"],
        price=o.get("price"),
        stop_price=o.get("stop_price"),
        reduce_only=o.get("reduce_only", False),
        stop_loss=o.get("stop_loss"),
        take_profit=o.get("take_profit"),
    )


def _order_update(o: Mapping[str, Any]) -> OrderUpdated:
    return OrderUpdated(
        order_id=o["id"],
        account=o["account"],
        strategy=o["strategy"],
        symbol=o["symbol"],
        side=o["side"],
        order_type=o["order_type"],
        status=o["status"],
        qty=o["qty"],
        ts=o["ts"],
        price=o.get("price"),
        stop_price=o.get("stop_price"),
        reason=o.get("reason", ""),
    )


def _position(o: Mapping[str, Any]) -> PositionReported:
    return PositionReported(
        account=o["account"], symbol=o["symbol"], net_qty=o["net_qty"], ts=o["ts"], protected=o.get("protected")
    )


def _clock(o: Mapping[str, Any]) -> ClockTicked:
    return ClockTicked(ts=o["ts"])


def _scope(o: Mapping[str, Any]) -> Scope:
    for key in sorted(_SCOPE):
        if key in o:
            require_id(key, o[key])
    return Scope(o.get("account"), o.get("strategy"), o.get("symbol"))


def _reset(o: Mapping[str, Any]) -> ResetRequested:
    if "rule" in o:
        require_id("reset.rule", o["rule"])
    return ResetRequested(actor=o["actor"], reason=o["reason"], ts=o["ts"], scope=_scope(o), rule=o.get("rule"))


def _halt(o: Mapping[str, Any]) -> HaltRequested:
    return HaltRequested(
        actor=o["actor"],
        reason=o["reason"],
        ts=o["ts"],
        scope=_scope(o),
        cancel_orders=o.get("cancel_orders", False),
        flatten=o.get("flatten", False),
    )


def _pause(o: Mapping[str, Any]) -> PauseRequested:
    return PauseRequested(actor=o["actor"], reason=o["reason"], ts=o["ts"])


def _resume(o: Mapping[str, Any]) -> ResumeRequested:
    return ResumeRequested(actor=o["actor"], reason=o["reason"], ts=o["ts"], scope=_scope(o))


def _action_failed(o: Mapping[str, Any]) -> ActionFailed:
    return ActionFailed(
        action_id=o["action_id"],
        rule=o["rule"],
        action=o["action"],
        account=o["account"],
        reason=o["reason"],
        ts=o["ts"],
        symbol=o.get("symbol"),
    )


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Event]] = {
    "fill": _fill,
    "mark": _mark,
    "account": _account,
    "instrument": _instrument,
    "order": _order,
    "order_update": _order_update,
    "position": _position,
    "clock": _clock,
    "reset": _reset,
    "halt": _halt,
    "pause": _pause,
    "resume": _resume,
    "action_failed": _action_failed,
}


_KINDS: dict[type, str] = {
    Fill: "fill",
    MarkUpdated: "mark",
    AccountSnapshot: "account",
    Instrument: "instrument",
    OrderRequest: "order",
    OrderUpdated: "order_update",
    PositionReported: "position",
    ClockTicked: "clock",
    ResetRequested: "reset",
    HaltRequested: "halt",
    PauseRequested: "pause",
    ResumeRequested: "resume",
    ActionFailed: "action_failed",
}
_RENAMED = {(Fill, "fill_id"): "id", (OrderRequest, "order_id"): "id", (OrderUpdated, "order_id"): "id"}


def encode_event(event: Event | OperatorCommand) -> dict[str, Any]:
    """The JSON object `parse_event` reads back as an equal event (the daemon's journal uses it).
    Absent optional values (None) are left out; a scope is written as its account, strategy and
    symbol keys."""
    kind = _KINDS[type(event)]
    record: dict[str, Any] = {"type": kind}
    for item in fields(event):
        value = getattr(event, item.name)
        if isinstance(value, Scope):
            record.update(
                {
                    k: v
                    for k, v in (("account", value.account), ("strategy", value.strategy), ("symbol", value.symbol))
                    if v is not None
                }
            )
        elif value is not None:
            record[_RENAMED.get((type(event), item.name), item.name)] = to_jsonable(value)
    return record


_ACTIONS: dict[str, type[Action]] = {
    cls.__name__: cls
    for cls in (
        ClosePosition,
        ReducePosition,
        CancelOrder,
        CancelAllOrders,
        MoveStop,
        LockOut,
        EndLockout,
        Halt,
        RaiseAlert,
    )
}


def encode_action(action: Action) -> dict[str, Any]:
    """An action as a JSON object, every field kept (a scope as an object): `decode_action` reads it back."""
    record: dict[str, Any] = {"type": type(action).__name__}
    for item in fields(action):
        value = getattr(action, item.name)
        record[item.name] = (
            {"account": value.account, "strategy": value.strategy, "symbol": value.symbol}
            if isinstance(value, Scope)
            else to_jsonable(value)
        )
    return record


def decode_action(record: Mapping[str, Any]) -> Action:
    """The action `encode_action` wrote; raises InvalidInput for an unknown type or field."""
    cls = _ACTIONS.get(record.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise InvalidInput("action.type", record.get("type"), f"must be one of: {', '.join(_ACTIONS)}")
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in record.items():
        if key == "type":
            continue
        if key not in hints:
            raise InvalidInput(f"action.{key}", value, f"is not a field of {cls.__name__}")
        values[key] = _typed(hints[key], value)
    return cls(**values)


def _typed(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if hint is Scope:
        return Scope(value.get("account"), value.get("strategy"), value.get("symbol"))
    options = get_args(hint) or (hint,)
    if Decimal in options:
        return require_decimal("action", value)
    if datetime in options:
        return require_utc("action", datetime.fromisoformat(value))
    if AlertLevel in options:
        return AlertLevel(value)
    return value
