"""DrawdownKillSwitch (seed 003): the drawdown circuit breaker against the high-water mark.

Drawdown = 1 − equity / HWM, where equity is the venue's account equity (from account updates)
and HWM the peak equity since the last reset. When it reaches `max_drawdown_pct` (default 10,
allowed 1–30; reaching it counts: 90,000 after a 100,000 peak trips a 10 % switch), the switch
trips: `kill_switch_active`, `kill_switch_triggered_at`, a critical alert, a close of every
position (the emergency-close loop), a cancel of every order, and a lockout that only an
operator's reset ends. A close the shell reports as failed (after its retries) is recorded with
`close_reason = kill_switch_close_fail` and alerted as critical again: a human must close it.

Reset (an operator command, audited with who and why) clears the switch and re-baselines the HWM
to the current equity: after a 20 % fall and a reset, a further 10 % fall — 28 % from the
original peak — trips it again. While the HWM or the equity is unknown (no account update yet,
or equity at or below zero), drawdown cannot be measured and new risk is refused
(`drawdown_unknown`), rather than silently not protecting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import Action, AlertLevel, RaiseAlert
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.errors import InvalidInput
from riskguard.core.events import ActionFailed, Event, ResetRequested
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions
from riskguard.core.scope import Scope

__all__ = ["AccountDrawdown", "DrawdownKillSwitch", "DrawdownKillSwitchParams", "KillSwitchState"]

CLOSE_FAIL = "kill_switch_close_fail"
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawdownKillSwitchParams(RuleParams):
    max_drawdown_pct: Decimal = Decimal(10)  # trips when equity has fallen this % below the HWM (1-30)


@dataclass(frozen=True, slots=True)
class AccountDrawdown:
    """One account's switch: the HWM, the latest equity, and whether and when it tripped."""

    hwm: Decimal
    equity: Decimal
    currency: str = "USD"
    kill_switch_active: bool = False
    kill_switch_triggered_at: datetime | None = None
    close_failures: tuple[tuple[str, str, str], ...] = ()  # (symbol, close_reason, why), in order

    @property
    def drawdown_pct(self) -> Decimal | None:
        """1 − equity / HWM, in %; None while it cannot be measured (HWM at or below zero)."""
        return None if self.hwm <= 0 else (1 - self.equity / self.hwm) * 100


@dataclass(frozen=True, slots=True)
class KillSwitchState:
    accounts: dict[str, AccountDrawdown] = field(default_factory=dict)


class DrawdownKillSwitch(Rule[DrawdownKillSwitchParams, KillSwitchState]):
    name = "drawdown_kill_switch"
    gate = True
    reactive = True

    def __init__(self, params: DrawdownKillSwitchParams) -> None:
        pct = params.max_drawdown_pct
        if not isinstance(pct, Decimal) or not Decimal(1) <= pct <= Decimal(30):
            raise InvalidInput("max_drawdown_pct", pct, "must be from 1 to 30 (per cent below the high-water mark)")
        super().__init__(params)

    def initial_state(self) -> KillSwitchState:
        return KillSwitchState()

    def check(self, order: OrderRequest, view: AccountView, state: KillSwitchState) -> Verdict:
        switch = state.accounts.get(order.account)
        if switch is None or switch.drawdown_pct is None:
            return Deny(
                self.name,
                "drawdown_unknown",
                f"the high-water mark or equity of {order.account} is unknown, so its drawdown cannot be measured; "
                "new risk is refused until the venue reports a positive equity",
            )
        if switch.kill_switch_active:
            return Deny(self.name, "kill_switch_active", self._tripped_sentence(order.account, switch))
        return ALLOW

    def headroom(self, view: AccountView, state: KillSwitchState) -> Sequence[Headroom]:
        """Drawdown from the high-water mark in %, to 0.01, per account whose drawdown is known."""
        return [
            Headroom(
                self.name,
                "drawdown from high-water mark",
                Scope(account=account),
                drawdown.quantize(_CENT),
                self.params.max_drawdown_pct,
                "%",
            )
            for account, switch in state.accounts.items()
            if (drawdown := switch.drawdown_pct) is not None
        ]

    def react(
        self, event: Event, view: AccountView, state: KillSwitchState
    ) -> tuple[KillSwitchState, Sequence[Action]]:
        if isinstance(event, AccountSnapshot):
            return self._on_equity(event, view, state)
        if isinstance(event, ActionFailed) and event.rule == self.name and event.action == "close_position":
            return self._on_failed_close(event, state)
        if isinstance(event, ResetRequested) and event.rule in (None, self.name):
            return self._on_reset(event, view, state), ()
        return state, ()

    def _on_equity(
        self, snapshot: AccountSnapshot, view: AccountView, state: KillSwitchState
    ) -> tuple[KillSwitchState, Sequence[Action]]:
        account, equity = snapshot.account, snapshot.equity
        switch = state.accounts.get(account)
        if switch is None:
            switch = AccountDrawdown(hwm=equity, equity=equity, currency=snapshot.currency)
        else:
            switch = replace(switch, hwm=max(switch.hwm, equity), equity=equity, currency=snapshot.currency)
        drawdown = switch.drawdown_pct
        if switch.kill_switch_active or drawdown is None or drawdown < self.params.max_drawdown_pct:
            return _with(state, account, switch), ()
        switch = replace(switch, kill_switch_active=True, kill_switch_triggered_at=view.now)
        reason = self._tripped_sentence(account, switch)
        actions = breach_actions(self.name, Enforcement.FLATTEN_AND_LOCK, view, account, reason, None)
        return _with(state, account, switch), actions

    def _on_failed_close(
        self, failed: ActionFailed, state: KillSwitchState
    ) -> tuple[KillSwitchState, Sequence[Action]]:
        switch = state.accounts.get(failed.account)
        if switch is None or not switch.kill_switch_active:
            return state, ()
        symbol = failed.symbol or "?"
        switch = replace(switch, close_failures=(*switch.close_failures, (symbol, CLOSE_FAIL, failed.reason)))
        reason = (
            f"kill switch on {failed.account}: the emergency close of {symbol} failed ({failed.reason}); "
            "the position is still open and must be closed by hand"
        )
        alert = RaiseAlert(
            rule=self.name,
            reason=reason,
            level=AlertLevel.CRITICAL,
            account=failed.account,
            details={"close_reason": CLOSE_FAIL, "symbol": symbol, "action_id": failed.action_id},
        )
        return _with(state, failed.account, switch), (alert,)

    def _on_reset(self, command: ResetRequested, view: AccountView, state: KillSwitchState) -> KillSwitchState:
        """Clear the switch of each account the reset covers and re-baseline its HWM to its equity."""
        accounts = dict(state.accounts)
        for account, switch in state.accounts.items():
            if (
                command.scope.account in (None, account)
                and command.scope.strategy is None
                and command.scope.symbol is None
            ):
                accounts[account] = AccountDrawdown(hwm=switch.equity, equity=switch.equity, currency=switch.currency)
        return KillSwitchState(accounts)

    def _tripped_sentence(self, account: str, switch: AccountDrawdown) -> str:
        drawdown = (switch.drawdown_pct or Decimal(0)).quantize(_CENT)
        return (
            f"Kill switch: equity {fmt(switch.equity, switch.currency)} on {account} is {fmt(drawdown)} % below its "
            f"high-water mark {fmt(switch.hwm, switch.currency)}, at or past the {fmt(self.params.max_drawdown_pct)} % "
            "limit; every position is closed and new risk refused until an operator resets it"
        )


def _with(state: KillSwitchState, account: str, switch: AccountDrawdown) -> KillSwitchState:
    return KillSwitchState({**state.accounts, account: switch})
