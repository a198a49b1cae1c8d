"""MaxPositions (seed 004): a cap on the number of symbols one account holds a position in.

A symbol counts when the account's net position in it (over all its strategies, what the
venue shows) is not zero. An order in a symbol already held never changes the count, so it is
always allowed here (other rules size it); an order that would open a new symbol while the
account already holds `limit` is refused (`max_positions`). Holding exactly `limit` is allowed.
Working orders in other symbols are not counted: only positions. Exits never get here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.scope import Scope

__all__ = ["MaxPositions", "MaxPositionsParams"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxPositionsParams(RuleParams):
    limit: int = 5  # most symbols one account may hold an open net position in (seed 004: 5)


def _positions(view: AccountView, account: str) -> list[str]:
    """The symbols in which the account's net position is not zero, in first-seen order."""
    return [symbol for symbol in view.symbols_held(account) if view.net_qty(account, symbol) != 0]


class MaxPositions(Rule[MaxPositionsParams, None]):
    name = "max_positions"
    gate = True

    def __init__(self, params: MaxPositionsParams) -> None:
        if isinstance(params.limit, bool) or not isinstance(params.limit, int) or params.limit < 0:
            raise InvalidInput("limit", params.limit, "must be a whole number of positions, zero or more")
        super().__init__(params)

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        held = _positions(view, order.account)
        if order.symbol in held or len(held) + 1 <= self.params.limit:
            return ALLOW
        listed = f" ({', '.join(sorted(held))})" if held else ""
        return Deny(
            self.name,
            "max_positions",
            f"{order.account} holds positions in {len(held)} symbols{listed}; opening "
            f"{order.symbol} would make {len(held) + 1}, over the limit of {self.params.limit}; close one first",
        )

    def headroom(self, view: AccountView, state: None) -> Sequence[Headroom]:
        """The symbols held (net position not zero) against the limit, per account."""
        return [
            Headroom(
                self.name,
                "open positions",
                Scope(account=account),
                Decimal(len(_positions(view, account))),
                Decimal(self.params.limit),
                "positions",
            )
            for account in view.account_ids()
        ]
