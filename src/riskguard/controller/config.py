"""The controller's YAML: where it listens and which daemons it speaks for, refused whole if anything is wrong.

```yaml
controller: {host: 127.0.0.1, port: 8010, timeout_seconds: 3}
sources:
  - {name: hyperliquid, url: "http://127.0.0.1:8003", token_env: RISKGUARD_TOKEN_HYPERLIQUID}
  - {name: lighter, url: "http://127.0.0.1:8004", token_file: /etc/riskguard/lighter.token}
```

Each source's token (an admin API token of that daemon) comes from an environment variable or
from a file only its owner may read (0600), never from the YAML: a config file gets copied,
committed and pasted into tickets. A relative `token_file` is read from the config file's folder.
Problems are reported all at once, each with the file, the line and the key, as the daemon's
config loader does (`ConfigError`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, ValidationError, field_validator

from riskguard.config._yaml import YamlError, line_of, load_with_nodes
from riskguard.config.loader import ConfigError, ConfigIssue

__all__ = ["SOURCE_NAME_PATTERN", "ControllerConfig", "Source", "load_controller_config", "parse_controller_config"]

#: A source's name: it appears in paths (/api/risk/{source}/...) and in every row the controller shows.
SOURCE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"

_TOP_LEVEL = ("controller", "sources")
_SOURCE_KEYS = ("name", "url", "token_env", "token_file")
_CONTROLLER_KEYS = ("host", "port", "timeout_seconds")

_Issue = Callable[[tuple[str | int, ...], str], None]  # reports a problem at a path of the YAML


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ControllerSection(_Section):
    host: Annotated[str, StringConstraints(min_length=1)] = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8010
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 3.0


class _SourceEntry(_Section):
    name: Annotated[str, StringConstraints(pattern=SOURCE_NAME_PATTERN)]
    url: str
    token_env: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    token_file: Annotated[str, StringConstraints(min_length=1)] | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL as exc:
            raise ValueError(f"was {value!r}: not a URL ({exc})") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f'was {value!r}: must be the daemon\'s http(s) address, e.g. "http://127.0.0.1:8003"')
        if url.userinfo or url.query or url.fragment:
            raise ValueError(f"was {value!r}: no user, password, query or fragment (the token goes in token_env)")
        return value.rstrip("/")


@dataclass(frozen=True, slots=True)
class Source:
    """One daemon the controller speaks for, with the admin token it speaks with (never shown)."""

    name: str
    url: str
    token: SecretStr


@dataclass(frozen=True, slots=True)
class ControllerConfig:
    host: str
    port: int
    timeout_seconds: float
    sources: tuple[Source, ...]
    path: str


def load_controller_config(path: str | Path, env: Mapping[str, str] | None = None) -> ControllerConfig:
    """Read, validate and resolve the tokens of the controller's config file (`env`: os.environ)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(path), None, "", f"cannot be read ({exc.strerror})")]) from None
    return parse_controller_config(text, str(path), os.environ if env is None else env, base=path.parent)


def parse_controller_config(
    text: str, source: str = "<controller config>", env: Mapping[str, str] | None = None, *, base: Path | None = None
) -> ControllerConfig:
    """The config in `text`; a relative token_file is read from `base` (default: the working folder)."""
    try:
        data, node = load_with_nodes(text)
    except YamlError as exc:
        raise ConfigError([ConfigIssue(source, exc.line, "", exc.message)]) from None
    issues: list[ConfigIssue] = []

    def issue(path: tuple[str | int, ...], message: str) -> None:
        issues.append(ConfigIssue(source, line_of(node, path), ".".join(str(part) for part in path), message))

    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(source, 1, "", "the config must be a mapping with controller: and sources:")])
    for key in data:
        if key not in _TOP_LEVEL:
            issue((key,), f"unknown section; the sections are {', '.join(_TOP_LEVEL)}")
    settings = _controller(data.get("controller") or {}, issue)
    entries = _sources(data.get("sources"), issue)
    _validate_unique(entries, issue)
    sources = tuple(
        Source(entry.name, entry.url, token)
        for index, entry in entries
        if (token := _token(entry, index, env or {}, base or Path.cwd(), issue)) is not None
    )
    if issues or settings is None:
        raise ConfigError(issues)
    return ControllerConfig(settings.host, settings.port, settings.timeout_seconds, sources, source)


def _controller(section: Any, issue: _Issue) -> _ControllerSection | None:
    if not isinstance(section, dict):
        issue(("controller",), "must be a mapping, e.g. controller: {host: 127.0.0.1, port: 8010}")
        return None
    try:
        return _ControllerSection.model_validate(section)
    except ValidationError as exc:
        for error in exc.errors():
            issue(("controller", *error["loc"]), _explain(error, _CONTROLLER_KEYS))
        return None


def _sources(section: Any, issue: _Issue) -> list[tuple[int, _SourceEntry]]:
    if not isinstance(section, list) or not section:
        issue(("sources",), "must be a list of daemons, each {name, url, token_env or token_file}")
        return []
    entries = []
    for index, item in enumerate(section):
        if not isinstance(item, dict):
            issue(("sources", index), "must be a mapping {name, url, token_env or token_file}")
            continue
        if "token" in item:
            issue(("sources", index, "token"), "a token never goes in the config file: use token_env or token_file")
            continue
        try:
            entry = _SourceEntry.model_validate(item)
        except ValidationError as exc:
            for error in exc.errors():
                issue(("sources", index, *error["loc"]), _explain(error, _SOURCE_KEYS))
            continue
        if entry.token_env is None and entry.token_file is None:
            issue(
                ("sources", index),
                f"{entry.name} needs an admin API token of its daemon: token_env (an environment variable) "
                "or token_file (a file only its owner can read)",
            )
            continue
        if entry.token_env is not None and entry.token_file is not None:
            issue(("sources", index), f"{entry.name}: give token_env or token_file, not both")
            continue
        entries.append((index, entry))
    return entries


def _validate_unique(entries: list[tuple[int, _SourceEntry]], issue: _Issue) -> None:
    """Two sources with one name would make paths ambiguous; with one URL, every row would show twice."""
    names: dict[str, int] = {}
    urls: dict[str, str] = {}
    for index, entry in entries:
        if entry.name in names:
            issue(("sources", index, "name"), f"{entry.name!r} is already the name of sources.{names[entry.name]}")
        names.setdefault(entry.name, index)
        if entry.url in urls:
            issue(("sources", index, "url"), f"{entry.url} is already the url of source {urls[entry.url]!r}")
        urls.setdefault(entry.url, entry.name)


def _token(entry: _SourceEntry, index: int, env: Mapping[str, str], base: Path, issue: _Issue) -> SecretStr | None:
    if entry.token_env is not None:
        value = env.get(entry.token_env, "").strip()
        if not value:
            issue(
                ("sources", index, "token_env"),
                f"{entry.token_env} is not set (or empty): set it to an admin API token of {entry.name} "
                '(POST /api/auth/tokens {"name": "controller", "role": "admin"} on that daemon)',
            )
            return None
        return SecretStr(value)
    path = base / str(entry.token_file)
    problem = _token_file_problem(path)
    if problem is None:
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            problem = f"{path} cannot be read ({getattr(exc, 'strerror', None) or exc})"
    if problem is not None:
        issue(("sources", index, "token_file"), problem)
        return None
    if not value:
        issue(("sources", index, "token_file"), f"{path} is empty: write an admin API token of {entry.name} in it")
        return None
    return SecretStr(value)


def _token_file_problem(path: Path) -> str | None:
    """Why the file cannot hold a token, or None: it must be a regular file only its owner can read."""
    try:
        info = path.stat()
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror})"
    if not stat.S_ISREG(info.st_mode):
        return f"{path} is not a regular file"
    if info.st_mode & 0o077:
        return (
            f"{path} may be read by other users (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"a token file must be private: chmod 600 {path}"
        )
    return None


def _explain(error: Mapping[str, Any], known: tuple[str, ...]) -> str:
    if error["type"] == "extra_forbidden":
        return f"is not a setting here; they are {', '.join(known)}"
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "string_pattern_mismatch" and error["loc"][-1:] == ("name",):
        return f"was {error['input']!r}: 1 to 32 lowercase letters, digits and '-', starting with a letter or digit"
    return f"{error['msg']} (was {error.get('input')!r})"
