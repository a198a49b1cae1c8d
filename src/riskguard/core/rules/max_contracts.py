"""MaxContracts (seed 001, trade-by-trade): a cap on the contracts an account holds.

`count_type: net` counts, per instrument, the account's net position (|long - short| over its
strategies) and adds the instruments up; `gross` adds every strategy's position on its own, so
two strategies holding +2 and -2 count 4. Holding exactly `limit` is allowed; an order that
would take the count past it is refused, and a fill that does is answered at once by closing
everything (`close_all: true`) or only the excess on the instrument that breached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from riskguard.core.actions import Action, CancelAllOrders, ReducePosition
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.enums import Side
from riskguard.core.events import Event, FillBooked
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt_qty
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.scope import Scope

__all__ = ["MaxContracts", "MaxContractsParams"]


class CountType(StrEnum):
    NET = "net"
    GROSS = "gross"


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxContractsParams(RuleParams):
    limit: Decimal  # most contracts the account may hold, all instruments together
    count_type: CountType = CountType.NET  # net: per instrument across strategies; gross: per strategy
    close_all: bool = True  # on a breach close every position (true) or only the excess (false)


def contracts_held(view: AccountView, account: str, count_type: CountType) -> Decimal:
    if count_type is CountType.GROSS:
        return sum((p.qty for p in view.positions(account)), Decimal(0))
    return sum((abs(view.net_qty(account, symbol)) for symbol in view.symbols_held(account)), Decimal(0))


class MaxContracts(Rule[MaxContractsParams, None]):
    name = "max_contracts"
    gate = True
    reactive = True

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        held = contracts_held(view, order.account, self.params.count_type)
        if self.params.count_type is CountType.GROSS:
            position = view.ledger.position(order.account, order.strategy, order.symbol)
            current = Decimal(0) if position is None else position.net_qty
        else:
            current = view.net_qty(order.account, order.symbol)
        after = held - abs(current) + abs(current + (order.qty if order.side is Side.BUY else -order.qty))
        if after > self.params.limit:
            return Deny(
                self.name,
                "max_contracts",
                f"{order.account} holds {fmt_qty(held)} contracts; {fmt_qty(order.qty)} more would make {fmt_qty(after)}, "
                f"over the limit of {fmt_qty(self.params.limit)}",
            )
        return ALLOW

    def headroom(self, view: AccountView, state: None) -> Sequence[Headroom]:
        label = f"contracts held ({self.params.count_type.value})"
        return [
            Headroom(self.name, label, Scope(account=account), held, self.params.limit, "contracts")
            for account in view.account_ids()
            for held in [contracts_held(view, account, self.params.count_type)]
        ]

    def react(self, event: Event, view: AccountView, state: None) -> tuple[None, Sequence[Action]]:
        """Only a fill that raised the count can breach, and it is answered with at most what it
        added: the partial fills of riskguard's own close lower the count and never fire again."""
        if not isinstance(event, FillBooked):
            return state, ()
        account = event.fill.account
        held = contracts_held(view, account, self.params.count_type)
        added = held - _held_before(view, event, self.params.count_type)
        if held <= self.params.limit or added <= 0:
            return state, ()
        reason = f"{account} holds {fmt_qty(held)} contracts, over the limit of {fmt_qty(self.params.limit)}"
        if self.params.close_all:
            return state, breach_actions(self.name, Enforcement.FLATTEN, view, account, reason, None)
        symbol = event.fill.symbol
        excess = min(added, held - self.params.limit, abs(view.net_qty(account, symbol)))
        return state, (
            *breach_actions(self.name, Enforcement.ALERT, view, account, reason, None),
            ReducePosition(rule=self.name, reason=reason, account=account, symbol=symbol, qty=excess),
            CancelAllOrders(rule=self.name, reason=reason, account=account, symbol=symbol),
        )


def _held_before(view: AccountView, event: FillBooked, count_type: CountType) -> Decimal:
    """The count before this fill: the fill's signed quantity taken back out of its position."""
    fill = event.fill
    held = contracts_held(view, fill.account, count_type)
    if count_type is CountType.GROSS:
        position = view.ledger.position(fill.account, fill.strategy, fill.symbol)
        now = Decimal(0) if position is None else position.net_qty
    else:
        now = view.net_qty(fill.account, fill.symbol)
    return held - abs(now) + abs(now - fill.signed_qty)
