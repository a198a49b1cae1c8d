"""The JSON event format of recorded days and replays (documented in docs/events.md).

Every line is one object with a ``type``. Numbers that are money, prices or quantities are
strings (``"18000.25"``); integers are accepted, floats are refused. Unknown keys are errors,
so a misspelt ``"fee "`` is reported instead of silently reading as a zero fee.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.errors import InvalidInput
from riskguard.core.events import MarkUpdated
from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument

__all__ = ["EVENT_TYPES", "Event", "parse_event"]

Event = Fill | MarkUpdated | AccountSnapshot | Instrument

_REQUIRED: dict[str, set[str]] = {
    "fill": {"id", "ts", "account", "strategy", "symbol", "side", "qty", "price"},
    "mark": {"ts", "symbol", "price"},
    "account": {"ts", "account", "balance", "equity"},
    "instrument": {"symbol", "tick_size"},
}
_OPTIONAL: dict[str, set[str]] = {
    "fill": {"fee", "order_id"},
    "mark": set(),
    "account": {"margin_used", "can_trade", "currency"},
    "instrument": {"multiplier", "currency", "lot_size"},
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


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Event]] = {
    "fill": _fill,
    "mark": _mark,
    "account": _account,
    "instrument": _instrument,
}
