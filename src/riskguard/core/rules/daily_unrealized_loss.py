"""DailyUnrealizedLoss (seed 001, hard lockout): a floating-loss limit per account.

The unrealized PnL of the account's open positions at their marks, summed per currency (amounts
are never converted; TopstepX accounts hold USD only), is checked after every mark and fill.
When it falls to the limit — reaching it counts: -300 with a -300 limit fires — `on_breach`
applies (by default: close every position, cancel the orders and refuse new risk until the next
daily reset, `reset_time` in `timezone`, 17:00 America/New_York as CME trades). `limit` may be
written -300 or 300: it is a loss either way.

One breach fires once: the account stays marked as breached for the trading day until it is
flat again, so the fills of its own closes (and any mark while they work) change nothing; a
position opened and lost again after that is a new breach. Fail closed: while any open position
of the account, or the symbol of the order itself, has no mark, the loss cannot be measured and
new risk is refused (`price_unknown`). Exits are never blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from riskguard.core.errors import InvalidInput
from riskguard.core.rules._amounts import fmt, outcome_text, until_text
from riskguard.core.rules._floating_pnl import FiredToday, FloatingPnlParams, FloatingPnlRule

__all__ = ["DailyUnrealizedLoss", "DailyUnrealizedLossParams", "UnrealizedLossState"]

#: The rule's state: the accounts that crossed the threshold today (shared with its mirror rule).
UnrealizedLossState = FiredToday


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyUnrealizedLossParams(FloatingPnlParams):
    limit: Decimal  # the floating loss that stops trading, e.g. -300 (USD; 300 means the same)


class DailyUnrealizedLoss(FloatingPnlRule[DailyUnrealizedLossParams]):
    name = "daily_unrealized_loss"
    measures = "loss"
    label = "unrealized loss"

    def __init__(self, params: DailyUnrealizedLossParams) -> None:
        if not isinstance(params.limit, Decimal) or not params.limit.is_finite() or params.limit == 0:
            raise InvalidInput("limit", params.limit, "must be a loss amount other than zero, e.g. -300")
        super().__init__(params)
        self.loss = abs(params.limit)

    @property
    def threshold(self) -> Decimal:
        return -self.loss

    def crossed(self, unrealized: Decimal) -> bool:
        return -unrealized >= self.loss

    def sentence(self, account: str, unrealized: Decimal, currency: str, until: datetime) -> str:
        ending = outcome_text(self.params.on_breach, until_text(until, self.schedule))
        return f"Unrealized loss {fmt(unrealized, currency)} on {account} reached the {fmt(-self.loss, currency)} limit; {ending}"
