"""Load a YAML config, with `RISK_*` environment overrides, and refuse it whole if anything is wrong.

Every problem is reported, each with the file, the line, the key and what to do. A config
that fails leaves whatever was loaded before in force: callers keep the old `RiskConfig`
until `load_config` returns a new one.

Presets: ``preset: topstep-50k`` starts from a bundled rule set (riskguard/presets/), and every
value the file gives overrides the preset's, field by field.

Overrides: ``RISK_<RULE>__<PARAM>=value`` sets one rule parameter (``RISK_MAX_CONTRACTS__LIMIT=3``)
and seed 004's names work too (``RISK_MAX_DAILY_LOSS=500``). Values are read as YAML scalars.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from riskguard.config._yaml import YamlError, line_of, load_with_nodes
from riskguard.config.schema import AccountConfig, ApiConfig, RiskConfig, VenueConfig
from riskguard.core.errors import InvalidInput, RiskguardError
from riskguard.core.instruments import Instrument
from riskguard.core.rules import RULES, RuleParams
from riskguard.instruments_catalog import DEFAULT_INSTRUMENTS

__all__ = ["ENV_ALIASES", "ConfigError", "ConfigIssue", "load_config", "parse_config", "parse_rules", "preset_names"]

TOP_LEVEL = ("preset", "rules", "instruments", "accounts", "execution_mode", "venue", "api")

#: Seed 004's environment names, mapped to (rule, param).
ENV_ALIASES: dict[str, tuple[str, str]] = {
    "RISK_MAX_DAILY_LOSS": ("daily_realized_loss", "limit"),
    "RISK_MAX_DAILY_LOSS_PERCENT": ("daily_realized_loss", "limit_pct"),
    "RISK_MAX_ORDER_NOTIONAL": ("max_order_notional", "limit"),
    "RISK_MAX_POSITIONS": ("max_positions", "limit"),
    "RISK_MAX_OPEN_ORDERS": ("max_open_orders", "limit"),
    "RISK_MAX_CONSECUTIVE_LOSSES": ("circuit_breaker", "max_consecutive_losses"),
    "RISK_MAX_CONSECUTIVE_ERRORS": ("circuit_breaker", "max_consecutive_errors"),
    "RISK_MAX_ORDERS_PER_MINUTE": ("order_rate_limit", "max_orders_per_minute"),
}


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file} line {self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(RiskguardError):
    """The config was refused; nothing of it was applied."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> RiskConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(path), None, "", f"cannot be read ({exc.strerror})")]) from None
    return parse_config(text, str(path), os.environ if env is None else env)


def parse_config(text: str, source: str = "<config>", env: Mapping[str, str] | None = None) -> RiskConfig:
    issues: list[ConfigIssue] = []
    try:
        data, node = load_with_nodes(text)
    except YamlError as exc:
        raise ConfigError([ConfigIssue(source, exc.line, "", exc.message)]) from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigIssue(source, 1, "", "the config must be a mapping with rules:, instruments:, accounts:")]
        )
    origins = _apply_env(data, env or {}, source, issues)
    preset_issue = _apply_preset(data)
    if preset_issue is not None:
        issues.append(ConfigIssue(source, line_of(node, ("preset",)), "preset", preset_issue))

    def issue(path: tuple[str | int, ...], message: str) -> None:
        key = ".".join(str(p) for p in path)
        line = line_of(node, path)
        if key in origins:
            issues.append(ConfigIssue(source, None, key, f"{message} (from {origins[key]})"))
        else:
            issues.append(ConfigIssue(source, line, key, message))

    for key in data:
        if key not in TOP_LEVEL:
            issue((key,), f"unknown section{_suggest(str(key), TOP_LEVEL)}; the sections are {', '.join(TOP_LEVEL)}")
    rules = _rules(_section(data, "rules", issue), issue)
    instruments = _instruments(_section(data, "instruments", issue), issue)
    accounts = _accounts(_section(data, "accounts", issue), issue)
    venue = _venue(data.get("venue") or {}, issue)
    api = _api(data.get("api") or {}, issue)
    mode = data.get("execution_mode", "paper")
    if mode not in ("paper", "live"):
        issue(("execution_mode",), f"was {mode!r}: must be paper or live")
    if issues:
        raise ConfigError(issues)
    return RiskConfig(rules, instruments, accounts, source, str(mode), venue, api)


def parse_rules(section: Mapping[str, Any], source: str = "<api>") -> tuple[tuple[str, RuleParams], ...]:
    """A `rules:` section given as data (the API's rule update), validated exactly as the config
    file's is, and refused whole with every issue named (no line numbers: there is no file)."""
    issues: list[ConfigIssue] = []

    def issue(path: tuple[str | int, ...], message: str) -> None:
        issues.append(ConfigIssue(source, None, ".".join(str(p) for p in path), message))

    rules = _rules(dict(section), issue)
    if issues:
        raise ConfigError(issues)
    return rules


def _apply_preset(data: dict[str, Any]) -> str | None:
    """Put a named preset's rules under the file's own: the file's values win, field by field.
    Returns a problem sentence, or None."""
    name = data.get("preset")
    if name is None:
        return None
    known = preset_names()
    if name not in known:
        return f"was {name!r}: not a preset{_suggest(str(name), known)}; the presets are {', '.join(known)}"
    preset, _ = load_with_nodes(
        resources.files("riskguard.presets").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    )
    for section in ("rules", "instruments", "accounts"):
        own = data.get(section) or {}
        if not isinstance(own, dict):
            continue  # reported as a malformed section later
        merged = dict(preset.get(section) or {})
        for key, value in own.items():
            base = merged.get(key)
            merged[key] = {**base, **value} if isinstance(base, dict) and isinstance(value, dict) else value
        data[section] = merged
    return None


def preset_names() -> list[str]:
    """The bundled presets, by name (riskguard/presets/<name>.yaml)."""
    folder = resources.files("riskguard.presets")
    return sorted(item.name.removesuffix(".yaml") for item in folder.iterdir() if item.name.endswith(".yaml"))


def _section(data: dict[str, Any], name: str, issue: Any) -> dict[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        issue((name,), "must be a mapping of names to settings")
        return {}
    return value


def _rules(section: dict[str, Any], issue: Any) -> tuple[tuple[str, RuleParams], ...]:
    rules = []
    for name, settings in section.items():
        if name not in RULES:
            issue(("rules", name), f"unknown rule{_suggest(str(name), RULES)}; see docs/rules.md for the catalogue")
            continue
        rule_class, params_class = RULES[name]
        try:
            params = TypeAdapter(params_class).validate_python(settings if settings is not None else {})
        except ValidationError as exc:
            for error in exc.errors():
                issue(("rules", name, *error["loc"]), _explain(error))
            continue
        try:
            rule_class(params)  # cross-field checks live in the rule (timezones, reset times, limits)
        except InvalidInput as exc:
            issue(("rules", name, exc.field), f"was {exc.value!r}: {exc.problem}")
            continue
        rules.append((name, params))
    return tuple(rules)


def _instruments(section: dict[str, Any], issue: Any) -> dict[str, Instrument]:
    instruments = dict(DEFAULT_INSTRUMENTS)
    for symbol, settings in section.items():
        if not isinstance(settings, dict):
            issue(("instruments", symbol), "must be a mapping with tick_size, multiplier, currency, lot_size")
            continue
        unknown = set(settings) - {"tick_size", "multiplier", "currency", "lot_size"}
        if unknown:
            issue(
                ("instruments", symbol, sorted(unknown)[0]),
                "is not an instrument field (tick_size, multiplier, currency, lot_size)",
            )
            continue
        if "tick_size" not in settings:
            issue(("instruments", symbol), "tick_size is required")
            continue
        try:
            instruments[str(symbol)] = Instrument(str(symbol), **{k: _text(v) for k, v in settings.items()})
        except InvalidInput as exc:
            issue(("instruments", symbol, exc.field.removeprefix("instrument.")), f"was {exc.value!r}: {exc.problem}")
    return instruments


def _accounts(section: dict[str, Any], issue: Any) -> dict[str, AccountConfig]:
    accounts = {}
    for account, settings in section.items():
        try:
            accounts[str(account)] = TypeAdapter(AccountConfig).validate_python(settings or {})
        except ValidationError as exc:
            for error in exc.errors():
                issue(("accounts", account, *error["loc"]), _explain(error))
    return accounts


def _venue(section: Any, issue: Any) -> VenueConfig:
    example = "venue: {kind: paper-remote, url: ws://127.0.0.1:8765}"
    venue: VenueConfig = _settings_section("venue", VenueConfig, section, issue, example)
    return venue


def _api(section: Any, issue: Any) -> ApiConfig:
    api: ApiConfig = _settings_section("api", ApiConfig, section, issue, "api: {gateway: true}")
    return api


def _settings_section(name: str, model: type[Any], section: Any, issue: Any, example: str) -> Any:
    """A section that is one settings model (venue:, api:); its defaults when it is wrong (and said)."""
    if not isinstance(section, dict):
        issue((name,), f"must be a mapping, e.g. {example}")
        return model()
    try:
        return TypeAdapter(model).validate_python(section)
    except ValidationError as exc:
        for error in exc.errors():
            if error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
                keys = ", ".join(f.name for f in dataclasses.fields(model))
                issue((name, *error["loc"]), f"is not a {name} setting; they are {keys}")
            else:
                issue((name, *error["loc"]), _explain(error))
    return model()


def _apply_env(data: dict[str, Any], env: Mapping[str, str], source: str, issues: list[ConfigIssue]) -> dict[str, str]:
    """Write RISK_* overrides into `data`; return {dotted key: variable} to name them in errors."""
    origins: dict[str, str] = {}
    for variable in sorted(env):
        if not variable.startswith("RISK_"):
            continue
        target = ENV_ALIASES.get(variable)
        if target is None:
            rule, sep, param = variable.removeprefix("RISK_").lower().partition("__")
            target = (rule, param) if sep and rule in RULES and param else None
        if target is None:
            issues.append(
                ConfigIssue(
                    "environment",
                    None,
                    variable,
                    "is not a riskguard setting; use RISK_<RULE>__<PARAM>, e.g. RISK_MAX_CONTRACTS__LIMIT",
                )
            )
            continue
        try:
            value = yaml.safe_load(env[variable])
        except yaml.YAMLError:
            value = env[variable]
        rules = data.setdefault("rules", {}) or {}
        data["rules"] = rules
        settings = rules.get(target[0])
        rules[target[0]] = {**(settings or {}), target[1]: str(value) if isinstance(value, float) else value}
        origins[f"rules.{target[0]}.{target[1]}"] = variable
    if issues:
        raise ConfigError(issues)
    return origins


def _explain(error: Mapping[str, Any]) -> str:
    if error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        return "is not a setting of this rule; check its spelling in docs/rules.md"
    if error["type"] == "missing":
        return "is required"
    given = error.get("input")
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return f"{error['msg']} (was {given!r})" if not isinstance(given, dict) else str(error["msg"])


def _suggest(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _text(value: Any) -> Any:
    return str(value) if not isinstance(value, str | bool) else value
