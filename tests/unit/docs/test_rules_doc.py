"""docs/rules.md is generated from the rule modules and must be current."""

from __future__ import annotations

from pathlib import Path

from riskguard.core.rules import RULES
from riskguard.rules_doc import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "rules.md"


def test_rules_doc_when_compared_with_the_code_then_current() -> None:
    # Rewrite with: .venv/bin/python -m riskguard.rules_doc > docs/rules.md
    assert DOC.read_text(encoding="utf-8") == render()


def test_rules_doc_when_rendered_then_every_rule_and_setting_is_described() -> None:
    # Arrange
    text = render()
    # Act / Assert: a section per rule, and no setting without a meaning
    for name in RULES:
        assert f"## `{name}`" in text
    undocumented = [line for line in text.splitlines() if line.startswith("| `") and line.endswith("|  |")]
    assert undocumented == []
