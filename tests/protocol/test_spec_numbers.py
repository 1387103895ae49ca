"""Every number and error code name SPEC.md mentions exists in codes.toml with that value."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = (ROOT / "protocol" / "SPEC.md").read_text(encoding="utf-8")
CODES = tomllib.loads((ROOT / "protocol" / "codes.toml").read_text(encoding="utf-8"))
CONSTANTS = {**CODES["limit"], "PROTOCOL_VERSION": CODES["protocol"]["version"]}


def test_error_names_exist() -> None:
    names = set(re.findall(r"\bE_[A-Z0-9_]+\b", SPEC))
    assert names, "SPEC.md names no error code"
    assert names <= set(CODES["error"]), sorted(names - set(CODES["error"]))


def test_constant_names_exist() -> None:
    names = set(re.findall(r"`([A-Z][A-Z0-9_]*_(?:[A-Z0-9]+))`", SPEC)) - set(CODES["error"])
    assert names <= set(CONSTANTS), sorted(names - set(CONSTANTS))


# "`MAX_PAYLOAD` 2048" (§7) and "`PROTOCOL_VERSION` (1)" (§3).
STATED = re.findall(r"`([A-Z][A-Z0-9_]+)` \(?(\d+)\)?", SPEC)


def test_spec_states_numbers() -> None:
    assert len(STATED) >= 8


@pytest.mark.parametrize(("name", "value"), STATED)
def test_stated_value_matches(name: str, value: str) -> None:
    assert CONSTANTS[name] == int(value)


def _table_rows(heading: str) -> list[list[str]]:
    """The cells of the first Markdown table after a line starting with heading."""
    section = SPEC.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def test_envelope_keys() -> None:
    rows = _table_rows("The payload is one CBOR data item")
    assert {name.upper(): int(key) for key, name, _ in rows} == CODES["envelope_key"]


def test_message_types() -> None:
    rows = _table_rows("The payload is one CBOR data item")
    type_cell = next(value for _, name, value in rows if name == "type")
    stated = {name.upper(): int(num) for num, name in re.findall(r"(\d+) (\w+)", type_cell)}
    assert stated == CODES["message_type"]


def test_ops_and_events() -> None:
    rows = _table_rows("Every request gets exactly one response")
    ops = {cell.strip("`") for cell, *_ in rows}
    events = set(re.findall(r"`([a-z.]+)`", SPEC.split("Events (type 2)", 1)[1].split("## 5.", 1)[0]))
    wire_names = set(CODES["op"].values())
    assert ops | events == wire_names


def test_error_code_ranges() -> None:
    ranges = [(int(a, 16), int(b, 16)) for a, b in re.findall(r"(0x[0-9A-F]{2})–(0x[0-9A-F]{2})", SPEC)]
    assert len(ranges) == 4
    for name, value in CODES["error"].items():
        assert any(a <= value <= b for a, b in ranges), f"{name} = 0x{value:02X} is in no range of SPEC.md §5"
