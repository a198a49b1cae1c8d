"""A `VenueAdapter` for a paper venue in another process (`PaperVenueServer`), over its websocket.

Every call is one request answered by id, so calls run side by side; one left unanswered for
`call_timeout` fails as VenueUnavailable, as a real venue's timeout does. When the socket drops,
the calls in flight fail, `ConnectionChanged(connected=False)` goes on the stream, and the adapter
reconnects on its own (after 0.2 s, doubling to 5 s) and reports ``reconnected``: events sent
while it was away are lost, and the daemon catches up with `fills_since`, as with a real venue.
An error from the server is raised again as the same `VenueError` subclass and call class.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from riskguard.codec import encode_event, parse_event
from riskguard.core.accounts import AccountSnapshot
from riskguard.core.enums import Side
from riskguard.core.errors import InvalidInput
from riskguard.core.events import MarkUpdated, OrderUpdated, PositionReported
from riskguard.core.fills import Fill
from riskguard.core.orders import OrderRequest
from riskguard.venues.base import CallClass, ConnectionChanged, VenueEvent, VenueUnavailable
from riskguard.venues.paper.wire import MalformedMessage, Push, call_class_of, decode_server_message, encode_request

__all__ = ["RemotePaperVenue"]

logger = logging.getLogger(__name__)

_READS = CallClass.ACCOUNT_READS
_FIRST_RETRY, _LAST_RETRY = 0.2, 5.0  # seconds between reconnection attempts
_MAX_MESSAGE = 2**26  # a long day's fills_since fits
_E = TypeVar("_E", Fill, OrderUpdated, PositionReported, MarkUpdated, AccountSnapshot)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Pending(NamedTuple):
    future: asyncio.Future[Any]
    method: str
    call_class: CallClass


class RemotePaperVenue:
    """The paper venue's contract, carried out by a `PaperVenueServer` at `url`."""

    def __init__(self, url: str, name: str = "paper", call_timeout: float = 10.0) -> None:
        self.url = url
        self.name = name
        self.call_timeout = call_timeout
        self._queue: asyncio.Queue[VenueEvent | None] = asyncio.Queue()
        self._socket: ClientConnection | None = None  # None while the link is down
        self._link: asyncio.Task[None] | None = None  # reads, and reconnects after a drop
        self._pending: dict[int, _Pending] = {}
        self._last_id = 0
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._socket is not None

    # -- lifecycle -------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the socket: ConnectionChanged, then the current marks the server sends. Once
        connected, the adapter keeps itself connected until `close`."""
        if self._closed:
            raise VenueUnavailable(f"{self.name}: closed; make a new RemotePaperVenue", _READS)
        if self._link is not None:
            return
        socket = await self._open()
        self._attach(socket, "connected")
        self._link = asyncio.create_task(self._keep_linked(socket), name=f"{self.name}-link")

    async def close(self) -> None:
        """Stop reading and reconnecting, fail the calls in flight, and end `events()`."""
        if self._closed:
            return
        self._closed = True
        link, self._link = self._link, None
        socket, self._socket = self._socket, None
        if link is not None:
            link.cancel()
            await asyncio.gather(link, return_exceptions=True)
        if socket is not None:
            await socket.close()
        self._fail_pending("the adapter was closed")
        self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[VenueEvent]:
        while (event := await self._queue.get()) is not None:
            yield event

    # -- commands --------------------------------------------------------------------------

    async def place_order(self, order: OrderRequest) -> str:
        return _text("place_order", await self.call("place_order", {"order": encode_event(order)}))

    async def close_position(
        self, account: str, symbol: str, qty: Decimal | None = None, *, client_id: str | None = None
    ) -> None:
        params = {"account": account, "symbol": symbol, "qty": qty, "client_id": client_id}
        _nothing("close_position", await self.call("close_position", params))

    async def cancel_order(self, account: str, order_id: str) -> None:
        _nothing("cancel_order", await self.call("cancel_order", {"account": account, "order_id": order_id}))

    async def cancel_all(self, account: str, symbol: str | None = None) -> None:
        _nothing("cancel_all", await self.call("cancel_all", {"account": account, "symbol": symbol}))

    async def place_stop(
        self,
        account: str,
        symbol: str,
        side: Side,
        qty: Decimal,
        stop_price: Decimal,
        *,
        client_id: str | None = None,
    ) -> str:
        params = {
            "account": account,
            "symbol": symbol,
            "side": side,
            "qty": qty,
            "stop_price": stop_price,
            "client_id": client_id,
        }
        return _text("place_stop", await self.call("place_stop", params))

    async def modify_stop(self, account: str, order_id: str, stop_price: Decimal) -> None:
        params = {"account": account, "order_id": order_id, "stop_price": stop_price}
        _nothing("modify_stop", await self.call("modify_stop", params))

    async def schedule_cancel(self, account: str, at: datetime | None) -> None:
        """The dead man's switch: see `PaperVenue.schedule_cancel`."""
        _nothing("schedule_cancel", await self.call("schedule_cancel", {"account": account, "at": at}))

    # -- queries ---------------------------------------------------------------------------

    async def accounts(self) -> list[str]:
        result = await self.call("accounts")
        if not isinstance(result, list) or not all(isinstance(item, str) for item in result):
            raise _bad_answer("accounts", result, "a list of account ids")
        return result

    async def account(self, account: str) -> AccountSnapshot:
        return _event("account", AccountSnapshot, await self.call("account", {"account": account}))

    async def positions(self, account: str) -> list[PositionReported]:
        return _events("positions", PositionReported, await self.call("positions", {"account": account}))

    async def open_orders(self, account: str) -> list[OrderUpdated]:
        return _events("open_orders", OrderUpdated, await self.call("open_orders", {"account": account}))

    async def fills_since(self, account: str, since: datetime) -> list[Fill]:
        return _events("fills_since", Fill, await self.call("fills_since", {"account": account, "since": since}))

    async def last_mark(self, symbol: str) -> MarkUpdated:
        return _event("last_mark", MarkUpdated, await self.call("last_mark", {"symbol": symbol}))

    # -- the wire --------------------------------------------------------------------------

    async def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """Send one request and wait for its answer (JSON, as the server wrote it). The venue
        calls above use it, and so do tests and operators for the server's own methods
        (``faults.set``, ``venue.disconnect``, ``audit.fills`` ...)."""
        call_class = call_class_of(method)
        socket = self._socket
        if socket is None:
            state = "closed" if self._closed else "down"
            raise VenueUnavailable(f"{self.name}: {method} failed: the link to {self.url} is {state}", call_class)
        self._last_id += 1
        request_id = self._last_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = _Pending(future, method, call_class)
        try:
            async with asyncio.timeout(self.call_timeout):
                await socket.send(encode_request(request_id, method, params or {}))
                return await future
        except TimeoutError:
            raise VenueUnavailable(
                f"{self.name}: {method} timed out: no answer from {self.url} within {self.call_timeout:g} s",
                call_class,
            ) from None
        except ConnectionClosed:
            raise VenueUnavailable(
                f"{self.name}: {method} failed: the link to {self.url} dropped", call_class
            ) from None
        finally:
            self._pending.pop(request_id, None)

    async def _open(self) -> ClientConnection:
        try:
            return await connect(
                self.url,
                open_timeout=self.call_timeout,
                close_timeout=2,
                proxy=None,  # loopback: never through a proxy from the environment
                compression=None,
                max_size=_MAX_MESSAGE,
            )
        except InvalidStatus as exc:
            body = (exc.response.body or b"").decode(errors="replace").strip()
            raise VenueUnavailable(
                f"{self.name}: cannot connect to {self.url}: HTTP {exc.response.status_code} {body}".rstrip(), _READS
            ) from None
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise VenueUnavailable(
                f"{self.name}: cannot connect to {self.url}: {exc or type(exc).__name__}", _READS
            ) from None

    async def _keep_linked(self, socket: ClientConnection) -> None:
        """Read until the socket drops, report it, reconnect with backoff, report that; again."""
        while True:
            reason = await self._read(socket)
            self._socket = None
            self._fail_pending(reason)
            self._queue.put_nowait(ConnectionChanged(self.name, False, _utc_now(), reason))
            logger.warning("%s: the link to %s dropped (%s); reconnecting", self.name, self.url, reason)
            socket = await self._reopen()
            self._attach(socket, "reconnected")

    async def _read(self, socket: ClientConnection) -> str:
        """Deliver events and answers until the socket closes; return why it closed."""
        try:
            async for frame in socket:
                self._receive(frame)
        except ConnectionClosed:
            pass
        if socket.close_reason:
            return socket.close_reason
        return f"the link to {self.url} was lost (close code {socket.close_code})"

    async def _reopen(self) -> ClientConnection:
        delay = _FIRST_RETRY
        while True:
            await asyncio.sleep(delay)
            try:
                return await self._open()
            except VenueUnavailable as exc:
                delay = min(delay * 2, _LAST_RETRY)
                logger.info("%s: reconnecting failed (%s); next try in %g s", self.name, exc, delay)

    def _attach(self, socket: ClientConnection, reason: str) -> None:
        self._socket = socket
        self._queue.put_nowait(ConnectionChanged(self.name, True, _utc_now(), reason))

    def _receive(self, frame: str | bytes) -> None:
        try:
            message = decode_server_message(frame)
        except MalformedMessage as exc:
            logger.error("%s: ignored a malformed message from %s: %s", self.name, self.url, exc)
            return
        if isinstance(message, Push):
            self._queue.put_nowait(message.event)
            return
        pending = None if message.id is None else self._pending.pop(message.id, None)
        if pending is None:  # answered after its call timed out, or to a request we could not send
            logger.info("%s: an answer to no waiting call (id %s) was dropped", self.name, message.id)
        elif not pending.future.done():
            if message.error is not None:
                pending.future.set_exception(message.error)
            else:
                pending.future.set_result(message.result)

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for call in pending.values():
            if not call.future.done():
                call.future.set_exception(
                    VenueUnavailable(f"{self.name}: {call.method} failed: {reason}", call.call_class)
                )


# -- answers -----------------------------------------------------------------------------------


def _bad_answer(method: str, result: object, expected: str) -> VenueUnavailable:
    """A server that answers nonsense is as good as down: retryable, counted by the breaker."""
    return VenueUnavailable(f"paper venue: {method} answered {result!r}, not {expected}", call_class_of(method))


def _nothing(method: str, result: object) -> None:
    if result is not None:
        raise _bad_answer(method, result, "null")


def _text(method: str, result: object) -> str:
    if not isinstance(result, str):
        raise _bad_answer(method, result, "an order id")
    return result


def _event(method: str, kind: type[_E], result: object) -> _E:
    try:
        event = parse_event(result)
    except InvalidInput as exc:
        raise _bad_answer(method, result, f"a {kind.__name__} ({exc})") from None
    if not isinstance(event, kind):
        raise _bad_answer(method, result, f"a {kind.__name__}")
    return event


def _events(method: str, kind: type[_E], result: object) -> list[_E]:
    if not isinstance(result, list):
        raise _bad_answer(method, result, f"a list of {kind.__name__}")
    return [_event(method, kind, item) for item in result]
