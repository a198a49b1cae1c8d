"""MaxExposure (seed 004): a cap on one account's total exposure, the order included.

Exposure = the sum over the symbols the account holds of |net qty| x last mark x point value,
plus the order's notional (qty x its limit or stop price, else the mark, x point value). The
order is added at its full quantity even when it flips a position, which overstates a flip:
close first, then open, to use the room a close frees. Two optional limits, both applied when
set (at least one must be): `limit` in money and `limit_pct` as % of the account's equity from
its latest account snapshot.

Fail closed: a held symbol with no mark, or an order with no price, refuses (`price_unknown`);
positions in several currencies cannot be added up (`currency_mismatch`, also when the equity
is in another currency); a % limit with no snapshot refuses (`account_unknown`).

Exposure of exactly a limit is allowed; only past it is refused (`max_exposure`). Exits never
get here: the engine approves an order that only reduces a position first.
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
from riskguard.core.rules._amounts import Unpriced, fmt, held_exposure, order_price
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.scope import Scope

__all__ = ["MaxExposure", "MaxExposureParams"]

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxExposureParams(RuleParams):
    limit: Decimal | None = None  # most total exposure, in the instruments' currency (seed 004 example: 10000)
    limit_pct: Decimal | None = None  # most total exposure as % of equity (seed 004 example: 50)


class MaxExposure(Rule[MaxExposureParams, None]):
    name = "max_exposure"
    gate = True

    def __init__(self, params: MaxExposureParams) -> None:
        if params.limit is None and params.limit_pct is None:
            raise InvalidInput("limit", None, "set at least one of limit, limit_pct")
        for field, value in (("limit", params.limit), ("limit_pct", params.limit_pct)):
            if value is not None and value < 0:
                raise InvalidInput(field, str(value), "must be zero or more")
        super().__init__(params)

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        account = order.account
        instrument = view.instruments[order.symbol]
        currency = instrument.currency
        held = held_exposure(view, account, currency)
        if isinstance(held, Unpriced) and held.currency is not None:
            return self._mismatch(
                f"{account} holds {held.symbol} in {held.currency} and {order.symbol} is in {currency}"
            )
        if isinstance(held, Unpriced):
            return Deny(
                self.name,
                "price_unknown",
                f"no mark for {held.symbol}, which {account} holds: its exposure cannot be valued; "
                f"new risk is refused until a price arrives",
            )
        price = order_price(order, view)
        if price is None:
            return Deny(self.name, "price_unknown", f"no price for {order.symbol}: the order's size cannot be checked")
        total = held + order.qty * price * instrument.multiplier

        def said() -> str:  # only when refusing: formatting costs more than the check
            return f"{account}'s exposure would be {fmt(total, currency)} with this order ({fmt(held, currency)} held)"

        limit = self.params.limit
        if limit is not None and total > limit:
            return self._deny(f"{said()}, over the {fmt(limit, currency)} limit; the order is refused")
        limit_pct = self.params.limit_pct
        if limit_pct is None:
            return ALLOW
        snapshot = self._equity_of(view, account, currency, order.symbol)
        if isinstance(snapshot, Deny):
            return snapshot
        if total * 100 > snapshot.equity * limit_pct:
            allowed = snapshot.equity * limit_pct / 100
            return self._deny(
                f"{said()}, over the {fmt(limit_pct)} % of equity limit ({fmt(allowed, currency)} of "
                f"{fmt(snapshot.equity, currency)}); the order is refused"
            )
        return ALLOW

    def _equity_of(self, view: AccountView, account: str, currency: str, symbol: str) -> AccountSnapshot | Deny:
        """The snapshot whose equity an exposure in `currency` (of `symbol`) is compared with, or why there is none."""
        snapshot = view.account(account)
        if snapshot is None:
            return Deny(
                self.name,
                "account_unknown",
                f"no account update for {account}: its exposure cannot be compared with its equity",
            )
        if snapshot.currency != currency:
            return self._mismatch(f"{account}'s equity is in {snapshot.currency} and {symbol} is in {currency}")
        return snapshot

    def headroom(self, view: AccountView, state: None) -> Sequence[Headroom]:
        """The exposure held at marks against each limit set, per account, in money and as % of equity
        (to 0.01); none when a held symbol has no mark or the holdings are in two currencies, and no %
        row without a snapshot in their currency with equity above zero."""
        rows = []
        for account in view.account_ids():
            first = next((symbol for symbol in view.symbols_held(account) if view.net_qty(account, symbol) != 0), None)
            snapshot = view.account(account)
            if first is not None:
                currency = view.instruments[first].currency
            else:  # nothing held: no exposure, in the account's currency (if known)
                currency = "" if snapshot is None else snapshot.currency
            held = held_exposure(view, account, currency)
            if isinstance(held, Unpriced):
                continue
            scope = Scope(account=account)
            if self.params.limit is not None:
                rows.append(Headroom(self.name, "exposure", scope, held, self.params.limit, currency))
            if self.params.limit_pct is None:
                continue
            sized = self._equity_of(view, account, currency, first or "")
            if isinstance(sized, Deny) or sized.equity <= 0:
                continue
            share = (held * 100 / sized.equity).quantize(_CENT)
            rows.append(Headroom(self.name, "exposure of equity", scope, share, self.params.limit_pct, "%"))
        return rows

    def _deny(self, message: str) -> Deny:
        return Deny(self.name, "max_exposure", message)

    def _mismatch(self, what: str) -> Deny:
        return Deny(
            self.name, "currency_mismatch", f"{what}: exposure in two currencies cannot be added; the order is refused"
        )
