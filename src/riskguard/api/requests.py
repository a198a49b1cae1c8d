"""What callers send: the request bodies and path parameters of the changing endpoints.

They are strict (an unknown field is an error, not ignored) so a typo never silently changes
nothing. Decimals may come as strings or JSON numbers; a number is read by its shortest
spelling (``1.5`` is ``Decimal("1.5")``, never ``1.5000000000000000277…``). The controller
validates bulk rows with the same models before it forwards any.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "ID_PATTERN",
    "CheckOrder",
    "Confirm",
    "ConfirmBody",
    "DecimalIn",
    "HaltBody",
    "IdSegment",
    "LoginBody",
    "PauseBody",
    "Reason",
    "ResetBody",
    "ResetKillSwitchBody",
    "ResumeBody",
    "RulesBody",
    "StrategySettingsUpdate",
    "TokenBody",
]

#: A strategy id, symbol, account or source name in a path: no "/", no spaces, nothing to inject.
ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


def _not_dots(value: str) -> str:
    if value in (".", ".."):
        raise ValueError(f"{value!r} is not an id: it would walk the URL path")
    return value


IdSegment = Annotated[str, StringConstraints(pattern=ID_PATTERN), AfterValidator(_not_dots)]


def _reason(value: str) -> str:
    """Stripped as Python strips (which takes more than pydantic's whitespace: \x1c-\x1f too), with
    no control characters: a reason is a sentence for the journal, not a payload."""
    value = value.strip()
    if not value:
        raise ValueError("must be a non-empty text")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("must not contain control characters")
    return value


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), AfterValidator(_reason)]


_DIGITS = 15  # no setting is anywhere near 10^15: a larger figure is a typo or an attack
_FINEST = -12  # at most 12 decimal places


def _decimal(value: Any) -> Any:
    """A JSON number or string as an exact Decimal; anything else is left for pydantic to refuse."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return _bounded(Decimal(repr(value)))
    if isinstance(value, int):
        return _bounded(Decimal(value))
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"must be a decimal number, was {value!r}") from None
        if not parsed.is_finite():
            raise ValueError("must be a finite number")
        return _bounded(parsed)
    return value


def _bounded(value: Decimal) -> Decimal:
    if (not value.is_zero() and value.adjusted() >= _DIGITS) or value.as_tuple().exponent < _FINEST:  # type: ignore[operator]
        raise ValueError(f"must be less than 10^15 in size with at most {-_FINEST} decimal places")
    return value


DecimalIn = Annotated[Decimal, BeforeValidator(_decimal)]


def _is_true(value: bool) -> bool:
    if value is not True:
        raise ValueError("must be true: this action needs an explicit confirmation")
    return value


Confirm = Annotated[bool, Field(description="must be true"), AfterValidator(_is_true)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StrategySettingsUpdate(_Body):
    """The settings to change; fields left out keep their value. Ranges as the config's."""

    enabled: bool | None = None
    risk_per_trade: Annotated[DecimalIn, Field(gt=0, le=100)] | None = None
    stop_loss_dollars: Annotated[DecimalIn, Field(gt=0)] | None = None
    max_strategy_loss: Annotated[DecimalIn, Field(gt=0)] | None = None
    margin_leverage: Annotated[DecimalIn, Field(gt=0)] | None = None
    model_reward: DecimalIn | None = None
    reason: Reason | None = Field(default=None, description="why, for the journal (optional)")

    @model_validator(mode="after")
    def _no_nulls(self) -> StrategySettingsUpdate:
        """Only model_reward may be set to null (cleared); a null elsewhere is a mistake, not "keep"."""
        nulls = sorted(
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in ("model_reward", "reason")
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave a setting out to keep it")
        return self

    def changes(self) -> dict[str, Any]:
        """The settings the caller set."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "reason"}


class ConfirmBody(_Body):
    """A destructive action's body: the explicit confirmation and the reason for the journal."""

    confirm: Confirm
    reason: Reason


class ResetKillSwitchBody(ConfirmBody):
    account: IdSegment | None = Field(default=None, description="one account's switch; every account's without")


class ResetBody(_Body):
    confirm: Confirm
    reason: Reason
    rule: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,64}$")] | None = None
    account: IdSegment | None = None


class HaltBody(_Body):
    confirm: Confirm
    reason: Reason
    account: IdSegment | None = None
    cancel_orders: bool = True
    flatten: bool = False


class PauseBody(_Body):
    reason: Reason


class ResumeBody(_Body):
    reason: Reason
    account: IdSegment | None = None


class RulesBody(_Body):
    rules: dict[str, Any] = Field(description="the whole rules section, as in the YAML config")
    reason: Reason


class LoginBody(_Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TokenBody(_Body):
    name: Annotated[str, StringConstraints(pattern=ID_PATTERN)]
    role: Literal["admin", "viewer", "bot"]


class CheckOrder(_Body):
    """An order to check, in the event format of docs/events.md (its `ts` is ignored)."""

    order_id: IdSegment
    account: IdSegment
    strategy: IdSegment
    symbol: IdSegment
    side: Literal["buy", "sell"]
    qty: DecimalIn
    order_type: Literal["market", "limit", "stop", "stop_limit"] = "market"
    price: DecimalIn | None = None
    stop_price: DecimalIn | None = None
    stop_loss: DecimalIn | None = None
    take_profit: DecimalIn | None = None
    reduce_only: bool = False
    ts: str | None = Field(default=None, description="ignored: the daemon's clock is the order's time")
