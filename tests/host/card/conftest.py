"""Card tests: long fuzz runs are opt-in (``-m fuzz``); the default run keeps the short smoke."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "fuzz" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="long fuzz run: opt in with -m fuzz")
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents and item.get_closest_marker("fuzz"):
            item.add_marker(skip)
