"""The packages export exactly what their public modules export (after httpx's test_exported_members)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

PACKAGES = ["riskguard.core", "riskguard.audit", "riskguard.api", "riskguard.controller"]


def public_modules(package: ModuleType) -> list[ModuleType]:
    """The package's submodules whose names do not start with an underscore, found on disk."""
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    ]


@pytest.mark.parametrize("name", PACKAGES)
def test_package_all_when_read_then_every_name_is_importable_from_the_package(name: str) -> None:
    # Arrange
    package = importlib.import_module(name)

    # Act
    missing = [member for member in package.__all__ if not hasattr(package, member)]

    # Assert
    assert missing == []
    assert len(package.__all__) == len(set(package.__all__))


@pytest.mark.parametrize("name", PACKAGES)
def test_package_all_when_compared_with_its_public_modules_then_equals_the_union_of_their_all(name: str) -> None:
    # Arrange
    package = importlib.import_module(name)
    modules = public_modules(package)

    # Act
    union = {member for module in modules for member in module.__all__}

    # Assert
    assert len(modules) > 1
    assert set(package.__all__) == union


@pytest.mark.parametrize("name", PACKAGES)
def test_package_all_when_a_name_is_exported_then_it_is_the_object_its_module_defines(name: str) -> None:
    # Arrange
    package = importlib.import_module(name)

    # Act
    origins = {
        member: [module.__name__ for module in public_modules(package) if member in module.__all__]
        for member in package.__all__
    }

    # Assert
    assert {member: len(found) for member, found in origins.items()} == dict.fromkeys(package.__all__, 1)
    for member, (module_name,) in origins.items():
        assert getattr(package, member) is getattr(importlib.import_module(module_name), member)


@pytest.mark.parametrize("name", PACKAGES)
def test_module_all_when_a_public_class_or_function_is_defined_then_it_is_listed(name: str) -> None:
    # Arrange
    package = importlib.import_module(name)

    # Act
    unlisted = {
        module.__name__: sorted(
            member
            for member, value in vars(module).items()
            if not member.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and value.__module__ == module.__name__
            and member not in module.__all__
        )
        for module in public_modules(package)
    }

    # Assert
    assert unlisted == {module.__name__: [] for module in public_modules(package)}
