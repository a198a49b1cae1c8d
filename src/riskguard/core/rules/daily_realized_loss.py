"""DailyRealizedLoss (seed 001, hard lockout; seed 004's daily loss in absolute and %; seed 003's daily-loss halt).

Realized PnL of the trading day, net of fees, per account. The day runs from one reset to the
next (`reset_time` in `timezone`, 17:00 America/New_York by default, as CME trades). When it
falls to the limit — reaching it counts — the account is flattened, its orders cancelled, and
new risk refused until the next reset. `limit` may be written -500 or 500: it is a loss either
way. `limit_pct` (optional) is a loss as % of the day's start value: the balance (or, with
`start_basis: equity`, the equity) of the first account update of the trading day; whichever
limit is nearer fires. Until that update arrives, a `limit_pct` without `limit` refuses new
risk (fail closed). A start value that arrives after the day's losses already reach the limit
fires the breach then.

With `manual_reset: false` an operator's reset of the lock is refused (with a warning naming
when it ends): the lock clears by itself at the next reset only (so it cannot be combined with
`latch: true`). With the default `manual_reset: true` a reset ends the lockout, but the gate
still refuses new risk (`daily_loss_limit`) while the day's loss is past the limit. Seed 003's daily-loss halt is
`{limit_pct: 5, start_basis: equity, reset_time: "00:00", timezone: "UTC", on_breach:
block_entries, manual_reset: false}`: new trades halted for the rest of the UTC day, exits
allowed. `daily_loss_status` gives seed 003's fields (`daily_loss_halt`, `daily_start_equity`,
`daily_date`, `daily_realized_pnl`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked
from riskguard.core.headroom import Headroom
from riskguard.core.lockouts import Lockout
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt, local_time, outcome_text, until_text
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.schedule import ResetSchedule
from riskguard.core.scope import Scope

__all__ = [
    "DailyLossState",
    "DailyRealizedLoss",
    "DailyRealizedLossParams",
    "DayTally",
    "StartBasis",
    "daily_loss_status",
]

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class StartBasis(StrEnum):
    BALANCE = "balance"
    EQUITY = "equity"


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyRealizedLossParams(RuleParams):
    limit: Decimal | None = None  # the day's realized loss that stops trading, e.g. -500 (USD)
    limit_pct: Decimal | None = None  # or as % of the day's start value, >0 and ≤100 (seed 003: 5, allowed 0.5–10)
    start_basis: StartBasis = StartBasis.BALANCE  # start value: the day's first balance, or equity (seed 003)
    reset_time: str = "17:00"  # when the trading day ends, local time
    timezone: str = "America/New_York"  # IANA name
    on_breach: Enforcement = Enforcement.FLATTEN_AND_LOCK  # what a breach does (see the top of this page)
    manual_reset: bool = True  # false: resets of the lock are refused; it ends at the next reset (seed 003)


@dataclass(frozen=True, slots=True)
class DayTally:
    """One account's day: realized PnL so far, the balance or equity it started from (per
    `start_basis`), whether it breached."""

    day: date
    realized: Decimal = ZERO
    start: Decimal | None = None
    breached: bool = False


@dataclass(frozen=True, slots=True)
class DailyLossState:
    tallies: dict[str, DayTally] = field(default_factory=dict)


class DailyRealizedLoss(Rule[DailyRealizedLossParams, DailyLossState]):
    name = "daily_realized_loss"
    gate = True
    reactive = True

    def __init__(self, params: DailyRealizedLossParams) -> None:
        pct = params.limit_pct
        if pct is not None and not ZERO < pct <= HUNDRED:
            raise InvalidInput(
                "limit_pct", str(pct), "must be more than 0 and at most 100 (% of the day's start value)"
            )
        if params.latch and not params.manual_reset:
            raise InvalidInput(
                "manual_reset", False, "cannot be false with latch: true (a latched lock ends only by a reset)"
            )
        super().__init__(params)
        self.schedule = ResetSchedule.daily(params.reset_time, params.timezone)

    def initial_state(self) -> DailyLossState:
        return DailyLossState()

    def _tally(self, state: DailyLossState, account: str, view: AccountView) -> DayTally:
        today = self.schedule.trading_day(view.now)
        tally = state.tallies.get(account)
        return tally if tally is not None and tally.day == today else DayTally(today)

    def _pct_limit(self, tally: DayTally) -> Decimal | None:
        if self.params.limit_pct is None or tally.start is None:
            return None
        return tally.start * self.params.limit_pct / HUNDRED

    def _limit(self, tally: DayTally) -> Decimal | None:
        """The loss (a positive amount) that breaches, the nearer of the two limits."""
        limits = [] if self.params.limit is None else [abs(self.params.limit)]
        pct_limit = self._pct_limit(tally)
        if pct_limit is not None:
            limits.append(pct_limit)
        return min(limits, default=None)

    def check(self, order: OrderRequest, view: AccountView, state: DailyLossState) -> Verdict:
        tally = self._tally(state, order.account, view)
        limit = self._limit(tally)
        if limit is not None and -tally.realized >= limit:
            return Deny(self.name, "daily_loss_limit", self._sentence(order.account, tally, limit, view))
        if limit is None and self.params.limit_pct is not None and self.params.limit is None:
            basis = self.params.start_basis.value
            return Deny(
                self.name,
                "daily_loss_limit",
                f"the daily loss limit is {fmt(self.params.limit_pct)} % of the day's starting {basis}, "
                f"and no {basis} has been reported for {order.account} today",
            )
        return ALLOW

    def react(self, event: Event, view: AccountView, state: DailyLossState) -> tuple[DailyLossState, Sequence[Action]]:
        if isinstance(event, AccountSnapshot):
            tally = self._tally(state, event.account, view)
            if tally.start is not None:
                return state, ()
            start = event.equity if self.params.start_basis is StartBasis.EQUITY else event.balance
            return self._judge(state, event.account, DayTally(tally.day, tally.realized, start, tally.breached), view)
        if not isinstance(event, FillBooked) or event.applied.realized_pnl == 0:
            return state, ()
        account = event.fill.account
        tally = self._tally(state, account, view)
        tally = DayTally(tally.day, tally.realized + event.applied.realized_pnl, tally.start, tally.breached)
        return self._judge(state, account, tally, view)

    def _judge(
        self, state: DailyLossState, account: str, tally: DayTally, view: AccountView
    ) -> tuple[DailyLossState, Sequence[Action]]:
        """Keep `tally`; on the first time today its loss reaches the limit, the breach's actions."""
        limit = self._limit(tally)
        if tally.breached or limit is None or -tally.realized < limit:
            return _with(state, account, tally), ()
        tally = DayTally(tally.day, tally.realized, tally.start, True)
        until = self.schedule.next_reset(view.now)
        reason = self._sentence(account, tally, limit, view)
        actions = breach_actions(self.name, self.params.on_breach, view, account, reason, until)
        return _with(state, account, tally), actions

    def headroom(self, view: AccountView, state: DailyLossState) -> Sequence[Headroom]:
        """The day's realized PnL against the nearer limit, per account (none while a %-only
        limit has no start value yet: the gate refuses new risk then)."""
        rows = []
        for account in view.account_ids():
            tally = self._tally(state, account, view)
            limit = self._limit(tally)
            if limit is not None:
                currency = view.accounts[account].currency if account in view.accounts else ""
                rows.append(
                    Headroom(self.name, "daily realized loss", Scope(account=account), tally.realized, -limit, currency)
                )
        return rows

    def refuses_reset(self, view: AccountView, state: DailyLossState, lockout: Lockout) -> str | None:
        if self.params.manual_reset or lockout.until is None or view.now >= lockout.until:
            return None
        return (
            f"the daily loss lock on {lockout.scope} clears by itself at {local_time(lockout.until, self.schedule)}, "
            f"the start of the next trading day; it has no manual reset (manual_reset: false)"
        )

    def _sentence(self, account: str, tally: DayTally, limit: Decimal, view: AccountView) -> str:
        currency = view.accounts[account].currency if account in view.accounts else None
        until = self.schedule.next_reset(view.now)
        when = until_text(until, self.schedule)
        locks = self.params.on_breach is Enforcement.FLATTEN_AND_LOCK
        ending = f"locked out {when}" if locks else outcome_text(self.params.on_breach, when)
        of = ""
        if limit == self._pct_limit(tally) and tally.start is not None and self.params.limit_pct is not None:
            basis = self.params.start_basis.value
            of = f" ({fmt(self.params.limit_pct)} % of the day's starting {basis} {fmt(tally.start, currency)})"
        return (
            f"Daily realized loss {fmt(tally.realized, currency)} reached the {fmt(-limit, currency)} limit{of} "
            f"on {account}; {ending}"
        )


def daily_loss_status(
    rule: DailyRealizedLoss, state: DailyLossState, account: str, view: AccountView
) -> dict[str, bool | Decimal | str | None]:
    """Seed 003's daily-loss fields for one account at `view.now` (for the API): whether the
    day's loss has breached, the value it is measured from (balance or equity per
    `start_basis`; None before the day's first account update), the trading day, and the
    day's realized PnL. A new trading day reads as not halted, with no start value yet."""
    tally = rule._tally(state, account, view)
    return {
        "daily_loss_halt": tally.breached,
        "daily_start_equity": tally.start,
        "daily_date": tally.day.isoformat(),
        "daily_realized_pnl": tally.realized,
    }


def _with(state: DailyLossState, account: str, tally: DayTally) -> DailyLossState:
    return DailyLossState({**state.tallies, account: tally})
