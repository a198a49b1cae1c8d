"""YAML with line numbers, and with decimals instead of floats: `limit: -512.5` is Decimal("-512.5")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml

__all__ = ["YamlError", "line_of", "load_with_nodes"]


class _DecimalLoader(yaml.SafeLoader):
    """SafeLoader whose floats are Decimals built from the text as written."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    return Decimal(text)


def _int_or_clock(loader: yaml.SafeLoader, node: yaml.Node) -> int | str:
    """YAML 1.1 reads 17:00 as the base-60 number 1020; a config means the time of day."""
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    return text if ":" in text else yaml.SafeLoader.construct_yaml_int(loader, node)  # type: ignore[arg-type]


def _decimal_or_clock(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal | str:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    return text if ":" in text else _decimal(loader, node)


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal_or_clock)
_DecimalLoader.add_constructor("tag:yaml.org,2002:int", _int_or_clock)


class YamlError(ValueError):
    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(message)


def load_with_nodes(text: str) -> tuple[Any, yaml.Node | None]:
    """Parse `text` once for values and once for the node tree that knows line numbers."""
    try:
        node = yaml.compose(text, Loader=_DecimalLoader)
        data = yaml.load(text, Loader=_DecimalLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlError(None if mark is None else mark.line + 1, f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlError(None, f"not valid YAML: {exc}") from None
    return data, node


def line_of(node: yaml.Node | None, path: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the value at `path`, or of the deepest part of it that exists."""
    line = None if node is None else node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
