"""EquityDailyLoss: FTMO's Maximum Daily Loss and Maximum Loss, measured on equity.

Source: FTMO's Challenge / Verification / FTMO Account rules as commonly published (daily loss
5 % and maximum loss 10 % of the initial balance, the day starting at midnight CE(S)T). Prop
firms change their rules; check the firm's current terms and set the params to match.

Daily loss: the day runs from one reset to the next (`reset_time` in `timezone`, 00:00
Europe/Prague by default: midnight CET is 23:00 UTC in winter, midnight CEST 22:00 UTC in
summer). The day's start balance is the balance of the first account update at or after the
day's start (FTMO uses the balance at midnight; an update at the reset gives exactly that). The
limit is `max_daily_loss` when given, else `max_daily_loss_pct` % of that start balance. The
equity of each account update (the venue's equity: balance plus floating P/L of open positions)
is compared with the floor `start balance − limit`; reaching it (equity ≤ floor) breaches once
that day: `on_breach` (default: alert, close every position, cancel every order, refuse new risk
until the next reset). Before the day's first account update the floor is unknown and new risk
is refused (`daily_start_unknown`).

Maximum loss (optional, `max_loss_pct` with `initial_balance`): equity ≤ `initial_balance × (1 −
max_loss_pct / 100)` breaches with the same bundle, but the lock only an operator's reset ends
(the account has failed). A reset clears the breach; if equity is still at or below the floor,
the next account update breaches again. Exits are never blocked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, ResetRequested
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt, outcome_text, until_text
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.schedule import ResetSchedule
from riskguard.core.scope import Scope

__all__ = ["EquityDailyLoss", "EquityDailyLossParams", "EquityDailyLossState", "EquityDay"]

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True, kw_only=True)
class EquityDailyLossParams(RuleParams):
    max_daily_loss_pct: Decimal | None = Decimal(5)  # daily loss as % of the day's start balance (FTMO: 5)
    max_daily_loss: Decimal | None = None  # or an absolute daily loss (positive, account currency); wins over the %
    max_loss_pct: Decimal | None = None  # overall loss as % of initial_balance, latched (FTMO: 10); None: off
    initial_balance: Decimal | None = None  # the account's initial balance, required with max_loss_pct
    reset_time: str = "00:00"  # when the day starts, local time (FTMO: midnight CE(S)T)
    timezone: str = "Europe/Prague"  # IANA name
    on_breach: Enforcement = Enforcement.FLATTEN_AND_LOCK  # what a daily breach does; locks until the next reset


@dataclass(frozen=True, slots=True)
class EquityDay:
    """One account's day: its start balance (None before the day's first update), and which
    floors it breached (the daily one for this day; the maximum one until an operator resets)."""

    day: date
    start_balance: Decimal | None = None
    currency: str = "USD"
    daily_breached: bool = False
    max_breached: bool = False


@dataclass(frozen=True, slots=True)
class EquityDailyLossState:
    days: dict[str, EquityDay] = field(default_factory=dict)


class EquityDailyLoss(Rule[EquityDailyLossParams, EquityDailyLossState]):
    name = "equity_daily_loss"
    gate = True
    reactive = True

    def __init__(self, params: EquityDailyLossParams) -> None:
        if params.max_daily_loss is None and params.max_daily_loss_pct is None:
            raise InvalidInput("max_daily_loss_pct", None, "or max_daily_loss must be given")
        if params.max_daily_loss is not None and params.max_daily_loss <= ZERO:
            raise InvalidInput("max_daily_loss", str(params.max_daily_loss), "must be a positive amount")
        for name in ("max_daily_loss_pct", "max_loss_pct"):
            pct = getattr(params, name)
            if pct is not None and not ZERO < pct <= HUNDRED:
                raise InvalidInput(name, str(pct), "must be more than 0 and at most 100 (%)")
        if (params.max_loss_pct is None) != (params.initial_balance is None):
            raise InvalidInput("initial_balance", params.initial_balance, "and max_loss_pct must be given together")
        if params.initial_balance is not None and params.initial_balance <= ZERO:
            raise InvalidInput("initial_balance", str(params.initial_balance), "must be a positive amount")
        super().__init__(params)
        self.schedule = ResetSchedule.daily(params.reset_time, params.timezone)

    def initial_state(self) -> EquityDailyLossState:
        return EquityDailyLossState()

    def _day(self, state: EquityDailyLossState, account: str, view: AccountView) -> EquityDay:
        """The account's record for the trading day at `view.now` (a new day keeps the maximum breach)."""
        today = self.schedule.trading_day(view.now)
        record = state.days.get(account)
        if record is None:
            return EquityDay(today)
        if record.day != today:
            return EquityDay(today, currency=record.currency, max_breached=record.max_breached)
        return record

    def daily_limit(self, start_balance: Decimal) -> Decimal:
        """The day's allowed loss, a positive amount."""
        if self.params.max_daily_loss is not None:
            return self.params.max_daily_loss
        return start_balance * (self.params.max_daily_loss_pct or ZERO) / HUNDRED

    def max_loss_floor(self) -> Decimal | None:
        if self.params.max_loss_pct is None or self.params.initial_balance is None:
            return None
        return self.params.initial_balance * (1 - self.params.max_loss_pct / HUNDRED)

    def check(self, order: OrderRequest, view: AccountView, state: EquityDailyLossState) -> Verdict:
        record = self._day(state, order.account, view)
        if record.start_balance is None:
            return Deny(
                self.name,
                "daily_start_unknown",
                f"no account update has arrived for {order.account} since the day started at "
                f"{self.schedule.period_start(view.now).astimezone(self.schedule.timezone).strftime('%Y-%m-%d %H:%M')} "
                f"{self.schedule.timezone.key}, so the day's start balance and loss floor are unknown; new risk "
                "is refused until the venue reports the account",
            )
        return ALLOW

    def headroom(self, view: AccountView, state: EquityDailyLossState) -> Sequence[Headroom]:
        """Per account, its latest equity less the day's start balance against the daily loss
        (-3000 of -5000 USD), and, with `max_loss_pct`, less the initial balance against the
        maximum loss; no daily row before the day's first account update (the gate refuses then)."""
        rows = []
        for account in view.account_ids():
            snapshot = view.accounts.get(account)
            if snapshot is None:
                continue
            equity, currency, scope = snapshot.equity, snapshot.currency, Scope(account=account)
            start = self._day(state, account, view).start_balance
            if start is not None:
                rows.append(
                    Headroom(
                        self.name, "daily loss on equity", scope, equity - start, -self.daily_limit(start), currency
                    )
                )
            floor, initial = self.max_loss_floor(), self.params.initial_balance
            if floor is not None and initial is not None:
                rows.append(
                    Headroom(self.name, "maximum loss on equity", scope, equity - initial, floor - initial, currency)
                )
        return rows

    def react(
        self, event: Event, view: AccountView, state: EquityDailyLossState
    ) -> tuple[EquityDailyLossState, Sequence[Action]]:
        if isinstance(event, AccountSnapshot):
            return self._on_snapshot(event, view, state)
        if isinstance(event, ResetRequested) and event.rule in (None, self.name):
            return self._on_reset(event, state), ()
        return state, ()

    def _on_snapshot(
        self, snapshot: AccountSnapshot, view: AccountView, state: EquityDailyLossState
    ) -> tuple[EquityDailyLossState, Sequence[Action]]:
        account, equity, currency = snapshot.account, snapshot.equity, snapshot.currency
        record = self._day(state, account, view)
        start = snapshot.balance if record.start_balance is None else record.start_balance
        record = replace(record, start_balance=start, currency=currency)
        floor = self.max_loss_floor()
        if floor is not None and not record.max_breached and equity <= floor:
            record = replace(record, max_breached=True, daily_breached=True)
            reason = self._max_sentence(account, equity, floor, currency)
            actions = breach_actions(self.name, Enforcement.FLATTEN_AND_LOCK, view, account, reason, None)
            return _with(state, account, record), actions
        limit = self.daily_limit(start)
        if record.daily_breached or record.max_breached or equity > start - limit:
            return _with(state, account, record), ()
        record = replace(record, daily_breached=True)
        until = self.schedule.next_reset(view.now)
        reason = self._daily_sentence(account, equity, start, limit, currency, until_text(until, self.schedule))
        actions = breach_actions(self.name, self.params.on_breach, view, account, reason, until)
        return _with(state, account, record), actions

    def _on_reset(self, command: ResetRequested, state: EquityDailyLossState) -> EquityDailyLossState:
        days = dict(state.days)
        for account, record in state.days.items():
            if (
                command.scope.account in (None, account)
                and command.scope.strategy is None
                and command.scope.symbol is None
            ):
                days[account] = replace(record, max_breached=False)
        return EquityDailyLossState(days)

    def _daily_sentence(
        self, account: str, equity: Decimal, start: Decimal, limit: Decimal, currency: str, when: str
    ) -> str:
        of = "" if self.params.max_daily_loss is not None else f", {fmt(self.params.max_daily_loss_pct or ZERO)} %"
        return (
            f"Daily loss: equity {fmt(equity, currency)} on {account} reached the {fmt(start - limit, currency)} floor "
            f"(day's start balance {fmt(start, currency)} − {fmt(limit, currency)}{of}); "
            f"{outcome_text(self.params.on_breach, when)}"
        )

    def _max_sentence(self, account: str, equity: Decimal, floor: Decimal, currency: str) -> str:
        return (
            f"Maximum loss: equity {fmt(equity, currency)} on {account} reached the {fmt(floor, currency)} floor "
            f"(initial balance {fmt(self.params.initial_balance or ZERO, currency)} − "
            f"{fmt(self.params.max_loss_pct or ZERO)} %); "
            f"{outcome_text(Enforcement.FLATTEN_AND_LOCK, 'until an operator resets it')}"
        )


def _with(state: EquityDailyLossState, account: str, record: EquityDay) -> EquityDailyLossState:
    return EquityDailyLossState({**state.days, account: record})
