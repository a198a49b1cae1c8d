"""SymbolBlocks (seed 001, hard block): symbols that may not be traded at all.

A symbol is blocked when it is listed in `symbols` (exactly, case as written) or starts with one
of `prefixes` ("CL" blocks CLZ6, CLF7...); this is the union with a professional "restricted
symbols" list. There is no limit to touch: any order that opens or adds to a position in a
blocked symbol is refused (`symbol_blocked`), and a fill that opens, adds to or flips a position
in one (traded outside riskguard) is answered by a critical alert, closing that symbol's position
and cancelling its working orders. No lockout: the gate keeps blocking. A fill that only reduces
the position (riskguard's own close among them) changes nothing, so a close is asked for once
per fill that added. Exits are never blocked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt_qty
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions

__all__ = ["SymbolBlocks", "SymbolBlocksParams"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolBlocksParams(RuleParams):
    symbols: tuple[str, ...] = ()  # exact symbols that may not be traded, e.g. ["MNQZ6"]
    prefixes: tuple[str, ...] = ()  # blocks every symbol starting with one, e.g. ["CL"] blocks CLZ6


class SymbolBlocks(Rule[SymbolBlocksParams, None]):
    name = "symbol_blocks"
    gate = True
    reactive = True

    def __init__(self, params: SymbolBlocksParams) -> None:
        super().__init__(params)
        for name, values in (("symbols", params.symbols), ("prefixes", params.prefixes)):
            for value in values:
                if not isinstance(value, str) or not value.strip():
                    raise InvalidInput(name, value, "must be a non-empty symbol or prefix")
        if not params.symbols and not params.prefixes:
            raise InvalidInput("symbols", list(params.symbols), "give at least one symbol or prefix to block")

    def blocked_because(self, symbol: str) -> str | None:
        """Why `symbol` is blocked, in words, or None when it is not."""
        if symbol in self.params.symbols:
            return "it is on the blocklist"
        for prefix in self.params.prefixes:
            if symbol.startswith(prefix):
                return f"it starts with the blocked prefix {prefix}"
        return None

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        why = self.blocked_because(order.symbol)
        if why is None:
            return ALLOW
        return Deny(
            self.name,
            "symbol_blocked",
            f"{order.symbol} may not be traded ({why}); orders that open or add to a position in {order.symbol} are refused",
        )

    def react(self, event: Event, view: AccountView, state: None) -> tuple[None, Sequence[Action]]:
        if not isinstance(event, FillBooked):
            return state, ()
        account, symbol = event.fill.account, event.fill.symbol
        why = self.blocked_because(symbol)
        after = view.net_qty(account, symbol)
        if why is None or not _adds(after - event.fill.side.sign * event.fill.qty, after):
            return state, ()
        side = "long" if after > 0 else "short"
        reason = (
            f"{account} traded {symbol}, which may not be traded ({why}), and is now {side} {fmt_qty(abs(after))}; "
            f"closing the {symbol} position and cancelling its working orders"
        )
        return state, breach_actions(self.name, Enforcement.FLATTEN, view, account, reason, None, symbol=symbol)


def _adds(before: Decimal, after: Decimal) -> bool:
    """Did the net quantity move from `before` to `after` by opening, adding to or flipping a position?"""
    if after == 0:
        return False
    return before == 0 or (before > 0) != (after > 0) or abs(after) > abs(before)
