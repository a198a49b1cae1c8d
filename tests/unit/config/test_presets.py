"""Prop-firm presets: each bundled preset loads, states its source and date, and the user's values win."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources

import pytest

from riskguard.config import ConfigError, parse_config
from riskguard.config.loader import preset_names
from riskguard.core.rules.max_contracts import MaxContractsParams


def test_presets_when_listed_then_topstep_accounts_and_ftmo_are_there() -> None:
    assert preset_names() == ["ftmo-100k", "topstep-100k", "topstep-150k", "topstep-50k"]


@pytest.mark.parametrize("name", preset_names())
def test_preset_when_loaded_alone_then_valid_and_it_states_its_source_and_date(name: str) -> None:
    # Arrange
    text = resources.files("riskguard.presets").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    # Act
    config = parse_config(f"preset: {name}\n", "risk.yaml", env={})
    # Assert
    assert config.rules, name
    assert "preset version 2026-11-22" in text.splitlines()[0]
    assert "Source:" in text


@pytest.mark.parametrize(
    ("name", "max_loss", "contracts"),
    [("topstep-50k", "2000", "5"), ("topstep-100k", "3000", "10"), ("topstep-150k", "4500", "15")],
)
def test_topstep_preset_when_loaded_then_its_loss_limit_and_size_match_the_account(
    name: str, max_loss: str, contracts: str
) -> None:
    config = parse_config(f"preset: {name}\n", env={})
    trailing = config.params("trailing_max_loss")
    size = config.params("max_contracts")
    assert getattr(trailing, "max_loss", None) == Decimal(max_loss)
    assert isinstance(size, MaxContractsParams)
    assert size.limit == Decimal(contracts)


def test_preset_when_the_file_overrides_a_field_then_that_field_only_changes() -> None:
    # Act: the trader follows the scaling plan with 3 contracts
    config = parse_config("preset: topstep-50k\nrules:\n  max_contracts: {limit: 3}\n", env={})
    # Assert
    size = config.params("max_contracts")
    assert isinstance(size, MaxContractsParams)
    assert (size.limit, size.close_all) == (Decimal(3), False)  # close_all still the preset's
    assert [name for name, _ in config.rules][:3] == ["trailing_max_loss", "max_contracts", "session_block_outside"]


def test_preset_when_the_file_adds_a_rule_then_it_joins_the_preset() -> None:
    config = parse_config("preset: ftmo-100k\nrules:\n  max_order_notional: {limit: 500000}\n", env={})
    assert [name for name, _ in config.rules] == ["equity_daily_loss", "max_order_notional"]


def test_preset_when_unknown_then_the_presets_are_listed() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("preset: topstep-50\n", "risk.yaml", env={})
    assert str(caught.value) == (
        "risk.yaml line 1: preset: was 'topstep-50': not a preset (did you mean topstep-50k?); "
        "the presets are ftmo-100k, topstep-100k, topstep-150k, topstep-50k"
    )
