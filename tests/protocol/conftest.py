"""Fixtures for the protocol conformance suite: the compiled schema and the vector files."""

from __future__ import annotations

import pytest
from protocol.tools.check_vectors import VECTORS, Schema, load_jsonl
from protocol.tools.vectorlib import Json


@pytest.fixture(scope="session")
def schema() -> Schema:
    return Schema()


def records(name: str) -> list[dict[str, Json]]:
    """The records of one vector file (used at collection time for parametrisation)."""
    return load_jsonl(VECTORS / name)
