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
