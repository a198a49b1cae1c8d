"""The rule catalogue: one rule per module, registered by name in `RULES` (explicitly, no scanning)."""

from __future__ import annotations

from typing import Any

from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams
from riskguard.core.rules.daily_realized_loss import DailyRealizedLoss, DailyRealizedLossParams
from riskguard.core.rules.max_contracts import MaxContracts, MaxContractsParams
from riskguard.core.rules.max_order_notional import MaxOrderNotional, MaxOrderNotionalParams

__all__ = ["RULES", "AccountView", "Enforcement", "Rule", "RuleParams"]

#: name -> (rule class, params class). The order here is the default evaluation order.
RULES: dict[str, tuple[type[Rule[Any, Any]], type[RuleParams]]] = {
    "max_contracts": (MaxContracts, MaxContractsParams),
    "daily_realized_loss": (DailyRealizedLoss, DailyRealizedLossParams),
    "max_order_notional": (MaxOrderNotional, MaxOrderNotionalParams),
}
