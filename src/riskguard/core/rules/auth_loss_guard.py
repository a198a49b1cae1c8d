"""AuthLossGuard (seed 001, hard lockout by the venue): follow the venue's `can_trade` flag.

While the latest account snapshot says `can_trade` is false, new risk on the account is refused
(`venue_cannot_trade`); an account with no snapshot at all is refused too (`account_unknown`).
No LockOut is set: the block ends exactly when the venue reports `can_trade` true again, not at
a time and not by an operator reset. On the change to false (including a first snapshot that
says false) a critical alert is raised and the account's working orders are cancelled, and,
with `flatten_on_loss`, its positions closed; on the change back to true an info alert says
trading may resume. A snapshot that repeats the current flag does nothing. Exits are never blocked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import Action, AlertLevel, CancelAllOrders, RaiseAlert
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.events import Event
from riskguard.core.orders import OrderRequest
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams, breach_actions

__all__ = ["AuthLossGuard", "AuthLossGuardParams", "AuthLossState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthLossGuardParams(RuleParams):
    flatten_on_loss: bool = False  # also close every position when the venue stops the account (true)


@dataclass(frozen=True, slots=True)
class AuthLossState:
    """Accounts the venue has stopped, with the time of the snapshot that said so."""

    stopped_since: dict[str, datetime] = field(default_factory=dict)


class AuthLossGuard(Rule[AuthLossGuardParams, AuthLossState]):
    name = "auth_loss_guard"
    gate = True
    reactive = True

    def initial_state(self) -> AuthLossState:
        return AuthLossState()

    def check(self, order: OrderRequest, view: AccountView, state: AuthLossState) -> Verdict:
        snapshot = view.account(order.account)
        if snapshot is None:
            return Deny(
                self.name,
                "account_unknown",
                f"no account update has been received for {order.account}, so whether the venue lets it trade "
                "is unknown; new risk is refused until the venue reports it",
            )
        if not snapshot.can_trade:
            return Deny(self.name, "venue_cannot_trade", _stopped(order.account))
        return ALLOW

    def react(self, event: Event, view: AccountView, state: AuthLossState) -> tuple[AuthLossState, Sequence[Action]]:
        if not isinstance(event, AccountSnapshot):
            return state, ()
        account = event.account
        stopped = account in state.stopped_since
        if not event.can_trade and not stopped:
            reason = _stopped(account, cancelling=True, closing=self.params.flatten_on_loss)
            if self.params.flatten_on_loss:
                actions = breach_actions(self.name, Enforcement.FLATTEN, view, account, reason, None)
            else:
                actions = [
                    *breach_actions(self.name, Enforcement.ALERT, view, account, reason, None),
                    CancelAllOrders(rule=self.name, reason=reason, account=account),
                ]
            return AuthLossState({**state.stopped_since, account: event.ts}), actions
        if event.can_trade and stopped:
            reason = f"The venue reports that {account} may trade again (can_trade is true); new orders are accepted"
            remaining = {key: since for key, since in state.stopped_since.items() if key != account}
            return AuthLossState(remaining), [
                RaiseAlert(rule=self.name, reason=reason, level=AlertLevel.INFO, account=account)
            ]
        return state, ()


def _stopped(account: str, *, cancelling: bool = False, closing: bool = False) -> str:
    done = ""
    if closing:
        done = "positions are closed, working orders cancelled, and "
    elif cancelling:
        done = "working orders are cancelled and "
    return (
        f"The venue reports that {account} may not trade (can_trade is false); "
        f"{done}new orders are refused until the venue allows trading again"
    )
