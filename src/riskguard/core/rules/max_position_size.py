"""MaxPositionSize (seed 004): a cap on one account's net position in one symbol, after the order.

The position is netted over the account's strategies (what the venue shows). Three optional
limits, all applied when set (at least one must be): `limit_qty` on the absolute net quantity,
`limit_notional` on its value, |net qty after| x price x point value in the instrument's
currency, and `limit_pct` on that value as % of the account's equity from its latest account
snapshot. The price is the order's limit (or stop) price, else the last mark.

Fail closed: a value limit with no price refuses (`price_unknown`); a % limit with no snapshot
refuses (`account_unknown`), as does an equity in another currency than the instrument's
(`currency_mismatch`); an equity at or below zero leaves room for no position at all.

A position of exactly a limit is allowed; only one past it is refused (`max_position_size`).
Exits never get here (the engine approves them first); a flip is checked on what it leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt, fmt_qty, order_price
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.scope import Scope

__all__ = ["MaxPositionSize", "MaxPositionSizeParams"]

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxPositionSizeParams(RuleParams):
    limit_qty: Decimal | None = None  # most net quantity (contracts, coins) held in one symbol, e.g. 5
    limit_notional: Decimal | None = None  # most value of that position, instrument currency (seed 004 example: 1000)
    limit_pct: Decimal | None = None  # most value of that position as % of equity (seed 004 example: 10)


class MaxPositionSize(Rule[MaxPositionSizeParams, None]):
    name = "max_position_size"
    gate = True

    def __init__(self, params: MaxPositionSizeParams) -> None:
        limits = {"limit_qty": params.limit_qty, "limit_notional": params.limit_notional, "limit_pct": params.limit_pct}
        if all(value is None for value in limits.values()):
            raise InvalidInput("limit_qty", None, "set at least one of limit_qty, limit_notional, limit_pct")
        for field, value in limits.items():
            if value is not None and value < 0:
                raise InvalidInput(field, str(value), "must be zero or more")
        super().__init__(params)

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        held = view.net_qty(order.account, order.symbol)
        after = abs(held + order.side.sign * order.qty)
        if after == 0:
            return ALLOW
        where = f"{order.account}'s {order.symbol} position"
        limit_qty = self.params.limit_qty
        if limit_qty is not None and after > limit_qty:
            return self._deny(
                f"{where} would be {fmt_qty(after)} after this order, over the limit of {fmt_qty(limit_qty)}; "
                f"the order is refused"
            )
        if self.params.limit_notional is None and self.params.limit_pct is None:
            return ALLOW
        price = order_price(order, view)
        if price is None:
            return Deny(
                self.name, "price_unknown", f"no price for {order.symbol}: the position's value cannot be checked"
            )
        currency = view.instruments[order.symbol].currency
        notional = _value(view, order.symbol, after, price)
        limit_notional = self.params.limit_notional
        if limit_notional is not None and notional > limit_notional:
            return self._deny(
                f"{where} would be worth {fmt(notional, currency)} after this order, over the "
                f"{fmt(limit_notional, currency)} limit; the order is refused"
            )
        limit_pct = self.params.limit_pct
        if limit_pct is None:
            return ALLOW
        snapshot = self._equity_of(view, order.account, order.symbol)
        if isinstance(snapshot, Deny):
            return snapshot
        if notional * 100 > snapshot.equity * limit_pct:
            allowed = snapshot.equity * limit_pct / 100
            return self._deny(
                f"{where} would be worth {fmt(notional, currency)} after this order, over the {fmt(limit_pct)} % "
                f"of equity limit ({fmt(allowed, currency)} of {fmt(snapshot.equity, currency)}); the order is refused"
            )
        return ALLOW

    def _equity_of(self, view: AccountView, account: str, symbol: str) -> AccountSnapshot | Deny:
        """The account snapshot whose equity a position in `symbol` is sized against, or why there is none."""
        currency = view.instruments[symbol].currency
        snapshot = view.account(account)
        if snapshot is None:
            return Deny(
                self.name,
                "account_unknown",
                f"no account update for {account}: the position cannot be sized against its equity",
            )
        if snapshot.currency != currency:
            return Deny(
                self.name,
                "currency_mismatch",
                f"{symbol} is valued in {currency} but {account}'s equity is in {snapshot.currency}: "
                f"the position cannot be sized against it",
            )
        return snapshot

    def headroom(self, view: AccountView, state: None) -> Sequence[Headroom]:
        """Each open net position against each limit set, per account and symbol: its quantity, its
        value at the mark, and that value as % of equity (to 0.01). No value rows without a mark, and
        no % row without a snapshot in the instrument's currency with equity above zero."""
        rows = []
        for account in view.account_ids():
            for symbol in view.symbols_held(account):
                held = abs(view.net_qty(account, symbol))
                if held == 0:
                    continue
                scope = Scope(account=account, symbol=symbol)
                if self.params.limit_qty is not None:
                    rows.append(Headroom(self.name, "position size", scope, held, self.params.limit_qty, "contracts"))
                mark = view.mark(symbol)
                if mark is None:
                    continue
                notional = _value(view, symbol, held, mark.price)
                if self.params.limit_notional is not None:
                    currency = view.instruments[symbol].currency
                    rows.append(
                        Headroom(self.name, "position value", scope, notional, self.params.limit_notional, currency)
                    )
                if self.params.limit_pct is None:
                    continue
                snapshot = self._equity_of(view, account, symbol)
                if isinstance(snapshot, Deny) or snapshot.equity <= 0:
                    continue
                share = (notional * 100 / snapshot.equity).quantize(_CENT)
                rows.append(Headroom(self.name, "position value of equity", scope, share, self.params.limit_pct, "%"))
        return rows

    def _deny(self, message: str) -> Deny:
        return Deny(self.name, "max_position_size", message)


def _value(view: AccountView, symbol: str, qty: Decimal, price: Decimal) -> Decimal:
    """What `qty` of `symbol` is worth at `price`: qty x price x point value, in its currency."""
    return qty * price * view.instruments[symbol].multiplier
