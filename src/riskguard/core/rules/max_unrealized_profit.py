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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked, MarkUpdated
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt, outcome_text, until_text
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.schedule import ResetSchedule

__all__ = ["MaxUnrealizedProfit", "MaxUnrealizedProfitParams", "UnrealizedProfitState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxUnrealizedProfitParams(RuleParams):
    target: Decimal  # the floating profit that is taken and ends the day, e.g. 1000 (USD)
    reset_time: str = "17:00"  # when the trading day ends and the lockout with it, local time
    timezone: str = "America/New_York"  # IANA name
    on_breach: Enforcement = Enforcement.FLATTEN_AND_LOCK  # close, cancel and lock until the reset


@dataclass(frozen=True, slots=True)
class UnrealizedProfitState:
    """Accounts that hit the target, with the trading day they hit it on, until they are flat again."""

    reached: dict[str, date] = field(default_factory=dict)


class MaxUnrealizedProfit(Rule[MaxUnrealizedProfitParams, UnrealizedProfitState]):
    name = "max_unrealized_profit"
    gate = True
    reactive = True

    def __init__(self, params: MaxUnrealizedProfitParams) -> None:
        super().__init__(params)
        if not isinstance(params.target, Decimal) or not params.target.is_finite() or params.target <= 0:
            raise InvalidInput("target", params.target, "must be a profit amount greater than zero, e.g. 1000")
        self.schedule = ResetSchedule.daily(params.reset_time, params.timezone)

    def initial_state(self) -> UnrealizedProfitState:
        return UnrealizedProfitState()

    def check(self, order: OrderRequest, view: AccountView, state: UnrealizedProfitState) -> Verdict:
        symbols = dict.fromkeys([*view.symbols_held(order.account), order.symbol])
        unpriced = [symbol for symbol in symbols if view.mark(symbol) is None]
        if unpriced:
            return Deny(
                self.name,
                "price_unknown",
                f"no mark price for {', '.join(unpriced)}: the unrealized profit of {order.account} cannot be "
                "measured, so new risk is refused until a price arrives",
            )
        return ALLOW

    def react(
        self, event: Event, view: AccountView, state: UnrealizedProfitState
    ) -> tuple[UnrealizedProfitState, Sequence[Action]]:
        if isinstance(event, FillBooked):
            accounts = [event.fill.account]
        elif isinstance(event, MarkUpdated):
            accounts = list(dict.fromkeys(p.account for p in view.ledger.open_positions(symbol=event.symbol)))
        else:
            return state, ()
        today = self.schedule.trading_day(view.now)
        reached = dict(state.reached)
        actions: list[Action] = []
        for account in accounts:
            if not view.positions(account):
                reached.pop(account, None)
                continue
            if reached.get(account) == today:
                continue
            for currency, totals in view.ledger.totals(account=account).items():
                profit = totals.unrealized_pnl
                if totals.open_positions and profit is not None and profit >= self.params.target:
                    reached[account] = today
                    until = self.schedule.next_reset(view.now)
                    reason = (
                        f"Unrealized profit {fmt(profit, currency)} on {account} reached the "
                        f"{fmt(self.params.target, currency)} target; "
                        f"{outcome_text(self.params.on_breach, until_text(until, self.schedule), closed='positions are closed to take the profit')}"
                    )
                    actions += breach_actions(self.name, self.params.on_breach, view, account, reason, until)
                    break
        return UnrealizedProfitState(reached), actions
