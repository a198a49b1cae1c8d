"""The mechanism shared by the floating-PnL thresholds (daily_unrealized_loss, max_unrealized_profit).

The account's unrealized PnL at marks, per currency, is checked after every mark and fill; when
a subclass's `crossed` says the threshold is reached, `on_breach` applies until the next daily
reset. One crossing fires once: the account stays marked for the trading day until it is flat
again, so the fills of its own closes change nothing. While any open position of the account, or
the order's own symbol, has no mark, the PnL cannot be measured and new risk is refused
(`price_unknown`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Generic, TypeVar

from riskguard.core.actions import Action
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.events import Event, FillBooked, MarkUpdated
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.schedule import ResetSchedule
from riskguard.core.scope import Scope

__all__ = ["FiredToday", "FloatingPnlParams", "FloatingPnlRule"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FloatingPnlParams(RuleParams):
    reset_time: str = "17:00"  # when the trading day ends and the lockout with it, local time
    timezone: str = "America/New_York"  # IANA name
    on_breach: Enforcement = Enforcement.FLATTEN_AND_LOCK  # close, cancel and lock until the reset


@dataclass(frozen=True, slots=True)
class FiredToday:
    """Accounts whose threshold was reached, with the trading day it was, until they are flat again."""

    fired: dict[str, date] = field(default_factory=dict)


P = TypeVar("P", bound=FloatingPnlParams)


class FloatingPnlRule(Rule[P, FiredToday], ABC, Generic[P]):
    gate = True
    reactive = True
    measures: ClassVar[str]  # "loss" or "profit", for messages
    label: ClassVar[str]  # the headroom row's name for people: "unrealized loss", "unrealized profit"

    def __init__(self, params: P) -> None:
        super().__init__(params)
        self.schedule = ResetSchedule.daily(params.reset_time, params.timezone)

    @abstractmethod
    def crossed(self, unrealized: Decimal) -> bool:
        """Has the account's unrealized PnL reached this rule's threshold?"""

    @property
    @abstractmethod
    def threshold(self) -> Decimal:
        """The threshold as the trader reads it: a loss negative (-300), a target positive (1000)."""

    @abstractmethod
    def sentence(self, account: str, unrealized: Decimal, currency: str, until: datetime) -> str:
        """The breach, for a trader: value, threshold, and what happens next."""

    def initial_state(self) -> FiredToday:
        return FiredToday()

    def check(self, order: OrderRequest, view: AccountView, state: FiredToday) -> Verdict:
        symbols = dict.fromkeys([*view.symbols_held(order.account), order.symbol])
        unpriced = [symbol for symbol in symbols if view.mark(symbol) is None]
        if unpriced:
            return Deny(
                self.name,
                "price_unknown",
                f"no mark price for {', '.join(unpriced)}: the unrealized {self.measures} of {order.account} cannot "
                "be measured, so new risk is refused until a price arrives",
            )
        return ALLOW

    def headroom(self, view: AccountView, state: FiredToday) -> Sequence[Headroom]:
        """The unrealized PnL at marks against the threshold, per account and currency (a flat
        account: 0 in its currency); none for a currency with an unmarked position (the gate
        refuses new risk then)."""
        rows = []
        for account in view.account_ids():
            sums = _unrealized_by_currency(view, account)
            if not sums and account in view.accounts:
                sums = {view.accounts[account].currency: Decimal(0)}
            rows += [
                Headroom(self.name, self.label, Scope(account=account), unrealized, self.threshold, currency)
                for currency, unrealized in sums.items()
                if unrealized is not None
            ]
        return rows

    def react(self, event: Event, view: AccountView, state: FiredToday) -> tuple[FiredToday, Sequence[Action]]:
        if isinstance(event, FillBooked):
            accounts = [event.fill.account]
        elif isinstance(event, MarkUpdated):
            accounts = list(dict.fromkeys(p.account for p in view.ledger.open_positions(symbol=event.symbol)))
        else:
            return state, ()
        today = self.schedule.trading_day(view.now)
        fired = dict(state.fired)
        actions: list[Action] = []
        for account in accounts:
            if not view.positions(account):
                fired.pop(account, None)
                continue
            if fired.get(account) == today:
                continue
            for currency, unrealized in _unrealized_by_currency(view, account).items():
                if unrealized is not None and self.crossed(unrealized):
                    fired[account] = today
                    until = self.schedule.next_reset(view.now)
                    reason = self.sentence(account, unrealized, currency, until)
                    actions += breach_actions(self.name, self.params.on_breach, view, account, reason, until)
                    break
        return FiredToday(fired), actions


def _unrealized_by_currency(view: AccountView, account: str) -> dict[str, Decimal | None]:
    """The account's open positions at their marks, summed per currency; None where one has no mark."""
    sums: dict[str, Decimal | None] = {}
    for position in view.positions(account):
        mark = view.mark(position.symbol)
        so_far = sums.get(position.currency, Decimal(0))
        sums[position.currency] = (
            None if mark is None or so_far is None else so_far + position.unrealized_pnl(mark.price)
        )
    return sums
