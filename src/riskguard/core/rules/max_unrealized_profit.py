"""MaxUnrealizedProfit (seed 001, hard lockout): a profit target per account.

The unrealized PnL of the account's open positions at their marks, summed per currency (amounts
are never converted; TopstepX accounts hold USD only), is checked after every mark and fill.
When it reaches `target` — reaching it counts: +1000 with a 1000 target fires — `on_breach`
applies (by default: close every position to take the profit, cancel the orders and refuse new
risk until the next daily reset, `reset_time` in `timezone`, 17:00 America/New_York).

The mirror of DailyUnrealizedLoss. One target hit fires once: the account stays marked for the
trading day until it is flat again, so the fills of its own closes change nothing. Fail closed:
while any open position of the account, or the symbol of the order itself, has no mark, the
profit cannot be measured and new risk is refused (`price_unknown`). Exits are never blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from riskguard.core.errors import InvalidInput
from riskguard.core.rules._amounts import fmt, outcome_text, until_text
from riskguard.core.rules._floating_pnl import FiredToday, FloatingPnlParams, FloatingPnlRule

__all__ = ["MaxUnrealizedProfit", "MaxUnrealizedProfitParams", "UnrealizedProfitState"]

#: The rule's state: the accounts that crossed the threshold today (shared with its mirror rule).
UnrealizedProfitState = FiredToday


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxUnrealizedProfitParams(FloatingPnlParams):
    target: Decimal  # the floating profit that is taken and ends the day, e.g. 1000 (USD)


class MaxUnrealizedProfit(FloatingPnlRule[MaxUnrealizedProfitParams]):
    name = "max_unrealized_profit"
    measures = "profit"
    label = "unrealized profit"

    def __init__(self, params: MaxUnrealizedProfitParams) -> None:
        if not isinstance(params.target, Decimal) or not params.target.is_finite() or params.target <= 0:
            raise InvalidInput("target", params.target, "must be a profit amount greater than zero, e.g. 1000")
        super().__init__(params)

    @property
    def threshold(self) -> Decimal:
        return self.params.target

    def crossed(self, unrealized: Decimal) -> bool:
        return unrealized >= self.params.target

    def sentence(self, account: str, unrealized: Decimal, currency: str, until: datetime) -> str:
        ending = outcome_text(
            self.params.on_breach, until_text(until, self.schedule), closed="positions are closed to take the profit"
        )
        return f"Unrealized profit {fmt(unrealized, currency)} on {account} reached the {fmt(self.params.target, currency)} target; {ending}"
