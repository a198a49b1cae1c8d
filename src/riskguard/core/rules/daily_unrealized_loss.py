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

__all__ = ["DailyUnrealizedLoss", "DailyUnrealizedLossParams", "UnrealizedLossState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyUnrealizedLossParams(RuleParams):
    limit: Decimal  # the floating loss that stops trading, e.g. -300 (USD; 300 means the same)
    reset_time: str = "17:00"  # when the trading day ends and the lockout with it, local time
    timezone: str = "America/New_York"  # IANA name
    on_breach: Enforcement = Enforcement.FLATTEN_AND_LOCK  # close, cancel and lock until the reset


@dataclass(frozen=True, slots=True)
class UnrealizedLossState:
    """Accounts that breached, with the trading day they breached on, until they are flat again."""

    breached: dict[str, date] = field(default_factory=dict)


class DailyUnrealizedLoss(Rule[DailyUnrealizedLossParams, UnrealizedLossState]):
    name = "daily_unrealized_loss"
    gate = True
    reactive = True

    def __init__(self, params: DailyUnrealizedLossParams) -> None:
        super().__init__(params)
        if not isinstance(params.limit, Decimal) or not params.limit.is_finite() or params.limit == 0:
            raise InvalidInput("limit", params.limit, "must be a loss amount other than zero, e.g. -300")
        self.schedule = ResetSchedule.daily(params.reset_time, params.timezone)
        self.loss = abs(params.limit)

    def initial_state(self) -> UnrealizedLossState:
        return UnrealizedLossState()

    def check(self, order: OrderRequest, view: AccountView, state: UnrealizedLossState) -> Verdict:
        symbols = dict.fromkeys([*view.symbols_held(order.account), order.symbol])
        unpriced = [symbol for symbol in symbols if view.mark(symbol) is None]
        if unpriced:
            return Deny(
                self.name,
                "price_unknown",
                f"no mark price for {', '.join(unpriced)}: the unrealized loss of {order.account} cannot be "
                "measured, so new risk is refused until a price arrives",
            )
        return ALLOW

    def react(
        self, event: Event, view: AccountView, state: UnrealizedLossState
    ) -> tuple[UnrealizedLossState, Sequence[Action]]:
        if isinstance(event, FillBooked):
            accounts = [event.fill.account]
        elif isinstance(event, MarkUpdated):
            accounts = list(dict.fromkeys(p.account for p in view.ledger.open_positions(symbol=event.symbol)))
        else:
            return state, ()
        today = self.schedule.trading_day(view.now)
        breached = dict(state.breached)
        actions: list[Action] = []
        for account in accounts:
            if not view.positions(account):
                breached.pop(account, None)
                continue
            if breached.get(account) == today:
                continue
            for currency, totals in view.ledger.totals(account=account).items():
                loss = totals.unrealized_pnl
                if totals.open_positions and loss is not None and -loss >= self.loss:
                    breached[account] = today
                    until = self.schedule.next_reset(view.now)
                    reason = (
                        f"Unrealized loss {fmt(loss, currency)} on {account} reached the "
                        f"{fmt(-self.loss, currency)} limit; {outcome_text(self.params.on_breach, until_text(until, self.schedule))}"
                    )
                    actions += breach_actions(self.name, self.params.on_breach, view, account, reason, until)
                    break
        return UnrealizedLossState(breached), actions
