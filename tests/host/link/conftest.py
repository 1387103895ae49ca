"""Long fuzz runs in this folder are opt-in: they run only when ``-m`` names the fuzz marker."""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "fuzz" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="long fuzz run: opt in with -m fuzz (a bounded smoke runs by default)")
    for item in items:
        if item.get_closest_marker("fuzz") and _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)
