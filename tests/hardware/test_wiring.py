"""The wiring diagrams and tables in hardware/wiring/ are generated from the firmware's pin maps."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _renderer():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("render_wiring", ROOT / "hardware/tools/render_wiring.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_wiring_matches_pin_maps(tmp_path: Path) -> None:
    written = _renderer().render(tmp_path)
    assert len(written) >= 4  # two ESP32 boards, an SVG and a table each
    for path in written:
        rel = path.relative_to(tmp_path)
        committed = ROOT / rel
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"{rel} is stale: run .venv/bin/python hardware/tools/render_wiring.py"
        )


def test_every_gpio_of_the_default_interface_is_in_the_diagram() -> None:
    for board_file in (ROOT / "firmware/boards").glob("esp32*.json"):
        board = json.loads(board_file.read_text(encoding="utf-8"))
        svg = (ROOT / "hardware/wiring" / (board["board"] + ".svg")).read_text(encoding="utf-8")
        hsu = board["pn532"]["hsu"]
        gpios = (hsu["tx"], hsu["rx"], board["pn532"]["irq"], board["pn532"]["reset"], *board["ui"].values())
        for gpio in gpios:
            assert f"GPIO{gpio} " in svg or f"GPIO{gpio}<" in svg, (board["board"], gpio)


def test_no_gpio_is_used_twice_on_a_board() -> None:
    for board_file in (ROOT / "firmware/boards").glob("esp32*.json"):
        board = json.loads(board_file.read_text(encoding="utf-8"))
        pn = board["pn532"]
        for iface in ("hsu", "i2c", "spi"):
            signal_keys = {"tx", "rx", "sda", "scl", "sck", "miso", "mosi", "cs"}
            pins = [v for k, v in pn[iface].items() if k in signal_keys]
            pins += [pn["irq"], pn["reset"], *board["ui"].values()]
            assert len(pins) == len(set(pins)), (board["board"], iface, pins)


def test_bom_lists_both_boards_and_the_front_end() -> None:
    with (ROOT / "hardware/bom.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    parts = " ".join(r["part"] + " " + r["manufacturer_part_number"] for r in rows)
    for needle in ("ESP32-DevKitC", "ESP32-S3", "PN532", "buzzer", "LED", "capacitor"):
        assert needle.lower() in parts.lower(), needle
    assert all(r["manufacturer_part_number"] and r["alternative"] for r in rows)


def _bom_refs() -> set[str]:
    """Every reference designator of the BOM, ranges written out (``R1-R2`` is R1 and R2)."""
    refs = set()
    with (ROOT / "hardware/bom.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            ref = row["ref"]
            m = re.fullmatch(r"([A-Z]+)(\d+)-\1?(\d+)", ref)
            if m:
                refs.update(f"{m[1]}{i}" for i in range(int(m[2]), int(m[3]) + 1))
            else:
                refs.add(ref)
    return refs


def test_every_part_the_wiring_names_is_in_the_bom() -> None:
    """A builder buys from the BOM: a part the wiring asks for (a resistor, a wire set) must be on it."""
    refs = _bom_refs()
    for table in (ROOT / "hardware/wiring").glob("*.md"):
        named = set(re.findall(r"\b(?:BZ|PB|[CDEJQRU])\d\b", table.read_text(encoding="utf-8")))
        assert {"C1", "C2", "J1", "J2", "J3", "R4"} <= named, (table.name, named)
        assert named <= refs, (table.name, sorted(named - refs))
