#!/usr/bin/env python3
"""Rewrite examples/*/expected.jsonl from the current engine.

Only after reading the diff line by line: the expected files are the hand-checked record of what
each rule must do, and tests/integration/test_examples.py compares the replay with them exactly.
Run with the project's venv: .venv/bin/python scripts/update_examples.py [NAME ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from riskguard.config import load_config
from riskguard.replay import replay_file

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def main(names: list[str]) -> None:
    for directory in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        if names and directory.name not in names:
            continue
        records = replay_file(directory / "events.jsonl", load_config(directory / "config.yaml", env={}))
        text = "".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n" for r in records)
        (directory / "expected.jsonl").write_text(text, encoding="utf-8")
        print(f"{directory.name}: {len(records)} lines")


if __name__ == "__main__":
    main(sys.argv[1:])
