"""The rule catalogue: one rule per module, registered by name in `RULES` (explicitly, no scanning).

Rules run in the order a config lists them; this order (seed 001's categories, then seed 004's
checks, cheapest first) is the one docs/rules.md and the sample configs use.
"""

from __future__ import annotations

from typing import Any

from riskguard.core.rules.auth_loss_guard import AuthLossGuard, AuthLossGuardParams
from riskguard.core.rules.base import AccountView, Enforcement, Rule, RuleParams
from riskguard.core.rules.circuit_breaker import CircuitBreaker, CircuitBreakerParams
from riskguard.core.rules.cooldown_after_loss import CooldownAfterLoss, CooldownAfterLossParams
from riskguard.core.rules.daily_realized_loss import DailyRealizedLoss, DailyRealizedLossParams
from riskguard.core.rules.daily_unrealized_loss import DailyUnrealizedLoss, DailyUnrealizedLossParams
from riskguard.core.rules.drawdown_kill_switch import DrawdownKillSwitch, DrawdownKillSwitchParams
from riskguard.core.rules.duplicate_order import DuplicateOrder, DuplicateOrderParams
from riskguard.core.rules.equity_daily_loss import EquityDailyLoss, EquityDailyLossParams
from riskguard.core.rules.max_contracts import MaxContracts, MaxContractsParams
from riskguard.core.rules.max_contracts_per_instrument import MaxContractsPerInstrument, MaxContractsPerInstrumentParams
from riskguard.core.rules.max_exposure import MaxExposure, MaxExposureParams
from riskguard.core.rules.max_open_orders import MaxOpenOrders, MaxOpenOrdersParams
from riskguard.core.rules.max_order_notional import MaxOrderNotional, MaxOrderNotionalParams
from riskguard.core.rules.max_position_size import MaxPositionSize, MaxPositionSizeParams
from riskguard.core.rules.max_positions import MaxPositions, MaxPositionsParams
from riskguard.core.rules.max_slippage import MaxSlippage, MaxSlippageParams
from riskguard.core.rules.max_unrealized_profit import MaxUnrealizedProfit, MaxUnrealizedProfitParams
from riskguard.core.rules.no_stop_loss_grace import NoStopLossGrace, NoStopLossGraceParams
from riskguard.core.rules.order_rate_limit import OrderRateLimit, OrderRateLimitParams
from riskguard.core.rules.per_trade_risk import PerTradeRisk, PerTradeRiskParams
from riskguard.core.rules.portfolio_daily_loss_breaker import PortfolioDailyLossBreaker, PortfolioDailyLossBreakerParams
from riskguard.core.rules.price_deviation import PriceDeviation, PriceDeviationParams
from riskguard.core.rules.protective_stops import ProtectiveStops, ProtectiveStopsParams
from riskguard.core.rules.repeated_execution_throttle import RepeatedExecutionThrottle, RepeatedExecutionThrottleParams
from riskguard.core.rules.session_block_outside import SessionBlockOutside, SessionBlockOutsideParams
from riskguard.core.rules.strategy_settings import StrategySettingsParams, StrategySettingsRule
from riskguard.core.rules.symbol_blocks import SymbolBlocks, SymbolBlocksParams
from riskguard.core.rules.trade_frequency_limit import TradeFrequencyLimit, TradeFrequencyLimitParams
from riskguard.core.rules.trade_management import TradeManagement, TradeManagementParams
from riskguard.core.rules.trailing_max_loss import TrailingMaxLoss, TrailingMaxLossParams
from riskguard.core.rules.trailing_stop import TrailingStop, TrailingStopParams
from riskguard.core.rules.venue_error_rate import VenueErrorRate, VenueErrorRateParams
from riskguard.core.rules.weekly_reward_target import WeeklyRewardTarget, WeeklyRewardTargetParams

__all__ = ["RULES", "AccountView", "Enforcement", "Rule", "RuleParams"]

#: name -> (rule class, params class)
RULES: dict[str, tuple[type[Rule[Any, Any]], type[RuleParams]]] = {
    "max_contracts": (MaxContracts, MaxContractsParams),
    "max_contracts_per_instrument": (MaxContractsPerInstrument, MaxContractsPerInstrumentParams),
    "no_stop_loss_grace": (NoStopLossGrace, NoStopLossGraceParams),
    "daily_realized_loss": (DailyRealizedLoss, DailyRealizedLossParams),
    "daily_unrealized_loss": (DailyUnrealizedLoss, DailyUnrealizedLossParams),
    "max_unrealized_profit": (MaxUnrealizedProfit, MaxUnrealizedProfitParams),
    "session_block_outside": (SessionBlockOutside, SessionBlockOutsideParams),
    "auth_loss_guard": (AuthLossGuard, AuthLossGuardParams),
    "symbol_blocks": (SymbolBlocks, SymbolBlocksParams),
    "trade_frequency_limit": (TradeFrequencyLimit, TradeFrequencyLimitParams),
    "cooldown_after_loss": (CooldownAfterLoss, CooldownAfterLossParams),
    "trade_management": (TradeManagement, TradeManagementParams),
    "protective_stops": (ProtectiveStops, ProtectiveStopsParams),  # issue 5: stops back after a restart
    "circuit_breaker": (CircuitBreaker, CircuitBreakerParams),
    "duplicate_order": (DuplicateOrder, DuplicateOrderParams),
    "order_rate_limit": (OrderRateLimit, OrderRateLimitParams),
    "price_deviation": (PriceDeviation, PriceDeviationParams),
    "max_slippage": (MaxSlippage, MaxSlippageParams),
    "max_order_notional": (MaxOrderNotional, MaxOrderNotionalParams),
    "max_open_orders": (MaxOpenOrders, MaxOpenOrdersParams),
    "max_positions": (MaxPositions, MaxPositionsParams),
    "max_position_size": (MaxPositionSize, MaxPositionSizeParams),
    "max_exposure": (MaxExposure, MaxExposureParams),
    "repeated_execution_throttle": (RepeatedExecutionThrottle, RepeatedExecutionThrottleParams),
    # seed 003, portfolio controls
    "drawdown_kill_switch": (DrawdownKillSwitch, DrawdownKillSwitchParams),
    "per_trade_risk": (PerTradeRisk, PerTradeRiskParams),
    # seed 000
    "strategy_settings": (StrategySettingsRule, StrategySettingsParams),
    # seed 002
    "trailing_stop": (TrailingStop, TrailingStopParams),
    "portfolio_daily_loss_breaker": (PortfolioDailyLossBreaker, PortfolioDailyLossBreakerParams),
    "venue_error_rate": (VenueErrorRate, VenueErrorRateParams),
    "weekly_reward_target": (WeeklyRewardTarget, WeeklyRewardTargetParams),
    # prop-firm limits (presets: riskguard/presets/)
    "trailing_max_loss": (TrailingMaxLoss, TrailingMaxLossParams),
    "equity_daily_loss": (EquityDailyLoss, EquityDailyLossParams),
}
