"""`POST /api/orders/check`: the pre-trade gate for bots, and the opt-in gateway.

The check is the daemon's own (`Daemon.check`): the daemon's clock is the order's time and a
venue it cannot see refuses new risk. The decision is journaled before it is answered. With
`api: {gateway: true}` in the config, `?submit=true` sends an approved order on to the venue;
a refused order is never sent.
"""

# No `from __future__ import annotations` here: FastAPI must see the local Annotated aliases
# (Admin, Viewer ...) in the endpoints' signatures as objects, not as strings it cannot resolve.

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, status

from riskguard.api.auth import Principal
from riskguard.api.context import ApiContext
from riskguard.api.requests import CheckOrder
from riskguard.api.schemas import CheckAnswer
from riskguard.core.enums import OrderType, Side
from riskguard.core.errors import InvalidInput
from riskguard.core.orders import OrderRequest
from riskguard.daemon.gateway import send_approved
from riskguard.venues.base import VenueError

__all__ = ["orders_router"]

log = structlog.get_logger("riskguard.api")


def orders_router(ctx: ApiContext) -> APIRouter:
    router = APIRouter(tags=["orders"])
    Bot = Annotated[Principal, Depends(ctx.auth.bot)]  # noqa: N806 - a type alias

    @router.post(
        "/api/orders/check",
        response_model=CheckAnswer,
        responses={
            401: {"description": "not signed in"},
            403: {"description": "not a bot or admin"},
            409: {"description": "submit=true while the gateway is off"},
            422: {"description": "the order is malformed (a quantity of zero, a missing field ...)"},
            502: {"description": "approved, but the venue did not take it"},
        },
    )
    async def check(
        body: CheckOrder,
        who: Bot,
        submit: Annotated[bool, Query(description="send an approved order on to the venue (gateway mode)")] = False,
    ) -> dict[str, Any]:
        """Ask the gate about one order: approved, or refused with the rule's stable reason code
        and a sentence. Journaled before it is answered (it moves counters such as the order rate)."""
        if submit and not ctx.config.api.gateway:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                "the gateway is off: riskguard only answers; set api: {gateway: true} in the config to let it send orders",
            )
        order = _order(body, ctx)
        decision = ctx.daemon.check(order)
        answer: dict[str, Any] = {
            "order_id": decision.order_id,
            "approved": decision.approved,
            "reason_code": decision.reason_code,
            "rule": decision.rule,
            "message": decision.message,
            "forwarded": False,
            "venue_order_id": None,
        }
        if not (submit and decision.approved):
            return answer
        try:
            sent = await send_approved(ctx.daemon.venue, order)
        except VenueError as exc:
            log.error("gateway: approved order not placed", order_id=order.order_id, actor=who.username, error=str(exc))
            raise HTTPException(
                status.HTTP_502_BAD_GATEWAY, f"approved, but {ctx.daemon.venue.name} did not take it: {exc}"
            ) from None
        log.info("gateway: order sent", order_id=order.order_id, actor=who.username, venue_order_id=sent.venue_order_id)
        return {**answer, "forwarded": True, "venue_order_id": sent.venue_order_id}

    return router


def _order(body: CheckOrder, ctx: ApiContext) -> OrderRequest:
    """The order as the engine takes it; a malformed one (a quantity of zero, say) is a 422 naming
    what is wrong. An unknown symbol or a price off the tick grid is the gate's to refuse
    (`invalid_order`), as for any order."""
    try:
        order = OrderRequest(
            body.order_id,
            body.account,
            body.strategy,
            body.symbol,
            Side(body.side),
            OrderType(body.order_type),
            body.qty,  # type: ignore[arg-type]
            ctx.wall_clock(),
            price=body.price,  # type: ignore[arg-type]
            stop_price=body.stop_price,  # type: ignore[arg-type]
            reduce_only=body.reduce_only,
            stop_loss=body.stop_loss,  # type: ignore[arg-type]
            take_profit=body.take_profit,  # type: ignore[arg-type]
        )
    except InvalidInput as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return order
