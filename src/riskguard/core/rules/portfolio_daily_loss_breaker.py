"""PortfolioDailyLossBreaker (seed 002): a circuit breaker on the whole portfolio's daily loss.

The portfolio is every account the engine sees. Its daily PnL is the realized PnL of the day,
net of fees (the fills booked since the last reset), plus the unrealized PnL of the open
positions at their marks, less the unrealized PnL the positions carried over the reset had at
it (so a position held overnight counts only the day's move; a portfolio flat at the close,
the usual case, has nothing carried). Amounts in different currencies are never added or
converted: the PnL is evaluated per currency, against the start-of-day equity in that
currency, the sum of each account's equity at its first snapshot of the day. Both sides cover
the same accounts: an account counts from its first snapshot of the day on.

When a currency's daily PnL falls to `max_daily_loss_pct` of its start-of-day equity —
reaching it counts: -1000 of 50000 with 2 % trips — the breaker trips: a critical alert, every
position of every account closed, every account's orders cancelled, and new risk refused across
the portfolio (a lockout of scope portfolio) for `recovery_minutes`, but never past the reset at
market close (`reset_time` in `timezone`, 16:00 America/New_York by default), which ends the
day. Exits stay allowed. One breach fires once: while tripped, nothing fires again. When the
recovery ends (or an operator clears the lockout) the breaker re-arms, measuring from the PnL
it tripped at: it trips again the same day only if that currency loses another
`max_daily_loss_pct` of the start-of-day equity (-1000 trips, then -2000 again). The state is
keyed by trading day: at the reset (the rule asks the engine for a tick then) the day starts
afresh, not tripped, with the marks at that moment as the carried positions' baseline (a carried
position that has never had a mark has none: its whole PnL counts).

Fail closed: an order of an account that has sent no snapshot since the reset, or in an
instrument whose currency has no positive start-of-day equity, is refused
(`portfolio_equity_unknown`); a counted open position in that currency without a mark makes
the PnL unknown and refuses it too (`price_unknown`). The state keeps `tripped`, `tripped_at`
and `recovery_until` for the API; `daily_pnl` gives the measured PnL per currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import Action, AlertLevel, CancelAllOrders, ClosePosition, LockOut, RaiseAlert
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.events import ClockTicked, Event, FillBooked, MarkUpdated, ResetRequested
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt, local_time, until_text
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.schedule import ResetSchedule
from riskguard.core.scope import Scope

__all__ = ["AccountDay", "PortfolioBreakerState", "PortfolioDailyLossBreaker", "PortfolioDailyLossBreakerParams"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioDailyLossBreakerParams(RuleParams):
    max_daily_loss_pct: Decimal = Decimal(2)  # daily loss, % of start-of-day equity, that trips it (seed 002: 2)
    recovery_minutes: int = 60  # how long new risk is refused after a trip, minutes (seed 002: 1 h)
    reset_time: str = "16:00"  # market close: the day ends, the breaker re-arms, local time
    timezone: str = "America/New_York"  # IANA name


@dataclass(frozen=True, slots=True)
class AccountDay:
    """One account's part of the day: its equity at its first snapshot (None: no snapshot yet),
    what it has realized, and the unrealized PnL its positions carried over the reset."""

    start_equity: Decimal | None = None
    currency: str | None = None  # the currency of that snapshot
    realized: dict[str, Decimal] = field(default_factory=dict)  # currency -> realized PnL today, net of fees
    carried: dict[str, Decimal] = field(default_factory=dict)  # currency -> unrealized PnL at the reset


@dataclass(frozen=True, slots=True)
class PortfolioBreakerState:
    """The portfolio's trading day, per account, and the breaker."""

    day: date | None = None
    accounts: dict[str, AccountDay] = field(default_factory=dict)
    trip_pnl: dict[str, Decimal] = field(default_factory=dict)  # currency -> daily PnL at its last trip
    tripped: bool = False
    tripped_at: datetime | None = None
    recovery_until: datetime | None = None

    def counted(self) -> dict[str, AccountDay]:
        """The accounts that count today: those that have sent a snapshot since the reset."""
        return {name: account for name, account in self.accounts.items() if account.start_equity is not None}

    def start_equity(self) -> dict[str, Decimal]:
        """Currency -> the sum of the counted accounts' equity at their first snapshot of the day."""
        sums: dict[str, Decimal] = {}
        for account in self.accounts.values():
            if account.start_equity is not None and account.currency is not None:
                sums[account.currency] = sums.get(account.currency, ZERO) + account.start_equity
        return sums


class PortfolioDailyLossBreaker(Rule[PortfolioDailyLossBreakerParams, PortfolioBreakerState]):
    name = "portfolio_daily_loss_breaker"
    gate = True
    reactive = True

    def __init__(self, params: PortfolioDailyLossBreakerParams) -> None:
        if not ZERO < params.max_daily_loss_pct <= 100:
            raise InvalidInput(
                "max_daily_loss_pct", str(params.max_daily_loss_pct), "must be more than 0 and at most 100"
            )
        minutes = params.recovery_minutes
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
            raise InvalidInput("recovery_minutes", minutes, "must be a whole number of minutes, at least 1")
        super().__init__(params)
        self.recovery = timedelta(minutes=minutes)
        self.schedule = ResetSchedule.daily(params.reset_time, params.timezone)

    def initial_state(self) -> PortfolioBreakerState:
        return PortfolioBreakerState()

    def today(self, state: PortfolioBreakerState, view: AccountView) -> PortfolioBreakerState:
        """The state for the trading day holding `view.now`: a new day starts afresh, with the
        unrealized PnL of the positions open now as what they carried into it."""
        day = self.schedule.trading_day(view.now)
        if state.day == day:
            return state
        carried: dict[str, dict[str, Decimal]] = {}
        for position in view.all_positions():
            mark = view.mark(position.symbol)
            if mark is not None:
                sums = carried.setdefault(position.account, {})
                sums[position.currency] = sums.get(position.currency, ZERO) + position.unrealized_pnl(mark.price)
        return PortfolioBreakerState(day, {account: AccountDay(carried=sums) for account, sums in carried.items()})

    def daily_pnl(self, view: AccountView, state: PortfolioBreakerState) -> dict[str, Decimal | None]:
        """The portfolio's daily PnL per currency, over the accounts with a snapshot today
        (None: one of their open positions has no mark)."""
        day = self.today(state, view)
        counted = day.counted()
        sums: dict[str, Decimal] = {}
        for account in counted.values():
            for currency, amount in account.realized.items():
                sums[currency] = sums.get(currency, ZERO) + amount
            for currency, amount in account.carried.items():
                sums[currency] = sums.get(currency, ZERO) - amount
        unpriced: dict[str, None] = {}
        for position in view.all_positions():
            if position.account not in counted:
                continue
            mark = view.mark(position.symbol)
            so_far = sums.get(position.currency, ZERO)
            if mark is None:
                unpriced[position.currency] = None
                sums[position.currency] = so_far
            else:
                sums[position.currency] = so_far + position.unrealized_pnl(mark.price)
        return {currency: None if currency in unpriced else pnl for currency, pnl in sums.items()}

    def check(self, order: OrderRequest, view: AccountView, state: PortfolioBreakerState) -> Verdict:
        day = self.today(state, view)
        mine = day.accounts.get(order.account)
        if mine is None or mine.start_equity is None:
            return Deny(
                self.name,
                "portfolio_equity_unknown",
                f"no account update for {order.account} since the {self._since(view)} reset: the portfolio's "
                "start-of-day equity is not known, so new risk is refused until the venue reports it",
            )
        currency = view.instruments[order.symbol].currency
        if day.start_equity().get(currency, ZERO) <= 0:
            return Deny(
                self.name,
                "portfolio_equity_unknown",
                f"the portfolio has no positive start-of-day equity in {currency} since the {self._since(view)} reset, "
                f"so its daily loss in {currency} cannot be measured; new risk in {order.symbol} is refused",
            )
        counted = day.counted()
        unpriced = dict.fromkeys(
            p.symbol
            for p in view.all_positions()
            if p.currency == currency and p.account in counted and view.mark(p.symbol) is None
        )
        if unpriced:
            return Deny(
                self.name,
                "price_unknown",
                f"no mark price for {', '.join(unpriced)}: the portfolio's daily PnL in {currency} cannot be measured, "
                "so new risk is refused until a price arrives",
            )
        return ALLOW

    def react(
        self, event: Event, view: AccountView, state: PortfolioBreakerState
    ) -> tuple[PortfolioBreakerState, Sequence[Action]]:
        if not isinstance(event, FillBooked | MarkUpdated | AccountSnapshot | ClockTicked | ResetRequested):
            return state, ()
        day = self.today(state, view)
        if day.tripped and day.recovery_until is not None and view.now >= day.recovery_until:
            day = replace(day, tripped=False)  # the recovery is over: re-armed
        if isinstance(event, ResetRequested):
            mine = any(lockout.rule == self.name for lockout in view.lockouts.all())
            if day.tripped and not mine and event.rule in (None, self.name):
                day = replace(day, tripped=False)  # an operator cleared the lockout: re-armed now
        elif isinstance(event, AccountSnapshot):
            account = day.accounts.get(event.account, AccountDay())
            if account.start_equity is None:
                account = replace(account, start_equity=event.equity, currency=event.currency)
                day = replace(day, accounts={**day.accounts, event.account: account})
        elif isinstance(event, FillBooked) and event.applied.realized_pnl != 0:
            account = day.accounts.get(event.fill.account, AccountDay())
            currency = view.instruments[event.fill.symbol].currency
            realized = {**account.realized, currency: account.realized.get(currency, ZERO) + event.applied.realized_pnl}
            day = replace(day, accounts={**day.accounts, event.fill.account: replace(account, realized=realized)})
        if day.tripped:
            return day, ()
        return self._evaluate(view, day)

    def _evaluate(
        self, view: AccountView, day: PortfolioBreakerState
    ) -> tuple[PortfolioBreakerState, Sequence[Action]]:
        breached: dict[str, Decimal] = {}
        start_equity = day.start_equity()
        for currency, pnl in self.daily_pnl(view, day).items():
            equity = start_equity.get(currency, ZERO)
            if pnl is None or equity <= 0:
                continue
            if pnl <= self._trips_at(day, currency, equity):
                breached[currency] = pnl
        if not breached:
            return day, ()
        reset = self.schedule.next_reset(view.now)
        until = min(view.now + self.recovery, reset)
        reason = self._sentence(day, start_equity, breached, until, reset)
        tripped = replace(
            day, trip_pnl={**day.trip_pnl, **breached}, tripped=True, tripped_at=view.now, recovery_until=until
        )
        return tripped, self._actions(view, day, reason, until)

    def _trips_at(self, day: PortfolioBreakerState, currency: str, equity: Decimal) -> Decimal:
        """The daily PnL in `currency` that trips the breaker next: `max_daily_loss_pct` of the
        start-of-day `equity` below zero, or below the PnL it last tripped at today."""
        return day.trip_pnl.get(currency, ZERO) - self.params.max_daily_loss_pct * equity / 100

    def headroom(self, view: AccountView, state: PortfolioBreakerState) -> Sequence[Headroom]:
        """The portfolio's daily PnL per currency against the PnL that trips it next (-600 of
        -1000 USD; after a trip at -1000, of -2000), portfolio-wide; none for a currency without
        positive start-of-day equity or with an unmarked position (the gate refuses then)."""
        day = self.today(state, view)
        pnl_by_currency = self.daily_pnl(view, day)
        rows = []
        for currency, equity in day.start_equity().items():
            pnl = pnl_by_currency.get(currency, ZERO)
            if pnl is not None and equity > 0:
                limit = self._trips_at(day, currency, equity)
                rows.append(Headroom(self.name, "portfolio daily loss", Scope(), pnl, limit, currency))
        return rows

    def _actions(self, view: AccountView, day: PortfolioBreakerState, reason: str, until: datetime) -> list[Action]:
        """Alert, then per account its closes and a cancel, then the portfolio lockout."""
        actions: list[Action] = [RaiseAlert(rule=self.name, reason=reason, level=AlertLevel.CRITICAL)]
        holders = [p.account for p in view.all_positions()]
        ordering = [o.account for o in view.orders.all()]
        for account in dict.fromkeys([*view.accounts, *day.accounts, *holders, *ordering]):
            for symbol in view.symbols_held(account):
                if view.net_qty(account, symbol) != 0:
                    actions.append(ClosePosition(rule=self.name, reason=reason, account=account, symbol=symbol))
            actions.append(CancelAllOrders(rule=self.name, reason=reason, account=account))
        actions.append(LockOut(rule=self.name, reason=reason, scope=Scope(), until=until))
        return actions

    def _sentence(
        self,
        day: PortfolioBreakerState,
        start_equity: dict[str, Decimal],
        breached: dict[str, Decimal],
        until: datetime,
        reset: datetime,
    ) -> str:
        limit = fmt(self.params.max_daily_loss_pct)
        parts = []
        for currency, pnl in breached.items():
            equity = start_equity[currency]
            pct = (pnl * 100 / equity).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
            text = f"{fmt(pnl, currency)} ({fmt(pct)} % of the {fmt(equity, currency)} start-of-day equity)"
            last = day.trip_pnl.get(currency)
            if last is None:
                parts.append(f"{text} reached the {limit} % limit")
            else:
                parts.append(f"{text} fell another {limit} % below the {fmt(last, currency)} it last tripped at")
        ending = (
            "the market-close reset"
            if until == reset
            else f"the end of the {self.params.recovery_minutes} min recovery"
        )
        return (
            f"Portfolio daily loss {' and '.join(parts)}; all positions are closed, orders cancelled and new risk "
            f"refused {until_text(until, self.schedule)}, {ending}"
        )

    def _since(self, view: AccountView) -> str:
        return local_time(self.schedule.period_start(view.now), self.schedule)

    def next_deadline(self, view: AccountView, state: PortfolioBreakerState) -> datetime | None:
        """The end of the recovery, when the breaker re-arms; else the reset, when the day starts
        afresh (once the rule has seen an event: an engine that has seen none has no time yet)."""
        if state.tripped and state.recovery_until is not None:
            return state.recovery_until
        return None if state.day is None else self.schedule.next_reset(view.now)
