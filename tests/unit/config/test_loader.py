"""The YAML config: validated whole, errors with file, line and key, RISK_* overrides, nothing half-applied."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from riskguard.config import ConfigError, ConfigSource, effective_execution_mode, load_config, parse_config
from riskguard.core.rules.daily_realized_loss import DailyRealizedLossParams
from riskguard.core.rules.max_contracts import MaxContractsParams

SEED_001 = """\
rules:
  max_contracts: {enabled: true, limit: 5, count_type: net, close_all: true}
  daily_realized_loss: {enabled: true, limit: -500, reset_time: "17:00", timezone: "America/New_York"}
instruments:
  MNQ: {tick_size: 0.25, multiplier: 2}
  ZN: {tick_size: 0.015625, multiplier: 1000}
accounts:
  A1: {description: "Topstep 50K"}
"""


def test_config_when_seed_001_keys_then_loaded_as_written(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "risk.yaml"
    path.write_text(SEED_001, encoding="utf-8")
    # Act
    config = load_config(path, env={})
    # Assert
    assert config.rules == (
        ("max_contracts", MaxContractsParams(limit=Decimal(5), count_type="net", close_all=True)),  # type: ignore[arg-type]
        ("daily_realized_loss", DailyRealizedLossParams(limit=Decimal(-500))),
    )
    assert config.instruments["ZN"].tick_size == Decimal("0.015625")
    assert config.instruments["ES"].multiplier == Decimal(50)  # the built-in catalogue stays
    assert [rule.name for rule in config.build_rules()] == ["max_contracts", "daily_realized_loss"]


def test_config_when_times_are_unquoted_then_they_stay_times_not_base_60_numbers() -> None:
    # YAML 1.1 reads 17:00 as 1020; a risk config means five in the afternoon.
    config = parse_config("rules:\n  daily_realized_loss: {limit: -500, reset_time: 17:00}\n", env={})
    params = config.params("daily_realized_loss")
    assert isinstance(params, DailyRealizedLossParams)
    assert params.reset_time == "17:00"


def test_config_when_decimal_written_then_exact_decimal_not_float() -> None:
    config = parse_config("rules:\n  daily_realized_loss: {limit: -500.10}\n", env={})
    params = config.params("daily_realized_loss")
    assert isinstance(params, DailyRealizedLossParams)
    assert params.limit == Decimal("-500.10")
    assert str(params.limit) == "-500.10"


def test_config_when_many_problems_then_each_is_named_with_its_line_and_key() -> None:
    # Arrange
    text = """\
rules:
  max_contracts: {limit: five}
  max_contract: {limit: 5}
  daily_realized_loss:
    limit: -500
    timezone: America/NewYork
  max_order_notional: {limit: 100, colour: red}
instruments:
  MNQ: {tick_size: 0}
rule: {}
"""
    # Act
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "risk.yaml", env={})
    # Assert
    assert [str(issue) for issue in caught.value.issues] == [
        "risk.yaml line 10: rule: unknown section (did you mean rules?); the sections are preset, rules, instruments, accounts, "
        "execution_mode, venue, api",
        "risk.yaml line 2: rules.max_contracts.limit: Input should be a valid decimal (was 'five')",
        "risk.yaml line 3: rules.max_contract: unknown rule (did you mean max_contracts?); see docs/rules.md for the catalogue",
        "risk.yaml line 6: rules.daily_realized_loss.timezone: was 'America/NewYork': is not a known IANA timezone "
        "(e.g. America/New_York, Europe/Prague, UTC)",
        "risk.yaml line 7: rules.max_order_notional.colour: is not a setting of this rule; check its spelling in docs/rules.md",
        "risk.yaml line 9: instruments.MNQ.tick_size: was '0': must be greater than zero",
    ]


def test_config_when_yaml_is_broken_then_the_line_is_named() -> None:
    with pytest.raises(ConfigError, match=r"risk.yaml line 3: not valid YAML"):
        parse_config("rules:\n  max_contracts: {limit: 5\n  x: [\n", "risk.yaml", env={})


def test_config_when_env_overrides_then_single_values_change_and_seed_004_names_work() -> None:
    # Act
    config = parse_config(
        SEED_001, env={"RISK_MAX_CONTRACTS__LIMIT": "3", "RISK_MAX_DAILY_LOSS": "250", "HOME": "/root"}
    )
    # Assert
    contracts = config.params("max_contracts")
    daily = config.params("daily_realized_loss")
    assert isinstance(contracts, MaxContractsParams)
    assert isinstance(daily, DailyRealizedLossParams)
    assert contracts.limit == Decimal(3)
    assert contracts.close_all is True  # the rest of the file's values stay
    assert daily.limit == Decimal(250)


def test_config_when_env_override_is_bad_then_the_variable_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(SEED_001, "risk.yaml", env={"RISK_MAX_CONTRACTS__LIMIT": "lots"})
    assert [str(i) for i in caught.value.issues] == [
        "risk.yaml: rules.max_contracts.limit: Input should be a valid decimal (was 'lots') (from RISK_MAX_CONTRACTS__LIMIT)"
    ]


def test_config_when_unknown_risk_variable_then_refused_rather_than_ignored() -> None:
    with pytest.raises(ConfigError, match="environment: RISK_MAX_CONTRACT__LIMIT: is not a riskguard setting"):
        parse_config(SEED_001, env={"RISK_MAX_CONTRACT__LIMIT": "3"})


def test_config_when_reload_is_bad_then_the_old_config_stays_in_force(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "risk.yaml"
    path.write_text(SEED_001, encoding="utf-8")
    source = ConfigSource(path, env={})
    path.write_text(SEED_001.replace("limit: 5", "limit: -5x"), encoding="utf-8")
    # Act
    error = source.reload()
    # Assert
    assert error is not None
    assert str(error).startswith(f"{path} line 2: rules.max_contracts.limit: Input should be a valid decimal")
    params = source.current.params("max_contracts")
    assert isinstance(params, MaxContractsParams)
    assert params.limit == Decimal(5)


def test_config_when_reload_is_good_then_the_new_config_is_in_force(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "risk.yaml"
    path.write_text(SEED_001, encoding="utf-8")
    source = ConfigSource(path, env={})
    path.write_text(SEED_001.replace("limit: 5", "limit: 4"), encoding="utf-8")
    # Act
    error = source.reload()
    # Assert
    assert error is None
    params = source.current.params("max_contracts")
    assert isinstance(params, MaxContractsParams)
    assert params.limit == Decimal(4)


def test_config_when_file_is_missing_then_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.yaml: cannot be read \(No such file or directory\)"):
        load_config(tmp_path / "nope.yaml", env={})


@pytest.mark.parametrize(
    ("written", "allow_live", "in_force"),
    [
        ("", True, "paper"),  # paper by default
        ("execution_mode: paper\n", True, "paper"),
        ("execution_mode: live\n", False, "paper"),  # the paper lock: the file alone cannot go live
        ("execution_mode: live\n", True, "live"),
    ],
)
def test_execution_mode_when_read_then_live_needs_both_the_config_and_the_permission(
    written: str, allow_live: bool, in_force: str
) -> None:
    config = parse_config(written, env={})
    assert effective_execution_mode(config, allow_live=allow_live) == in_force


def test_execution_mode_when_misspelt_then_refused() -> None:
    with pytest.raises(ConfigError, match=r"risk\.yaml line 1: execution_mode: was 'life': must be paper or live"):
        parse_config("execution_mode: life\n", "risk.yaml", env={})


def test_venue_when_not_given_then_the_in_process_paper_market_with_a_60_s_dead_mans_switch() -> None:
    venue = parse_config("rules: {}\n", "risk.yaml", env={}).venue
    assert (venue.kind, venue.url, venue.call_timeout_seconds, venue.dead_mans_switch_seconds) == (
        "paper",
        None,
        10.0,
        60.0,
    )


def test_venue_when_paper_remote_with_a_url_then_read_whole() -> None:
    text = "venue: {kind: paper-remote, url: 'ws://127.0.0.1:8765', call_timeout_seconds: 2.5, dead_mans_switch_seconds: 0}\n"
    venue = parse_config(text, "risk.yaml", env={}).venue
    assert (venue.kind, venue.url, venue.call_timeout_seconds, venue.dead_mans_switch_seconds) == (
        "paper-remote",
        "ws://127.0.0.1:8765",
        2.5,
        0.0,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "venue: {kind: paper-remote}\n",
            "risk.yaml line 1: venue: a paper-remote venue needs url: ws://HOST:PORT (what riskguard paper-venue prints)",
        ),
        (
            "venue: {kind: paper, url: 'ws://127.0.0.1:1'}\n",
            "risk.yaml line 1: venue: the in-process paper venue takes no url; use kind: paper-remote for a venue process",
        ),
        ("venue: {kind: mt6}\n", "risk.yaml line 1: venue.kind: Input should be 'paper' or 'paper-remote' (was 'mt6')"),
        (
            "venue: {dead_mans_switch_seconds: 2}\n",
            "risk.yaml line 1: venue: dead_mans_switch_seconds must be 0 (off) or at least 5 (HyperLiquid's minimum)",
        ),
        (
            "venue:\n  kind: paper\n  colour: red\n",
            "risk.yaml line 3: venue.colour: is not a venue setting; they are kind, url, call_timeout_seconds, "
            "dead_mans_switch_seconds",
        ),
        (
            "venue: [paper]\n",
            "risk.yaml line 1: venue: must be a mapping, e.g. venue: {kind: paper-remote, url: ws://127.0.0.1:8765}",
        ),
    ],
)
def test_venue_when_invalid_then_refused_naming_the_line_and_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "risk.yaml", env={})
    assert [str(issue) for issue in caught.value.issues] == [message]
