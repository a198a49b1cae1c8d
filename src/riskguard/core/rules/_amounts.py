"""Small shared helpers for rules: money formatting for messages, and order notional."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from riskguard.core.orders import OrderRequest
from riskguard.core.rules.base import AccountView, Enforcement
from riskguard.core.schedule import ResetSchedule

__all__ = ["Unpriced", "fmt", "fmt_qty", "held_exposure", "local_time", "order_price", "outcome_text", "until_text"]


def fmt(amount: Decimal, currency: str | None = None) -> str:
    """An amount for a sentence: two decimals at least, exact beyond that (without trailing zeros:
    an average-cost P&L may carry many), never through a float."""
    text = f"{amount.normalize():f}"
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


@dataclass(frozen=True, slots=True)
class Unpriced:
    """Why an account's exposure could not be valued: `symbol` is held in another currency
    (`currency` says which), or has no mark (`currency` is None)."""

    symbol: str
    currency: str | None = None


def held_exposure(view: AccountView, account: str, currency: str, *, skip: str | None = None) -> Decimal | Unpriced:
    """|net qty| x mark x point value over the account's held symbols (but `skip`), all in
    `currency`; the first symbol that cannot be valued that way is returned instead. Worked out
    once per view: max_exposure and trailing_stop both ask for it."""
    return view.remembered(("held_exposure", account, currency, skip), lambda: _exposure(view, account, currency, skip))


def _exposure(view: AccountView, account: str, currency: str, skip: str | None) -> Decimal | Unpriced:
    total = Decimal(0)
    for symbol in view.symbols_held(account):
        net = view.net_qty(account, symbol)
        if symbol == skip or net == 0:
            continue
        instrument = view.instruments[symbol]
        if instrument.currency != currency:
            return Unpriced(symbol, instrument.currency)
        mark = view.mark(symbol)
        if mark is None:
            return Unpriced(symbol)
        total += abs(net) * mark.price * instrument.multiplier
    return total
