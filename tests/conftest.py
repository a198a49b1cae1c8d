"""Test-wide settings: floats may not sneak into Decimal arithmetic, and hypothesis profiles."""

from __future__ import annotations

import decimal
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=200, deadline=None)
settings.register_profile(
    "ci", max_examples=500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _trap_float_operations():
    """Decimal(1.1) and float comparisons with Decimals raise in every test (STYLE.md §5)."""
    context = decimal.getcontext()
    previous = context.traps[decimal.FloatOperation]
    context.traps[decimal.FloatOperation] = True
    yield
    context.traps[decimal.FloatOperation] = previous
