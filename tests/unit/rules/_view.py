"""Build an AccountView for rule tests without an engine: fills, marks, accounts and orders in, view out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from riskguard.core import (
    AccountSnapshot,
    AccountView,
    Fill,
    Instrument,
    Ledger,
    LockoutBook,
    OrderRequest,
    OrderUpdated,
    WorkingOrders,
)
from riskguard.core.events import FillBooked
from riskguard.testing.factories import BTC_PERP, ES, MNQ, T0

INSTRUMENTS = (MNQ, ES, BTC_PERP)


def at(seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0) -> datetime:
    """T0 (2026-03-06 14:30 UTC, a Friday, 09:30 New York) plus an offset."""
    return T0 + timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)


def account(
    account_id: str = "A1",
    balance: str = "50000",
    equity: str | None = None,
    *,
    can_trade: bool = True,
    ts: datetime = T0,
) -> AccountSnapshot:
    return AccountSnapshot(account_id, balance, equity or balance, ts, can_trade=can_trade)  # type: ignore[arg-type]


def make_view(
    now: datetime = T0,
    *,
    fills: Iterable[Fill] = (),
    marks: dict[str, str] | None = None,
    accounts: Iterable[AccountSnapshot] = (account(),),
    orders: Iterable[OrderUpdated] = (),
    instruments: Iterable[Instrument] = INSTRUMENTS,
    lockouts: LockoutBook | None = None,
) -> AccountView:
    ledger = Ledger(instruments)
    for fill in fills:
        ledger.apply(fill)
    for symbol, price in (marks or {}).items():
        ledger.mark(symbol, price, now)
    working = WorkingOrders()
    for order in orders:
        working.update(order)
    return AccountView(
        now,
        ledger,
        {snapshot.account: snapshot for snapshot in accounts},
        working,
        ledger.instruments,
        lockouts or LockoutBook(),
        {},
    )


def order(
    side: str = "buy",
    qty: str = "1",
    *,
    order_type: str = "limit",
    price: str | None = "18000.00",
    symbol: str = "MNQ",
    account_id: str = "A1",
    strategy: str = "s1",
    order_id: str = "o1",
    ts: datetime = T0,
    **extra: object,
) -> OrderRequest:
    return OrderRequest(order_id, account_id, strategy, symbol, side, order_type, qty, ts, price=price, **extra)  # type: ignore[arg-type]


def working(
    order_id: str,
    side: str,
    qty: str,
    *,
    order_type: str = "stop",
    stop_price: str | None = "17990.00",
    price: str | None = None,
    symbol: str = "MNQ",
    account_id: str = "A1",
    strategy: str = "s1",
    status: str = "working",
    ts: datetime = T0,
) -> OrderUpdated:
    fields: dict[str, Any] = {"side": side, "order_type": order_type, "status": status, "qty": qty}
    return OrderUpdated(order_id, account_id, strategy, symbol, ts=ts, price=price, stop_price=stop_price, **fields)


def booked(view: AccountView, fill: Fill) -> FillBooked:
    """Apply `fill` to the view's ledger; return the event a rule's `react` receives for it."""
    return FillBooked(fill, view.ledger.apply(fill))


D = Decimal
