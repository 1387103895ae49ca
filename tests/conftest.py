"""Shared options and fixtures for every test level."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "tests" / "vectors"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("partycard")
    group.addoption(
        "--reader-serial",
        default=None,
        help="hardware tests: the serial number the reader on --port must report",
    )


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    return VECTORS


_OPT_IN = ("fuzz", "soak")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long fuzz and soak runs are opt-in: they run only when ``-m`` names their marker."""
    selected = config.getoption("markexpr") or ""
    for item in items:
        for marker in _OPT_IN:
            if item.get_closest_marker(marker) and marker not in selected:
                item.add_marker(pytest.mark.skip(reason=f"long {marker} run: opt in with -m {marker}"))
