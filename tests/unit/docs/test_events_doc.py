"""Every input example in docs/events.md parses: the documentation cannot show a line the replay refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path

from riskguard.codec import EVENT_TYPES, parse_event

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def input_examples() -> list[dict[str, object]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines() if line.startswith('{"type": ')]
    return [json.loads(line) for line in lines]


def test_events_doc_when_its_input_examples_are_parsed_then_each_is_accepted() -> None:
    # Arrange
    examples = input_examples()
    # Act
    kinds = [example["type"] for example in examples if parse_event(example) is not None]
    # Assert: one example at least for every input type the codec accepts
    assert set(kinds) == set(EVENT_TYPES)
