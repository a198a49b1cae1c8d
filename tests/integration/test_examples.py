"""Each scenario under examples/ replays to exactly its hand-checked expected output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riskguard.config import load_config
from riskguard.replay import replay_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCENARIOS = sorted(p.name for p in EXAMPLES.iterdir() if (p / "events.jsonl").is_file())


def test_examples_when_listed_then_there_are_scenarios() -> None:
    assert len(SCENARIOS) >= 3


@pytest.mark.parametrize("name", SCENARIOS)
def test_example_when_replayed_then_output_equals_the_expected_file(name: str) -> None:
    # Arrange
    directory = EXAMPLES / name
    expected = [json.loads(line) for line in (directory / "expected.jsonl").read_text(encoding="utf-8").splitlines()]
    # Act
    actual = replay_file(directory / "events.jsonl", load_config(directory / "config.yaml", env={}))
    # Assert: line by line, so a failure names the first line that changed
    for number, (want, got) in enumerate(zip(expected, actual, strict=False), start=1):
        assert got == want, f"{name}/expected.jsonl line {number}"
    assert len(actual) == len(expected)
