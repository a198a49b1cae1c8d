"""The paper venue's wire protocol: JSON text frames between `PaperVenueServer` and `RemotePaperVenue`.

A request is ``{"id": int, "method": str, "params": {...}}``; its answer is ``{"id": int, "result":
...}`` or ``{"id": int, "error": {"kind": ..., "call_class": ..., "message": ...}}``, where `kind`
names the `VenueError` subclass (``rate_limited``, ``unavailable``, ``rejected``), so the daemon's
retries and breakers treat a remote venue as they treat an in-process one. The server also pushes
``{"event": <codec.encode_event(...)>}``. Money, prices and quantities are strings (floats are
refused, as in the codec), times ISO 8601 UTC, enums their value. Unknown keys are errors: a
misspelt parameter is reported, never silently ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple, TypeVar

from riskguard.codec import encode_event, parse_event
from riskguard.core._validate import require_decimal, require_utc
from riskguard.core.accounts import AccountSnapshot
from riskguard.core.enums import Side
from riskguard.core.errors import InvalidInput
from riskguard.core.events import MarkUpdated, OrderUpdated, PositionReported
from riskguard.core.fills import Fill
from riskguard.core.orders import OrderRequest
from riskguard.venues.base import (
    CallClass,
    OrderNotWorking,
    OrderRejected,
    RateLimited,
    VenueError,
    VenueEvent,
    VenueUnavailable,
)

__all__ = [
    "CALL_CLASSES",
    "MalformedMessage",
    "Params",
    "Push",
    "Request",
    "Response",
    "call_class_of",
    "decode_error",
    "decode_request",
    "decode_server_message",
    "encode_error",
    "encode_push",
    "encode_request",
    "encode_response",
    "to_wire",
]

#: The breaker each venue call counts toward; operator and audit methods count as order submission.
CALL_CLASSES: dict[str, CallClass] = {
    **dict.fromkeys(
        ("place_order", "close_position", "cancel_order", "cancel_all", "place_stop", "modify_stop", "schedule_cancel"),
        CallClass.ORDER_SUBMISSION,
    ),
    **dict.fromkeys(("accounts", "account", "positions", "open_orders", "fills_since"), CallClass.ACCOUNT_READS),
    "last_mark": CallClass.PRICE_READS,
}
_KINDS: tuple[tuple[str, type[VenueError]], ...] = (  # the most specific first
    ("rate_limited", RateLimited),
    ("not_working", OrderNotWorking),
    ("unavailable", VenueUnavailable),
    ("rejected", OrderRejected),
)
_VENUE_EVENTS = (Fill, OrderUpdated, PositionReported, MarkUpdated, AccountSnapshot)


class MalformedMessage(ValueError):
    """A frame that does not follow the protocol. `request_id` is the request's id when it could
    be read, so the error can still be answered to the right call."""

    def __init__(self, problem: str, request_id: int | None = None) -> None:
        super().__init__(problem)
        self.request_id = request_id


class Request(NamedTuple):
    id: int
    method: str
    params: dict[str, Any]


class Response(NamedTuple):
    """An answer: `error` is None on success. `id` is None when the request's id was unreadable."""

    id: int | None
    result: Any
    error: VenueError | None


class Push(NamedTuple):
    event: VenueEvent


def call_class_of(method: str) -> CallClass:
    return CALL_CLASSES.get(method, CallClass.ORDER_SUBMISSION)


def to_wire(value: Any) -> Any:
    """A parameter or result as JSON: Decimals as strings, aware times in UTC with a Z, enums by
    value. A naive time is sent as it is, for the server to refuse as the venue would."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat()
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): to_wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} over the paper venue wire")


# -- frames ------------------------------------------------------------------------------------


def encode_request(request_id: int, method: str, params: Mapping[str, Any]) -> str:
    return _dump({"id": request_id, "method": method, "params": to_wire(params)})


def encode_response(request_id: int, result: Any) -> str:
    return _dump({"id": request_id, "result": to_wire(result)})


def encode_error(request_id: int | None, error: VenueError) -> str:
    """The error's subclass as its kind; a bare VenueError goes as ``unavailable`` (retryable)."""
    kind = next((name for name, cls in _KINDS if isinstance(error, cls)), "unavailable")
    body = {"kind": kind, "call_class": error.call_class.value, "message": str(error)}
    return _dump({"id": request_id, "error": body})


def encode_push(event: VenueEvent) -> str:
    if not isinstance(event, _VENUE_EVENTS):
        raise TypeError(f"a {type(event).__name__} is not pushed over the wire")
    return _dump({"event": encode_event(event)})


def decode_request(frame: str | bytes) -> Request:
    """A request, or MalformedMessage naming what is wrong with it."""
    obj = _object(frame)
    request_id = obj.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, int):
        raise MalformedMessage(f"request id was {request_id!r}: must be an integer")
    _only(obj, {"id", "method", "params"}, "request", request_id)
    method, params = obj.get("method"), obj.get("params", {})
    if not isinstance(method, str) or not method:
        raise MalformedMessage(f"request method was {method!r}: must be a method name", request_id)
    if not isinstance(params, dict):
        raise MalformedMessage(f"{method}: params was {params!r}: must be a JSON object", request_id)
    return Request(request_id, method, params)


def decode_server_message(frame: str | bytes) -> Response | Push:
    """A response or a pushed event, or MalformedMessage naming what is wrong."""
    obj = _object(frame)
    if "event" in obj:
        _only(obj, {"event"}, "push")
        try:
            event = parse_event(obj["event"])
        except InvalidInput as exc:
            raise MalformedMessage(f"pushed event: {exc}") from None
        if not isinstance(event, _VENUE_EVENTS):
            raise MalformedMessage(f"pushed event: a {type(event).__name__} is not a venue event")
        return Push(event)
    request_id = obj.get("id")
    if request_id is not None and (isinstance(request_id, bool) or not isinstance(request_id, int)):
        raise MalformedMessage(f"response id was {request_id!r}: must be an integer or null")
    if "error" in obj:
        _only(obj, {"id", "error"}, "error response", request_id)
        return Response(request_id, None, decode_error(obj["error"]))
    if "result" in obj:
        _only(obj, {"id", "result"}, "response", request_id)
        return Response(request_id, obj["result"], None)
    raise MalformedMessage(f"message has none of event, result, error (keys: {', '.join(sorted(obj))})", request_id)


def decode_error(obj: object) -> VenueError:
    """The VenueError an error body stands for, with its call class."""
    if not isinstance(obj, dict):
        raise MalformedMessage(f"error was {obj!r}: must be a JSON object")
    _only(obj, {"kind", "call_class", "message"}, "error")
    kinds = dict(_KINDS)
    kind, call_class, message = obj.get("kind"), obj.get("call_class"), obj.get("message")
    if kind not in kinds:
        raise MalformedMessage(f"error.kind was {kind!r}: must be one of: {', '.join(kinds)}")
    if call_class not in {c.value for c in CallClass}:
        raise MalformedMessage(f"error.call_class was {call_class!r}: must be one of: {', '.join(CallClass)}")
    if not isinstance(message, str):
        raise MalformedMessage(f"error.message was {message!r}: must be a string")
    return kinds[kind](message, CallClass(call_class))


def _dump(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _object(frame: str | bytes) -> dict[str, Any]:
    if not isinstance(frame, str):
        raise MalformedMessage("binary frame: the paper venue speaks JSON in text frames")
    try:
        obj = json.loads(frame)
    except json.JSONDecodeError as exc:
        raise MalformedMessage(f"not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(obj, dict):
        raise MalformedMessage(f"message was {type(obj).__name__}: must be a JSON object")
    return obj


def _only(obj: Mapping[str, Any], allowed: set[str], what: str, request_id: int | None = None) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise MalformedMessage(
            f"{what}: {unknown[0]!r} is not a {what} key (allowed: {', '.join(sorted(allowed))})", request_id
        )


# -- parameters --------------------------------------------------------------------------------

_MISSING = object()
_T = TypeVar("_T")


class Params:
    """A request's parameters, read one typed value at a time; `end` refuses any left unread.
    Every problem raises MalformedMessage naming the method and the parameter."""

    def __init__(self, method: str, params: Mapping[str, Any]) -> None:
        self.method = method
        self._unread = dict(params)

    def text(self, name: str) -> str:
        return self._text(name, self._required(name))

    def optional_text(self, name: str) -> str | None:
        value = self._optional(name)
        return None if value is None else self._text(name, value)

    def decimal(self, name: str) -> Decimal:
        return self._decimal(name, self._required(name))

    def optional_decimal(self, name: str) -> Decimal | None:
        value = self._optional(name)
        return None if value is None else self._decimal(name, value)

    def utc(self, name: str) -> datetime:
        return self._utc(name, self._required(name))

    def optional_utc(self, name: str) -> datetime | None:
        value = self._optional(name)
        return None if value is None else self._utc(name, value)

    def side(self, name: str) -> Side:
        return self._parsed(name, self._required(name), Side.parse)

    def order(self, name: str) -> OrderRequest:
        """An order as `codec.encode_event` writes it (``"type": "order"``)."""
        value = self._required(name)
        try:
            event = parse_event(value)
        except InvalidInput as exc:
            raise MalformedMessage(f"{self.method}: params.{name}: {exc}") from None
        if not isinstance(event, OrderRequest):
            raise self._bad(name, type(event).__name__, "must be an order (an event of type order)")
        return event

    def optional_count(self, name: str) -> int | None:
        value = self._optional(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._bad(name, value, "must be a whole number, 0 or more")
        return value

    def optional_seconds(self, name: str) -> float | None:
        value = self._optional(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 86_400:
            raise self._bad(name, value, "must be a number of seconds, 0 or more and under a day")
        return float(value)

    def optional_bool(self, name: str) -> bool | None:
        value = self._optional(name)
        if value is not None and not isinstance(value, bool):
            raise self._bad(name, value, "must be true or false")
        return value

    def optional_choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        value = self._optional(name)
        if value is None:
            return None
        if not isinstance(value, str) or value not in choices:
            raise self._bad(name, value, f"must be one of: {', '.join(choices)}")
        return value

    def optional_counts(self, name: str, keys: tuple[str, ...]) -> dict[str, int] | None:
        """An object of whole numbers keyed by `keys`, such as ``{"account_reads": 3}``."""
        value = self._optional(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._bad(name, value, f"must be an object such as {{{keys[0]!r}: 1}}")
        for key, count in value.items():
            if key not in keys:
                raise self._bad(f"{name}.{key}", count, f"is not a key here (allowed: {', '.join(keys)})")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise self._bad(f"{name}.{key}", count, "must be a whole number, 0 or more")
        return dict(value)

    def end(self) -> None:
        """Refuse parameters the method does not take."""
        if self._unread:
            name = sorted(self._unread)[0]
            raise MalformedMessage(f"{self.method}: params.{name} is not a parameter of {self.method}")

    def _required(self, name: str) -> Any:
        value = self._unread.pop(name, _MISSING)
        if value is _MISSING or value is None:
            raise MalformedMessage(f"{self.method}: params.{name} is required")
        return value

    def _optional(self, name: str) -> Any:
        return self._unread.pop(name, None)

    def _text(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise self._bad(name, value, "must be a non-empty string")
        return value

    def _decimal(self, name: str, value: Any) -> Decimal:
        return self._parsed(name, value, require_decimal)

    def _utc(self, name: str, value: Any) -> datetime:
        if not isinstance(value, str):
            raise self._bad(name, value, "must be an ISO 8601 time such as 2026-03-06T14:30:00Z")
        return self._parsed(name, value, require_utc)

    def _parsed(self, name: str, value: Any, parse: Callable[[str, object], _T]) -> _T:
        try:
            return parse(f"params.{name}", value)
        except InvalidInput as exc:
            raise MalformedMessage(f"{self.method}: {exc}") from None

    def _bad(self, name: str, value: object, problem: str) -> MalformedMessage:
        return MalformedMessage(f"{self.method}: params.{name} was {value!r}: {problem}")
