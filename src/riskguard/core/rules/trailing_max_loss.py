"""TrailingMaxLoss: Topstep's Maximum Loss Limit (MLL), an end-of-day trailing drawdown.

Source: Topstep's Trading Combine / Express Funded Account rules as commonly published (e.g.
the 50K account: 2,000 USD MLL). Prop firms change their rules; check the firm's current
terms and set the params to match.

The MLL level is `EOD high − max_loss`, where the EOD high starts at `starting_balance` and, at
each end of the trading day (`reset_time` in `timezone`, 16:00 America/Chicago by default, when
Topstep's trading day ends), is raised to the day's closing balance if that is higher. The
closing balance is the balance of the last account update seen before the reset; the rise is
applied when the first account update of the next trading day arrives. The level never rises
above `starting_balance`: it locks there once the EOD high reaches `starting_balance +
max_loss` (50,000 start, 2,000 MLL: the level trails from 48,000 up to 50,000 and stays).

Intraday, the account's equity is the venue's equity from its account updates (balance plus the
unrealized PnL of open positions, as the venue computes it). When equity reaches the level
(equity ≤ level: touching it counts), the account breaches: a critical alert, every position
closed, every order cancelled, and a lockout that only an operator's reset ends (Topstep fails
the account). Exits are never blocked. An operator's reset clears the breach; if equity is still
at or below the level, the next account update breaches again. Until the first account update
of an account arrives, its level and equity are unknown and new risk is refused
(`account_unknown`). `mll_status` gives the level and its inputs for the API.
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
from riskguard.core.rules._amounts import fmt, outcome_text
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.schedule import ResetSchedule
from riskguard.core.scope import Scope

__all__ = ["AccountMll", "MllState", "TrailingMaxLoss", "TrailingMaxLossParams", "mll_status"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailingMaxLossParams(RuleParams):
    max_loss: Decimal  # the Maximum Loss Limit, a positive amount in the account currency (50K account: 2000)
    starting_balance: Decimal  # the account's starting balance (50K account: 50000); the highest the level goes
    reset_time: str = "16:00"  # when the trading day ends (Topstep: 16:00 Central), local time
    timezone: str = "America/Chicago"  # IANA name
    on_breach: Enforcement = Enforcement.FLATTEN_AND_LOCK  # close, cancel and lock until an operator resets


@dataclass(frozen=True, slots=True)
class AccountMll:
    """One account: the EOD high so far, the trading day and balance of its latest update (the
    day's close once the day ends), its latest equity, and whether it breached."""

    eod_high: Decimal
    level: Decimal  # min(eod_high − max_loss, starting_balance), kept so mll_status needs no params
    day: date
    last_balance: Decimal
    equity: Decimal
    currency: str = "USD"
    breached: bool = False


@dataclass(frozen=True, slots=True)
class MllState:
    accounts: dict[str, AccountMll] = field(default_factory=dict)


class TrailingMaxLoss(Rule[TrailingMaxLossParams, MllState]):
    name = "trailing_max_loss"
    gate = True
    reactive = True

    def __init__(self, params: TrailingMaxLossParams) -> None:
        if not isinstance(params.max_loss, Decimal) or params.max_loss <= ZERO:
            raise InvalidInput("max_loss", params.max_loss, "must be a positive amount (e.g. 2000)")
        if not isinstance(params.starting_balance, Decimal) or params.starting_balance <= ZERO:
            raise InvalidInput("starting_balance", params.starting_balance, "must be a positive amount (e.g. 50000)")
        super().__init__(params)
        self.schedule = ResetSchedule.daily(params.reset_time, params.timezone)

    def initial_state(self) -> MllState:
        return MllState()

    def level(self, eod_high: Decimal) -> Decimal:
        """EOD high − max_loss, never above the starting balance."""
        return min(eod_high - self.params.max_loss, self.params.starting_balance)

    def check(self, order: OrderRequest, view: AccountView, state: MllState) -> Verdict:
        mll = state.accounts.get(order.account)
        if mll is None:
            return Deny(
                self.name,
                "account_unknown",
                f"no account update has arrived for {order.account}, so its equity against the Maximum Loss Limit "
                "cannot be measured; new risk is refused until the venue reports it",
            )
        if mll.breached:
            return Deny(self.name, "trailing_max_loss", self._sentence(order.account, mll))
        return ALLOW

    def headroom(self, view: AccountView, state: MllState) -> Sequence[Headroom]:
        """Per account, as a loss against `max_loss`: its latest equity less the level + `max_loss`
        (the EOD high, or starting balance + max_loss once the level has locked) of -`max_loss`.
        50,000 start, 2,000 MLL, equity 49,000: level 48,000, -1000 of -2000 USD, 50 %; equity at the
        level is -2000, all used. None before the account's first update (the gate refuses then)."""
        return [
            Headroom(
                self.name,
                "loss from the maximum loss limit",
                Scope(account=account),
                mll.equity - mll.level - self.params.max_loss,
                -self.params.max_loss,
                mll.currency,
            )
            for account, mll in state.accounts.items()
        ]

    def react(self, event: Event, view: AccountView, state: MllState) -> tuple[MllState, Sequence[Action]]:
        if isinstance(event, AccountSnapshot):
            return self._on_snapshot(event, view, state)
        if isinstance(event, ResetRequested) and event.rule in (None, self.name):
            return self._on_reset(event, state), ()
        return state, ()

    def _on_snapshot(
        self, snapshot: AccountSnapshot, view: AccountView, state: MllState
    ) -> tuple[MllState, Sequence[Action]]:
        account = snapshot.account
        today = self.schedule.trading_day(view.now)
        mll = state.accounts.get(account)
        if mll is None:
            eod_high = self.params.starting_balance
            breached = False
        else:
            # A new trading day: the previous day's closing balance raises the EOD high if higher.
            eod_high = mll.eod_high if mll.day == today else max(mll.eod_high, mll.last_balance)
            breached = mll.breached
        level = self.level(eod_high)
        mll = AccountMll(eod_high, level, today, snapshot.balance, snapshot.equity, snapshot.currency, breached)
        if mll.breached or mll.equity > mll.level:
            return _with(state, account, mll), ()
        mll = replace(mll, breached=True)
        reason = self._sentence(account, mll)
        actions = breach_actions(self.name, self.params.on_breach, view, account, reason, None)
        return _with(state, account, mll), actions

    def _on_reset(self, command: ResetRequested, state: MllState) -> MllState:
        accounts = dict(state.accounts)
        for account, mll in state.accounts.items():
            if (
                command.scope.account in (None, account)
                and command.scope.strategy is None
                and command.scope.symbol is None
            ):
                accounts[account] = replace(mll, breached=False)
        return MllState(accounts)

    def _sentence(self, account: str, mll: AccountMll) -> str:
        currency = mll.currency
        ending = outcome_text(self.params.on_breach, "until an operator resets it")
        return (
            f"Maximum Loss Limit: equity {fmt(mll.equity, currency)} on {account} reached the "
            f"{fmt(mll.level, currency)} level (EOD high {fmt(mll.eod_high, currency)} − "
            f"{fmt(self.params.max_loss, currency)}, at most the starting balance); {ending}"
        )


def mll_status(state: MllState, account: str) -> dict[str, Decimal | bool | str | None]:
    """The account's MLL as of its latest account update (for the API): `mll_level`, the EOD
    high it trails, the latest equity and whether it breached; all None before the first update.
    A day's close raises the EOD high when the next day's first update arrives."""
    mll = state.accounts.get(account)
    if mll is None:
        return {"mll_level": None, "eod_high": None, "equity": None, "trading_day": None, "breached": False}
    return {
        "mll_level": mll.level,
        "eod_high": mll.eod_high,
        "equity": mll.equity,
        "trading_day": mll.day.isoformat(),
        "breached": mll.breached,
    }


def _with(state: MllState, account: str, mll: AccountMll) -> MllState:
    return MllState({**state.accounts, account: mll})
