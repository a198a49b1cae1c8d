"""Small shared helpers for rules: money formatting for messages, and order notional."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from riskguard.core.orders import OrderRequest
from riskguard.core.rules.base import AccountView, Enforcement
from riskguard.core.schedule import ResetSchedule

__all__ = ["fmt", "fmt_qty", "local_time", "order_price", "outcome_text", "until_text"]


def fmt(amount: Decimal, currency: str | None = None) -> str:
    """An amount for a sentence: two decimals at least, exact beyond that, never through a float."""
    text = f"{amount:f}"
    if amount == amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN):
        text = f"{amount.quantize(Decimal('0.01')):f}"
    return f"{text} {currency}" if currency else text


def fmt_qty(qty: Decimal) -> str:
    """A quantity as written, without trailing zeros or exponent: 5, 0.25, 1200."""
    return f"{qty.normalize():f}"


def local_time(ts: datetime, schedule: ResetSchedule) -> str:
    return f"{ts.astimezone(schedule.timezone).strftime('%Y-%m-%d %H:%M')} {schedule.timezone.key}"


def until_text(until: datetime | None, schedule: ResetSchedule | None = None) -> str:
    if until is None:
        return "until an operator resets it"
    if schedule is not None:
        return f"until {local_time(until, schedule)}"
    return f"until {until.strftime('%Y-%m-%d %H:%M:%S')} UTC"


def order_price(order: OrderRequest, view: AccountView) -> Decimal | None:
    """The price an order would trade at, for sizing it: its limit (or stop) price, else the mark."""
    if order.price is not None:
        return order.price
    if order.stop_price is not None:
        return order.stop_price
    mark = view.mark(order.symbol)
    return None if mark is None else mark.price


def outcome_text(enforcement: Enforcement, when: str, *, closed: str = "positions are closed") -> str:
    """What a breach does next, for the end of a message: `when` is e.g. "until 17:00 ..."."""
    return {
        Enforcement.ALERT: "no action is taken beyond this alert",
        Enforcement.BLOCK_ENTRIES: f"new risk is refused {when}",
        Enforcement.CANCEL_ORDERS: f"orders are cancelled and new risk refused {when}",
        Enforcement.FLATTEN: f"{closed} and orders cancelled",
        Enforcement.FLATTEN_AND_LOCK: f"{closed}, orders cancelled and new risk refused {when}",
    }[enforcement]
