"""The operator's actions (admin only): reset the kill switch, halt, pause, resume, reset a
lockout, and replace the rules. Each is an operator command or a config change the daemon
journals with the actor's name and reason before answering; the destructive ones need
`"confirm": true`."""

# No `from __future__ import annotations` here: FastAPI must see the local Annotated aliases
# (Admin, Viewer ...) in the endpoints' signatures as objects, not as strings it cannot resolve.

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, status

from riskguard.api.auth import Principal
from riskguard.api.context import ApiContext
from riskguard.api.requests import HaltBody, PauseBody, ResetBody, ResetKillSwitchBody, ResumeBody, RulesBody
from riskguard.api.risk_payload import account_ids
from riskguard.api.routes_read import rule_rows
from riskguard.api.schemas import OpsAnswer, RuleRow
from riskguard.config.loader import ConfigError, parse_rules
from riskguard.config.schema import RiskConfig
from riskguard.core.actions import Action
from riskguard.core.events import HaltRequested, OperatorCommand, PauseRequested, ResetRequested, ResumeRequested
from riskguard.core.rules import RULES
from riskguard.core.scope import Scope

__all__ = ["ops_router"]

log = structlog.get_logger("riskguard.api")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "not an admin"},
    404: {"description": "the body names an account or rule this daemon does not know"},
    422: {"description": "the request is wrong (a missing confirmation, say); nothing changed"},
}


def ops_router(ctx: ApiContext) -> APIRouter:
    router = APIRouter(tags=["operator"])
    Admin = Annotated[Principal, Depends(ctx.auth.admin)]  # noqa: N806 - a type alias

    def command(who: Principal, make: Any, **fields: Any) -> dict[str, Any]:
        event: OperatorCommand = make(actor=who.username, ts=ctx.wall_clock(), **fields)
        log.warning("operator command", command=type(event).__name__, actor=who.username, reason=event.reason)
        actions = ctx.daemon.feed([event])
        return {"ok": True, "actor": who.username, "actions": [_action_line(action) for action in actions]}

    def account_scope(account: str | None) -> Scope:
        if account is not None and account not in account_ids(ctx.daemon, ctx.config):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no account {account} is configured or reported by the venue"
            )
        return Scope(account=account)

    @router.post("/api/ops/reset-kill-switch", response_model=OpsAnswer, responses=_ERRORS)
    async def reset_kill_switch(body: ResetKillSwitchBody, who: Admin) -> dict[str, Any]:
        """Clear the drawdown kill switch (one account's, or all) and re-base its high-water mark to
        the equity now: the next trip is measured from here, not from the old peak (seed 003)."""
        scope = account_scope(body.account)
        return command(who, ResetRequested, reason=body.reason, scope=scope, rule="drawdown_kill_switch")

    @router.post("/api/ops/halt", response_model=OpsAnswer, responses=_ERRORS)
    async def halt(body: HaltBody, who: Admin) -> dict[str, Any]:
        """The emergency halt: no new risk until a resume; working orders cancelled (unless
        `cancel_orders` is false); every position closed when `flatten` is true."""
        scope = account_scope(body.account)
        return command(
            who, HaltRequested, reason=body.reason, scope=scope, cancel_orders=body.cancel_orders, flatten=body.flatten
        )

    @router.post("/api/ops/pause", response_model=OpsAnswer, responses=_ERRORS)
    async def pause(body: PauseBody, who: Admin) -> dict[str, Any]:
        """Seed 003's system pause: no new risk anywhere until a resume; orders and positions stay."""
        return command(who, PauseRequested, reason=body.reason)

    @router.post("/api/ops/resume", response_model=OpsAnswer, responses=_ERRORS)
    async def resume(body: ResumeBody, who: Admin) -> dict[str, Any]:
        """Lift the halts (of one account, or all) and, without an account, the pause."""
        return command(who, ResumeRequested, reason=body.reason, scope=account_scope(body.account))

    @router.post("/api/ops/reset", response_model=OpsAnswer, responses=_ERRORS)
    async def reset(body: ResetBody, who: Admin) -> dict[str, Any]:
        """Clear latched lockouts (of one rule, when named) and reset the rule's state where it
        allows (a circuit breaker refuses while its cooldown runs)."""
        if body.rule is not None and body.rule not in RULES:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no rule named {body.rule}; see GET /api/rules")
        return command(who, ResetRequested, reason=body.reason, scope=account_scope(body.account), rule=body.rule)

    @router.put("/api/rules", response_model=list[RuleRow], tags=["rules"], responses=_ERRORS)
    async def put_rules(body: RulesBody, who: Admin) -> list[dict[str, Any]]:
        """Replace the whole rules section, validated exactly as the config file's, all or nothing.
        Rules kept by name keep their state; lockouts already in force stay until they end."""
        try:
            parsed = parse_rules(body.rules)
        except ConfigError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [str(issue) for issue in exc.issues]) from None
        rules = RiskConfig(rules=parsed).build_rules()
        ctx.daemon.guard.reconfigure(rules, actor=who.username, reason=body.reason)
        log.warning("rules replaced", actor=who.username, reason=body.reason, rules=[rule.name for rule in rules])
        return rule_rows(ctx.daemon.guard.engine)

    return router


def _action_line(action: Action) -> dict[str, str]:
    return {"id": action.id, "name": action.name, "rule": action.rule}
