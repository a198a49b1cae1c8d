"""The validated configuration: rule params in file order, instruments, accounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import model_validator

from riskguard.core.instruments import Instrument
from riskguard.core.rules import RULES, Rule, RuleParams

__all__ = ["AccountConfig", "ApiConfig", "RiskConfig", "VenueConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountConfig:
    """An account riskguard guards. Venue settings join this in the venue work."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012 - read by pydantic, never mutated

    description: str = ""
    currency: str = "USD"


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueConfig:
    """Which venue the daemon guards. `paper` is the in-process simulated market of the embedded
    default; `paper-remote` is the same market served by `riskguard paper-venue` in another
    process (the crash test kills the daemon while the market goes on). Real venues join this
    in the venue work."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012 - read by pydantic, never mutated

    kind: Literal["paper", "paper-remote"] = "paper"
    url: str | None = None  # ws://host:port of a paper-remote venue
    call_timeout_seconds: float = 10.0  # a venue call unanswered this long counts as the venue down
    # The dead man's switch, where the venue has one: while the daemon is healthy it keeps pushing
    # a "cancel all my orders at now + this" ahead of it; a daemon that dies or loses the venue
    # stops pushing, and the venue cancels the working orders. 0 turns it off.
    dead_mans_switch_seconds: float = 60.0

    @model_validator(mode="after")
    def _url_fits_kind(self) -> VenueConfig:
        if self.kind == "paper-remote" and not (self.url or "").startswith(("ws://", "wss://")):
            raise ValueError("a paper-remote venue needs url: ws://HOST:PORT (what riskguard paper-venue prints)")
        if self.kind == "paper" and self.url is not None:
            raise ValueError("the in-process paper venue takes no url; use kind: paper-remote for a venue process")
        if self.call_timeout_seconds <= 0:
            raise ValueError("call_timeout_seconds must be more than 0")
        if self.dead_mans_switch_seconds != 0 and self.dead_mans_switch_seconds < 5:
            raise ValueError("dead_mans_switch_seconds must be 0 (off) or at least 5 (HyperLiquid's minimum)")
        return self


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiConfig:
    """The HTTP API's choices. `gateway`: POST /api/orders/check?submit=true sends an approved
    order on to the venue (off by default: riskguard only answers, the bot sends)."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012 - read by pydantic, never mutated

    gateway: bool = False
    session_hours: float = 12.0  # how long a password sign-in lasts

    @model_validator(mode="after")
    def _sane(self) -> ApiConfig:
        if not 0 < self.session_hours <= 24 * 7:
            raise ValueError("session_hours must be more than 0 and at most 168 (a week)")
        return self


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """A whole, valid configuration. Rules run in the order the file lists them."""

    rules: tuple[tuple[str, RuleParams], ...] = ()
    instruments: Mapping[str, Instrument] = field(default_factory=dict)
    accounts: Mapping[str, AccountConfig] = field(default_factory=dict)
    source: str = "<defaults>"
    execution_mode: str = "paper"  # what the file asks for; see config/execution.py for the mode in force
    venue: VenueConfig = field(default_factory=VenueConfig)
    api: ApiConfig = field(default_factory=ApiConfig)

    def params(self, name: str) -> RuleParams | None:
        return next((params for rule, params in self.rules if rule == name), None)

    def build_rules(self) -> list[Rule[Any, Any]]:
        """Instances of the enabled rules, in file order."""
        return [RULES[name][0](params) for name, params in self.rules if params.enabled]
