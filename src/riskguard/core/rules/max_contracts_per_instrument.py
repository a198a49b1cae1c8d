"""MaxContractsPerInstrument (seed 001, trade-by-trade): a cap per symbol on the contracts an account holds.

The count is the account's net position in the symbol (long minus short over its strategies,
what the venue shows), against `limits[symbol]`, or `default_limit` for a symbol not listed
(None: that symbol has no cap). Holding exactly the limit is allowed. An order that would take
the net quantity past it is refused (`max_contracts_per_instrument`); a fill that does is
answered at once, with no lockout: `close_all` closes the symbol's whole position and cancels
its working orders, otherwise the position is reduced by what this fill added beyond the limit
and the working orders that would add more (on the position's own side) are cancelled, so the
protective stop of what remains stays in place.

A fill that only reduces the position never fires, so the fills of riskguard's own closes do not
ask for a second close; and since each adding fill is answered only for what it added, a close
still on its way is not asked for twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from riskguard.core.actions import Action, CancelOrder, ReducePosition
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.enums import Side
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt_qty
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.scope import Scope

__all__ = ["MaxContractsPerInstrument", "MaxContractsPerInstrumentParams"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxContractsPerInstrumentParams(RuleParams):
    limits: dict[str, Decimal] = field(default_factory=dict)  # symbol -> most contracts held net, e.g. {"MNQ": 5}
    default_limit: Decimal | None = None  # contracts for a symbol not in `limits`; None: no cap for it
    close_all: bool = False  # on a breach close the symbol's whole position (true) or only the excess (false)


def _net_text(net_qty: Decimal) -> str:
    """A signed net quantity that is not zero, in words: "long 2", "short 3"."""
    return f"{'long' if net_qty > 0 else 'short'} {fmt_qty(abs(net_qty))}"


def _holding(account: str, net_qty: Decimal, symbol: str) -> str:
    """The position in words: "A1 is long 2 MNQ", or "A1 holds no MNQ" when flat."""
    return f"{account} holds no {symbol}" if net_qty == 0 else f"{account} is {_net_text(net_qty)} {symbol}"


def _added_qty(before: Decimal, after: Decimal) -> Decimal:
    """How much a change of net quantity from `before` to `after` added to the position: all of
    `after` when it opens or flips, the growth when it increases, zero when it only reduces."""
    if after == 0:
        return ZERO
    if before == 0 or (before > 0) != (after > 0):
        return abs(after)
    return max(abs(after) - abs(before), ZERO)


class MaxContractsPerInstrument(Rule[MaxContractsPerInstrumentParams, None]):
    name = "max_contracts_per_instrument"
    gate = True
    reactive = True

    def __init__(self, params: MaxContractsPerInstrumentParams) -> None:
        super().__init__(params)
        caps = [(f"limits.{symbol}", limit) for symbol, limit in params.limits.items()]
        if params.default_limit is not None:
            caps.append(("default_limit", params.default_limit))
        for name, limit in caps:
            if not isinstance(limit, Decimal) or not limit.is_finite() or limit < 0:
                raise InvalidInput(name, limit, "must be a number of contracts, zero or more")

    def limit_for(self, symbol: str) -> Decimal | None:
        return self.params.limits.get(symbol, self.params.default_limit)

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        limit = self.limit_for(order.symbol)
        if limit is None:
            return ALLOW
        held = view.net_qty(order.account, order.symbol)
        after = held + order.side.sign * order.qty
        if abs(after) > limit:
            return Deny(
                self.name,
                "max_contracts_per_instrument",
                f"{_holding(order.account, held, order.symbol)}; this {order.side} of {fmt_qty(order.qty)} "
                f"would make it {_net_text(after)}, over the limit of {fmt_qty(limit)} {order.symbol} contracts",
            )
        return ALLOW

    def headroom(self, view: AccountView, state: None) -> Sequence[Headroom]:
        """The net contracts held against the symbol's cap, per account and symbol held (a symbol
        with no cap, or netted flat across strategies, reports nothing)."""
        return [
            Headroom(
                self.name, "net contracts held", Scope(account=account, symbol=symbol), abs(net), limit, "contracts"
            )
            for account in view.account_ids()
            for symbol in view.symbols_held(account)
            if (limit := self.limit_for(symbol)) is not None and (net := view.net_qty(account, symbol)) != 0
        ]

    def react(self, event: Event, view: AccountView, state: None) -> tuple[None, Sequence[Action]]:
        if not isinstance(event, FillBooked):
            return state, ()
        account, symbol = event.fill.account, event.fill.symbol
        limit = self.limit_for(symbol)
        if limit is None:
            return state, ()
        after = view.net_qty(account, symbol)
        excess = min(_added_qty(after - event.fill.side.sign * event.fill.qty, after), abs(after) - limit)
        if excess <= 0:
            return state, ()
        over = f"{account} is {_net_text(after)} {symbol}, over the limit of {fmt_qty(limit)} {symbol} contracts"
        if self.params.close_all:
            reason = f"{over}; closing the whole {symbol} position and cancelling its working orders"
            return state, breach_actions(self.name, Enforcement.FLATTEN, view, account, reason, None, symbol=symbol)
        reason = f"{over}; reducing it by {fmt_qty(excess)} and cancelling the orders that would add to it"
        adding_side = Side.BUY if after > 0 else Side.SELL
        return state, (
            *breach_actions(self.name, Enforcement.ALERT, view, account, reason, None),
            ReducePosition(rule=self.name, reason=reason, account=account, symbol=symbol, qty=excess),
            *(
                CancelOrder(rule=self.name, reason=reason, account=account, order_id=working.order_id, symbol=symbol)
                for working in view.orders.of(account, symbol)
                if working.side is adding_side
            ),
        )
