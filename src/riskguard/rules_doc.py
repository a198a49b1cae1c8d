"""Render docs/rules.md from the rule catalogue: each rule's docstring and its Params fields.

The page is generated so it cannot drift from the code: a test compares docs/rules.md with
`render()`, and `python -m riskguard.rules_doc > docs/rules.md` rewrites it.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from enum import Enum
from typing import Any

from riskguard.core.rules import RULES, RuleParams

__all__ = ["render"]

_FIELD = re.compile(r"^\s+(\w+):\s*[^=#]+?(?:=\s*(?P<default>[^#]+?))?\s*(?:#\s*(?P<comment>.*))?$")

HEADER = """# The rule catalogue

Generated from the rule modules by `python -m riskguard.rules_doc > docs/rules.md`; a test
checks it is current. Every rule lives in `src/riskguard/core/rules/<name>.py` and is configured
under `rules:` by its name, e.g.

```yaml
rules:
  max_contracts: {enabled: true, limit: 5, count_type: net, close_all: true}
  daily_realized_loss: {enabled: true, limit: -500, reset_time: "17:00", timezone: "America/New_York"}
```

Rules run in the order the config lists them; the first refusal answers the order. Unknown rule
names and unknown settings are errors (with the file, line and key), and `RISK_<RULE>__<PARAM>`
environment variables override single values.

## What every rule shares

- **Exits are never blocked.** An order that only reduces the account's position (reduce-only
  against an open position, or on the closing side and no larger than the net position) is
  approved before any rule is asked, while locked out, halted, past a loss limit or rate limited.
- **Fail closed.** No account update yet (`account_unknown`), no price where a rule needs one
  (`price_unknown`), a price older than allowed (`price_stale`), a rule that raised
  (`rule_faulted`, until an operator resets it): new risk is refused, with the reason.
- **Touching a limit exactly.** Capacity limits (contracts, positions, open orders, notional,
  exposure, orders or trades per window, deviation and slippage maxima) name the most allowed:
  equal is allowed, only past it is refused. Loss and profit thresholds (daily loss, unrealized
  loss, profit target, the loss that starts a cooldown, consecutive losses) fire when reached.
  A window of length W at time t holds events with t − W < ts ≤ t. A lockout is in force while
  now < until; at `until` exactly it has ended.
- **What a breach does** (`on_breach`, where a rule has it): `alert` (only tell), `block_entries`
  (refuse new risk in the scope — "reduce-only", since exits always pass), `cancel_orders`,
  `flatten` (close positions and cancel orders, no lockout), `flatten_and_lock`. The actions of a
  breach come together, the critical alert first.
- **Lockouts** end at their time (a timer, or the next reset of the rule's trading day), or, when
  latched, only by an operator's reset with a reason; a rule may refuse a reset (the circuit
  breaker while its cooldown runs). While locked, orders are refused with `locked_out` and the
  lockout's sentence.
- **Resets** happen at a local time in an IANA timezone (17:00 America/New_York by default for
  futures), correct across DST: the trading day that starts Sunday 18:00 New York is Monday's.

"""


def _fields(params: type[RuleParams]) -> list[tuple[str, str, str]]:
    """(name, default, comment) of each field, read from the class source for the comments."""
    comments: dict[str, tuple[str, str]] = {}
    for cls in reversed(params.__mro__):
        if not dataclasses.is_dataclass(cls) or cls is object:
            continue
        try:
            source = inspect.getsource(cls)
        except (OSError, TypeError):  # pragma: no cover - classes defined outside files
            continue
        for line in source.splitlines():
            match = _FIELD.match(line)
            if match:
                comments[match.group(1)] = (
                    (match.group("default") or "").strip(),
                    (match.group("comment") or "").strip(),
                )
    rows = []
    for field in dataclasses.fields(params):
        _, comment = comments.get(field.name, ("", ""))
        if field.default is not dataclasses.MISSING:
            default = _yaml(field.default)
        elif field.default_factory is not dataclasses.MISSING:
            default = _yaml(field.default_factory())
        else:
            default = "required"
        rows.append((field.name, default, comment))
    return rows


def _yaml(value: Any) -> str:
    """A default as it would be written in the YAML config."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml(k)}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | frozenset | set):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    return str(value)


def _rule_section(name: str, rule: type[Any], params: type[RuleParams]) -> str:
    module = sys.modules[rule.__module__]
    doc = inspect.cleandoc(module.__doc__ or "").strip()
    kinds = [k for k, on in (("pre-trade gate", rule.gate), ("reacts to events", rule.reactive)) if on]
    lines = [
        f"## `{name}`",
        "",
        f"*{', '.join(kinds)}* — `{rule.__module__}`",
        "",
        doc,
        "",
        "| setting | default | meaning |",
        "|---|---|---|",
    ]
    for field, default, comment in _fields(params):
        lines.append(f"| `{field}` | `{default}` | {comment} |")
    return "\n".join(lines) + "\n"


def render() -> str:
    index = ["## Index", ""] + [f"- [`{name}`](#{name})" for name in RULES] + [""]
    sections = [_rule_section(name, rule, params) for name, (rule, params) in RULES.items()]
    return HEADER + "\n".join(index) + "\n" + "\n".join(sections)


if __name__ == "__main__":
    sys.stdout.write(render())
