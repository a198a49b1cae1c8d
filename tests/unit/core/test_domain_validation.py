"""Every public constructor refuses bad input with an error that names the field and the value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from riskguard.core import (
    AccountSnapshot,
    Fill,
    Instrument,
    InvalidInput,
    OrderRequest,
    OrderType,
    Price,
    Quantity,
    Side,
)
from riskguard.testing.factories import MNQ

D = Decimal
TS = "2026-03-06T14:30:00Z"

FILL = {
    "fill_id": "f1",
    "order_id": "o1",
    "account": "A1",
    "strategy": "s1",
    "symbol": "MNQ",
    "side": "buy",
    "qty": "2",
    "price": "18000.25",
    "ts": TS,
    "fee": "0.74",
}
ORDER = {
    "order_id": "o7",
    "account": "A1",
    "strategy": "s1",
    "symbol": "MNQ",
    "side": "buy",
    "order_type": "limit",
    "qty": "1",
    "price": "17995.00",
    "ts": TS,
    "stop_loss": "17980.00",
}
ACCOUNT = {"account": "A1", "balance": "50000", "equity": "49980", "ts": TS, "can_trade": True}


BAD_NUMBERS = [
    ("NaN", "must be a finite number"),
    ("Infinity", "must be a finite number"),
    ("-Infinity", "must be a finite number"),
    (1.5, "not a float"),
    ("abc", "must be a decimal number"),
    ("", "must be a decimal number"),
    (True, "not true/false"),
    (None, "must be a decimal number, not NoneType"),
    ("1e20", "must be smaller than"),
    ("0.0000000000001", "more than 12 decimal places"),
]


@pytest.mark.parametrize(("value", "problem"), BAD_NUMBERS)
@pytest.mark.parametrize("field", ["qty", "price", "fee"])
def test_fill_when_number_is_not_a_finite_decimal_then_error_names_field_and_value(
    field: str, value: object, problem: str
) -> None:
    # Arrange
    arguments = {**FILL, field: value}
    # Act
    with pytest.raises(InvalidInput) as caught:
        Fill(**arguments)  # type: ignore[arg-type]
    # Assert
    assert caught.value.field == f"fill.{field}"
    assert caught.value.value == value or (value != value)  # NaN never equals itself
    assert problem in str(caught.value)
    assert str(caught.value).startswith(f"fill.{field} was {value!r}")


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("qty", "0", "must be greater than zero"),
        ("qty", "-1", "must be greater than zero"),
        ("price", "0", "must be greater than zero"),
        ("price", "-18000", "must be greater than zero"),
        ("side", "long", "must be one of: buy, sell"),
        ("side", 1, "must be one of: buy, sell"),
        ("ts", datetime(2026, 3, 6, 14, 30), "must carry a timezone"),
        ("ts", "2026-03-06T14:30:00", "must carry a timezone"),
        ("ts", "yesterday", "must be an ISO 8601 time"),
        ("ts", 1772807400, "must be a datetime"),
        ("account", "", "must be 1-128 characters"),
        ("account", "A1; DROP TABLE", "must be 1-128 characters"),
        ("symbol", " MNQ", "must be 1-128 characters"),
        ("fill_id", 7, "must be a string"),
    ],
)
def test_fill_when_field_is_invalid_then_error_names_it(field: str, value: object, problem: str) -> None:
    # Arrange
    arguments = {**FILL, field: value}
    # Act / Assert
    with pytest.raises(InvalidInput, match=problem) as caught:
        Fill(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == f"fill.{field}"


def test_fill_when_valid_strings_then_parsed_to_decimal_and_utc() -> None:
    # Arrange / Act
    fill = Fill(**{**FILL, "ts": "2026-03-06T09:30:00-05:00", "side": "SELL"})  # type: ignore[arg-type]
    # Assert
    assert fill.side is Side.SELL
    assert fill.qty == D("2")
    assert type(fill.price) is Price
    assert fill.fee == D("0.74")
    assert fill.ts == datetime(2026, 3, 6, 14, 30, tzinfo=UTC)
    assert fill.signed_qty == D("-2")


def test_order_when_valid_then_parsed() -> None:
    # Arrange / Act
    order = OrderRequest(**ORDER)  # type: ignore[arg-type]
    # Assert
    assert order.order_type is OrderType.LIMIT
    assert order.price == D("17995.00")
    assert order.stop_loss == D("17980.00")
    assert order.reduce_only is False


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"order_type": "iceberg"}, "order.order_type", "must be one of: market, limit, stop, stop_limit"),
        ({"price": None}, "order.price", "a limit order needs a limit price"),
        ({"order_type": "stop", "price": None}, "order.stop_price", "a stop order needs a stop price"),
        ({"order_type": "stop_limit"}, "order.stop_price", "a stop_limit order needs a stop price"),
        ({"stop_price": "17990.00"}, "order.stop_price", "a limit order has no stop price"),
        ({"stop_loss": "17995.00"}, "order.stop_loss", "must be below the entry price 17995.00 of a buy"),
        ({"take_profit": "17990.00"}, "order.take_profit", "must be above the entry price 17995.00 of a buy"),
        ({"side": "sell", "stop_loss": "17990.00"}, "order.stop_loss", "must be above the entry price"),
        (
            {"order_type": "market", "price": None, "stop_loss": "18010.00", "take_profit": "18000.00"},
            "order.stop_loss",
            "must be below take_profit 18000.00",
        ),
        ({"reduce_only": "false"}, "order.reduce_only", "must be true or false"),
        ({"qty": "0"}, "order.qty", "must be greater than zero"),
        ({"qty": 1.0}, "order.qty", "not a float"),
        ({"ts": "2026-03-06 14:30"}, "order.ts", "must carry a timezone"),
    ],
)
def test_order_when_invalid_then_error_names_field(changes: dict[str, Any], field: str, problem: str) -> None:
    # Arrange
    arguments = {**ORDER, **changes}
    # Act / Assert
    with pytest.raises(InvalidInput, match=problem) as caught:
        OrderRequest(**arguments)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"price": "17995.10"}, "order.price", r"is not on the MNQ price grid \(tick size 0.25\)"),
        ({"stop_loss": "17980.05"}, "order.stop_loss", "is not on the MNQ price grid"),
        ({"qty": "0.5"}, "order.qty", "is not a whole number of MNQ lots"),
    ],
)
def test_order_when_off_instrument_grid_then_refused(changes: dict[str, Any], field: str, problem: str) -> None:
    # Arrange
    order = OrderRequest(**{**ORDER, **changes})
    # Act / Assert
    with pytest.raises(InvalidInput, match=problem) as caught:
        order.require_fits(MNQ)
    assert caught.value.field == field


def test_account_when_valid_then_amounts_are_decimals_in_its_currency_at_utc() -> None:
    # Arrange / Act
    snapshot = AccountSnapshot(**{**ACCOUNT, "ts": datetime(2026, 3, 6, 9, 30, tzinfo=timezone(timedelta(hours=-5)))})
    # Assert
    assert (snapshot.equity, snapshot.currency) == (D("49980"), "USD")
    assert snapshot.ts.tzinfo is UTC


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"can_trade": "false"}, "account.can_trade", "must be true or false"),
        ({"can_trade": 0}, "account.can_trade", "must be true or false"),
        ({"margin_used": "-1"}, "account.margin_used", "must not be negative"),
        ({"equity": "nan"}, "account.equity", "must be a finite number"),
        ({"currency": "usd"}, "account.currency", "must be a currency code"),
        ({"ts": "2026-03-06T14:30:00"}, "account.ts", "must carry a timezone"),
    ],
)
def test_account_when_invalid_then_error_names_field(changes: dict[str, Any], field: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as caught:
        AccountSnapshot(**{**ACCOUNT, **changes})
    assert caught.value.field == field


def test_account_when_equity_negative_then_accepted_because_blown_accounts_exist() -> None:
    assert AccountSnapshot(**{**ACCOUNT, "balance": "-120.50", "equity": "-300"}).equity == D("-300")


@pytest.mark.parametrize(
    ("arguments", "field", "problem"),
    [
        (("MNQ", "0"), "instrument.tick_size", "must be greater than zero"),
        (("MNQ", "0.25", "-2"), "instrument.multiplier", "must be greater than zero"),
        (("MNQ", "0.25", "2", "USD", "0"), "instrument.lot_size", "must be greater than zero"),
        (("MNQ", 0.25), "instrument.tick_size", "not a float"),
        (("", "0.25"), "instrument.symbol", "must be 1-128 characters"),
        (("MNQ", "0.25", "2", "dollars"), "instrument.currency", "must be a currency code"),
    ],
)
def test_instrument_when_invalid_then_error_names_field(arguments: tuple[Any, ...], field: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as caught:
        Instrument(*arguments)
    assert caught.value.field == field


@pytest.mark.parametrize("cls", [Price, Quantity])
@pytest.mark.parametrize("value", ["0", "-0.01", "NaN", 2.5])
def test_price_and_quantity_when_not_positive_finite_decimal_then_refused(cls: type, value: object) -> None:
    with pytest.raises(InvalidInput):
        cls(value)


def test_price_when_multiplied_by_quantity_then_plain_decimal_notional() -> None:
    # Arrange / Act
    notional = Price("18000.25") * Quantity("2")
    # Assert
    assert type(notional) is Decimal
    assert notional == D("36000.50")
