"""The validated configuration: rule params in file order, instruments, accounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from riskguard.core.instruments import Instrument
from riskguard.core.rules import RULES, Rule, RuleParams

__all__ = ["AccountConfig", "RiskConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountConfig:
    """An account riskguard guards. Venue settings join this in the venue work."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012 - read by pydantic, never mutated

    description: str = ""
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """A whole, valid configuration. Rules run in the order the file lists them."""

    rules: tuple[tuple[str, RuleParams], ...] = ()
    instruments: Mapping[str, Instrument] = field(default_factory=dict)
    accounts: Mapping[str, AccountConfig] = field(default_factory=dict)
    source: str = "<defaults>"
    execution_mode: str = "paper"  # what the file asks for; see config/execution.py for the mode in force

    def params(self, name: str) -> RuleParams | None:
        return next((params for rule, params in self.rules if rule == name), None)

    def build_rules(self) -> list[Rule[Any, Any]]:
        """Instances of the enabled rules, in file order."""
        return [RULES[name][0](params) for name, params in self.rules if params.enabled]
