"""What every endpoint needs: the daemon, its config, its clocks, who is asking, the live feed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from riskguard.api.auth import Authenticator
from riskguard.config.schema import RiskConfig
from riskguard.daemon.service import Daemon

__all__ = ["ApiContext"]


@dataclass(frozen=True, slots=True)
class ApiContext:
    daemon: Daemon
    config: RiskConfig
    auth: Authenticator
    wall_clock: Callable[[], datetime]
    monotonic: Callable[[], float]
    allow_live: bool = False
