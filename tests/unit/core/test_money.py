"""Money: exact Decimal arithmetic in one currency; mixing currencies or floats raises."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest

from riskguard.core import CurrencyMismatch, InvalidInput, Money

D = Decimal


def test_money_when_added_and_subtracted_then_exact() -> None:
    # Arrange
    a, b = Money(D("0.1"), "USD"), Money(D("0.2"), "USD")
    # Act / Assert: 0.1 + 0.2 is 0.3 exactly in Decimal, not 0.30000000000000004
    assert a + b == Money(D("0.3"), "USD")
    assert (a + b) - b == a
    assert -a == Money(D("-0.1"), "USD")
    assert abs(Money(D("-5"), "USD")) == Money(D("5"), "USD")
    assert Money(D("2.50"), "USD") * 3 == Money(D("7.50"), "USD")
    assert str(Money(D("512.40"), "USD")) == "512.40 USD"


def test_money_when_currencies_differ_then_arithmetic_and_comparison_raise() -> None:
    # Arrange
    usd, usdc = Money(D("1"), "USD"), Money(D("1"), "USDC")
    # Act / Assert
    with pytest.raises(CurrencyMismatch, match="cannot add 1 USD and 1 USDC"):
        _ = usd + usdc
    with pytest.raises(CurrencyMismatch):
        _ = usd < usdc
    assert usd != usdc


@pytest.mark.parametrize("other", [1.5, 1, D("1")])
def test_money_when_added_to_a_bare_number_then_type_error(other: object) -> None:
    with pytest.raises(TypeError, match="wrap the amount in Money"):
        Money(D("1"), "USD") + other  # type: ignore[operator]


def test_money_when_multiplied_by_float_then_type_error() -> None:
    with pytest.raises(TypeError, match="not float"):
        Money(D("1"), "USD") * 1.5  # type: ignore[operator]


@pytest.mark.parametrize("amount", [1.1, "NaN", D("Infinity")])
def test_money_when_amount_is_float_or_not_finite_then_refused(amount: object) -> None:
    with pytest.raises(InvalidInput):
        Money(amount, "USD")  # type: ignore[arg-type]


def test_money_when_rounded_for_display_then_half_even() -> None:
    assert Money(D("0.125"), "USD").rounded() == Money(D("0.12"), "USD")
    assert Money(D("0.135"), "USD").rounded() == Money(D("0.14"), "USD")


def test_decimal_context_when_float_enters_then_tests_trap_it() -> None:
    # The conftest traps FloatOperation, as the daemon will: a float cannot slip into money.
    with pytest.raises(decimal.FloatOperation):
        D(1.1)
