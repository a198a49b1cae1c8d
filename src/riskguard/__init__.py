"""riskguard: a risk manager that stands between a trader (or a bot) and the venue."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
