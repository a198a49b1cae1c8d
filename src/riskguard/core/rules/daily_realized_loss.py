"""DailyRealizedLoss (seed 001, hard lockout; with seed 004's daily loss in absolute and %).

Realized PnL of the trading day, net of fees, per account. The day runs from one reset to the
next (`reset_time` in `timezone`, 17:00 America/New_York by default, as CME trades). When it
falls to the limit — reaching it counts — the account is flattened, its orders cancelled, and
new risk refused until the next reset. `limit` may be written -500 or 500: it is a loss either
way. `limit_pct` (optional) is a loss as % of the balance at the first account update of the
day; whichever limit is nearer fires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.events import Event, FillBooked
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt, outcome_text, until_text
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.schedule import ResetSchedule

__all__ = ["DailyRealizedLoss", "DailyRealizedLossParams", "DayTally"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyRealizedLossParams(RuleParams):
    limit: Decimal | None = None  # the day's realized loss that stops trading, e.g. -500 (USD)
    limit_pct: Decimal | None = None  # or a loss as % of the day's starting balance, e.g. 2
    reset_time: str = "17:00"  # when the trading day ends, local time
    timezone: str = "America/New_York"  # IANA name
    on_breach: Enforcement = Enforcement.FLATTEN_AND_LOCK  # what a breach does (see the top of this page)


@dataclass(frozen=True, slots=True)
class DayTally:
    """One account's day: realized PnL so far, the balance it started from, whether it breached."""

    day: date
    realized: Decimal = ZERO
    start_balance: Decimal | None = None
    breached: bool = False


@dataclass(frozen=True, slots=True)
class DailyLossState:
    tallies: dict[str, DayTally] = field(default_factory=dict)


class DailyRealizedLoss(Rule[DailyRealizedLossParams, DailyLossState]):
    name = "daily_realized_loss"
    gate = True
    reactive = True

    def __init__(self, params: DailyRealizedLossParams) -> None:
        super().__init__(params)
        self.schedule = ResetSchedule.daily(params.reset_time, params.timezone)

    def initial_state(self) -> DailyLossState:
        return DailyLossState()

    def _tally(self, state: DailyLossState, account: str, view: AccountView) -> DayTally:
        today = self.schedule.trading_day(view.now)
        tally = state.tallies.get(account)
        return tally if tally is not None and tally.day == today else DayTally(today)

    def _limit(self, tally: DayTally) -> Decimal | None:
        """The loss (a positive amount) that breaches, the nearer of the two limits."""
        limits = []
        if self.params.limit is not None:
            limits.append(abs(self.params.limit))
        if self.params.limit_pct is not None and tally.start_balance is not None:
            limits.append(tally.start_balance * abs(self.params.limit_pct) / 100)
        return min(limits, default=None)

    def check(self, order: OrderRequest, view: AccountView, state: DailyLossState) -> Verdict:
        tally = self._tally(state, order.account, view)
        limit = self._limit(tally)
        if limit is not None and -tally.realized >= limit:
            return Deny(self.name, "daily_loss_limit", self._sentence(order.account, tally, limit, view))
        if limit is None and self.params.limit_pct is not None and self.params.limit is None:
            return Deny(
                self.name,
                "daily_loss_limit",
                f"the daily loss limit is {fmt(self.params.limit_pct)} % of the day's starting balance, "
                f"and no balance has been reported for {order.account} today",
            )
        return ALLOW

    def react(self, event: Event, view: AccountView, state: DailyLossState) -> tuple[DailyLossState, Sequence[Action]]:
        if isinstance(event, AccountSnapshot):
            tally = self._tally(state, event.account, view)
            if tally.start_balance is None:
                return _with(
                    state, event.account, DayTally(tally.day, tally.realized, event.balance, tally.breached)
                ), ()
            return state, ()
        if not isinstance(event, FillBooked) or event.applied.realized_pnl == 0:
            return state, ()
        account = event.fill.account
        tally = self._tally(state, account, view)
        tally = DayTally(tally.day, tally.realized + event.applied.realized_pnl, tally.start_balance, tally.breached)
        limit = self._limit(tally)
        if tally.breached or limit is None or -tally.realized < limit:
            return _with(state, account, tally), ()
        tally = DayTally(tally.day, tally.realized, tally.start_balance, True)
        until = self.schedule.next_reset(view.now)
        reason = self._sentence(account, tally, limit, view)
        actions = breach_actions(self.name, self.params.on_breach, view, account, reason, until)
        return _with(state, account, tally), actions

    def _sentence(self, account: str, tally: DayTally, limit: Decimal, view: AccountView) -> str:
        currency = view.accounts[account].currency if account in view.accounts else None
        until = self.schedule.next_reset(view.now)
        when = until_text(until, self.schedule)
        locks = self.params.on_breach is Enforcement.FLATTEN_AND_LOCK
        ending = f"locked out {when}" if locks else outcome_text(self.params.on_breach, when)
        return f"Daily realized loss {fmt(tally.realized, currency)} reached the {fmt(-limit, currency)} limit on {account}; {ending}"


def _with(state: DailyLossState, account: str, tally: DayTally) -> DailyLossState:
    return DailyLossState({**state.tallies, account: tally})
