"""WeeklyRewardTarget (seed 002): once the week's target is made, trade on in preservation mode.

Per account, the weekly PnL is the realized PnL of the week, net of fees, per currency. A week
runs from one weekly reset to the next: `reset_weekday` at `reset_time` in `timezone`, Sunday
17:00 America/New_York by default (the CME week opens at 18:00); crypto accounts may set
`monday`, `"00:00"`, `UTC`. The target is `target_pct` of the account's equity at its first
snapshot of the week, and is measured on the PnL in that snapshot's currency (amounts in other
currencies are kept apart, never converted). Reaching it counts: +10000 on 50000 with 20 %.

When the target is reached an info alert says so, once, and the account is in preservation
mode for the rest of the week, whatever its PnL does next: an order that adds risk must carry a
`stop_loss` and may risk at most `preservation_risk_pct` of the account's equity (the latest
snapshot's), risk being |entry - stop_loss| x quantity x point value (fees left out; a flip is
counted at its full quantity), the entry its limit (or stop) price, else the mark. Exactly the
limit is allowed; over it, or without a stop, the order is refused (`weekly_target_preservation`).
Preservation halves seed 003's 2 % per-trade risk by default. The next week starts afresh.

Fail closed: in preservation mode, no price for the entry refuses (`price_unknown`), equity in
another currency than the instrument's refuses (`currency_mismatch`). Before the account's first
snapshot of the week the target cannot be measured: once the account has realized a gain that
week, new risk is refused (`weekly_equity_unknown`); without a gain the target cannot have been
reached and nothing is refused. Exits are never blocked. The state keeps `week_start`,
`weekly_pnl` and `weekly_target_reached` per account for the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import Action, AlertLevel, RaiseAlert
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt, local_time, order_price, until_text
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.schedule import ResetSchedule
from riskguard.core.scope import Scope

__all__ = ["AccountWeek", "WeeklyRewardTarget", "WeeklyRewardTargetParams", "WeeklyRewardTargetState"]

ZERO = Decimal(0)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CODE = "weekly_target_preservation"


@dataclass(frozen=True, slots=True, kw_only=True)
class WeeklyRewardTargetParams(RuleParams):
    target_pct: Decimal = Decimal(20)  # realized PnL of the week, % of its starting equity (seed 002: 20)
    preservation_risk_pct: Decimal = Decimal(1)  # once reached: most risk per order to its stop, % of equity
    reset_weekday: str = "sunday"  # the day the week starts (monday ... sunday)
    reset_time: str = "17:00"  # when the week starts that day, local time
    timezone: str = "America/New_York"  # IANA name


@dataclass(frozen=True, slots=True)
class AccountWeek:
    """One account's week: what it started with, what it has realized, whether the target is made."""

    week_start: datetime  # when the week began, UTC
    start_equity: Decimal | None = None  # equity at the account's first snapshot of the week
    currency: str | None = None  # that snapshot's currency, the one the target is measured in
    weekly_pnl: dict[str, Decimal] = field(default_factory=dict)  # currency -> realized PnL of the week, net of fees
    weekly_target_reached: bool = False
    reached_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WeeklyRewardTargetState:
    accounts: dict[str, AccountWeek] = field(default_factory=dict)


class WeeklyRewardTarget(Rule[WeeklyRewardTargetParams, WeeklyRewardTargetState]):
    name = "weekly_reward_target"
    gate = True
    reactive = True

    def __init__(self, params: WeeklyRewardTargetParams) -> None:
        if params.target_pct <= 0:
            raise InvalidInput("target_pct", str(params.target_pct), "must be more than 0")
        if params.preservation_risk_pct < 0:
            raise InvalidInput("preservation_risk_pct", str(params.preservation_risk_pct), "must be 0 or more")
        weekday = params.reset_weekday.strip().lower() if isinstance(params.reset_weekday, str) else None
        if weekday not in WEEKDAYS:
            raise InvalidInput(
                "reset_weekday", params.reset_weekday, f"is not a weekday; use one of {', '.join(WEEKDAYS)}"
            )
        super().__init__(params)
        self.schedule = ResetSchedule.weekly(WEEKDAYS.index(weekday), params.reset_time, params.timezone)

    def initial_state(self) -> WeeklyRewardTargetState:
        return WeeklyRewardTargetState()

    def week(self, state: WeeklyRewardTargetState, account: str, view: AccountView) -> AccountWeek:
        """The account's week holding `view.now`: a new week starts afresh."""
        start = self.schedule.period_start(view.now)
        week = state.accounts.get(account)
        return week if week is not None and week.week_start == start else AccountWeek(start)

    def check(self, order: OrderRequest, view: AccountView, state: WeeklyRewardTargetState) -> Verdict:
        week = self.week(state, order.account, view)
        if week.start_equity is None:
            gains = [pnl for pnl in week.weekly_pnl.values() if pnl > 0]
            if not gains:
                return ALLOW
            return Deny(
                self.name,
                "weekly_equity_unknown",
                f"no account update for {order.account} since the week began "
                f"({local_time(week.week_start, self.schedule)}): whether its weekly target is reached cannot be "
                "measured, so new risk is refused until the venue reports it",
            )
        if not week.weekly_target_reached:
            return ALLOW
        return self._preserve(order, view)

    def _preserve(self, order: OrderRequest, view: AccountView) -> Verdict:
        mode = f"{order.account} reached its weekly target and is in preservation mode {self._until(view)}"
        limit = fmt(self.params.preservation_risk_pct)
        if order.stop_loss is None:
            return Deny(
                self.name, CODE, f"{mode}: orders must carry a stop_loss risking at most {limit} % of equity; refused"
            )
        price = order_price(order, view)
        if price is None:
            return Deny(self.name, "price_unknown", f"no price for {order.symbol}: the order's risk cannot be measured")
        instrument = view.instruments[order.symbol]
        snapshot = view.account(order.account)
        if snapshot is None:
            return Deny(self.name, "account_unknown", f"no account update for {order.account}: its equity is unknown")
        if snapshot.currency != instrument.currency:
            return Deny(
                self.name,
                "currency_mismatch",
                f"{order.symbol} is valued in {instrument.currency} but {order.account}'s equity is in "
                f"{snapshot.currency}: the order's risk cannot be measured against it",
            )
        risk = abs(price - order.stop_loss) * order.qty * instrument.multiplier
        if risk * 100 <= snapshot.equity * self.params.preservation_risk_pct:
            return ALLOW
        currency = instrument.currency
        allowed = snapshot.equity * self.params.preservation_risk_pct / 100
        return Deny(
            self.name,
            CODE,
            f"{mode}: the order risks {fmt(risk, currency)} to its stop, over {limit} % of equity "
            f"({fmt(allowed, currency)} of {fmt(snapshot.equity, currency)}); refused",
        )

    def react(
        self, event: Event, view: AccountView, state: WeeklyRewardTargetState
    ) -> tuple[WeeklyRewardTargetState, Sequence[Action]]:
        if isinstance(event, AccountSnapshot):
            account = event.account
            week = self.week(state, account, view)
            if week.start_equity is not None:
                return state, ()
            week = replace(week, start_equity=event.equity, currency=event.currency)
        elif isinstance(event, FillBooked) and event.applied.realized_pnl != 0:
            account = event.fill.account
            week = self.week(state, account, view)
            booked_in = view.instruments[event.fill.symbol].currency
            booked = week.weekly_pnl.get(booked_in, ZERO) + event.applied.realized_pnl
            week = replace(week, weekly_pnl={**week.weekly_pnl, booked_in: booked})
        else:
            return state, ()
        actions: list[Action] = []
        progress = None if week.weekly_target_reached else _progress(week)
        if progress is None:
            return WeeklyRewardTargetState({**state.accounts, account: week}), actions
        currency, pnl, equity = progress
        if pnl * 100 >= equity * self.params.target_pct:
            week = replace(week, weekly_target_reached=True, reached_at=view.now)
            actions.append(
                RaiseAlert(
                    rule=self.name,
                    reason=self._sentence(account, pnl, equity, currency, view),
                    level=AlertLevel.INFO,
                    account=account,
                )
            )
        return WeeklyRewardTargetState({**state.accounts, account: week}), actions

    def headroom(self, view: AccountView, state: WeeklyRewardTargetState) -> Sequence[Headroom]:
        """Per account, the week's realized PnL in its target currency toward `target_pct` of the
        week's starting equity (1000 of 2000 USD: 20 % of 10000); a target, not a breach: from
        100 % on, preservation mode applies. None before the week's first account update (nothing to measure)."""
        rows = []
        for account in view.account_ids():
            progress = _progress(self.week(state, account, view))
            if progress is not None:
                currency, pnl, equity = progress
                target = equity * self.params.target_pct / 100
                rows.append(
                    Headroom(
                        self.name, "weekly realized profit toward target", Scope(account=account), pnl, target, currency
                    )
                )
        return rows

    def _sentence(self, account: str, pnl: Decimal, equity: Decimal, currency: str, view: AccountView) -> str:
        pct = (pnl * 100 / equity).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        return (
            f"Weekly target reached on {account}: realized {fmt(pnl, currency)} this week is {fmt(pct)} % of the "
            f"{fmt(equity, currency)} it started with (target {fmt(self.params.target_pct)} %); preservation mode "
            f"{self._until(view)}: new orders need a stop_loss risking at most "
            f"{fmt(self.params.preservation_risk_pct)} % of equity"
        )

    def _until(self, view: AccountView) -> str:
        return until_text(self.schedule.next_reset(view.now), self.schedule)


def _progress(week: AccountWeek) -> tuple[str, Decimal, Decimal] | None:
    """(currency, realized PnL in it, starting equity) the target is measured on; None while the
    week has no snapshot yet, or one with no positive equity (no target can be reached)."""
    if week.currency is None or week.start_equity is None or week.start_equity <= 0:
        return None
    return week.currency, week.weekly_pnl.get(week.currency, ZERO), week.start_equity
