"""Render the wiring diagrams and tables in hardware/wiring/ from the firmware's pin maps.

The pin maps in firmware/boards/*.json are the single source of truth: the firmware loads them on
the device, and this script draws the SVG diagram and writes the Markdown wiring tables from them.
tests/hardware/test_wiring.py re-renders and fails when the committed files drift.

Usage: python hardware/tools/render_wiring.py [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[2]
BOARDS = ROOT / "firmware" / "boards"
OUT = Path("hardware") / "wiring"

# PN532 module pins by interface. The common red PN532 V3 breakout shares one 4-pin header between
# HSU and I2C (SDA/TXD, SCL/RXD) and selects the interface with two switches (PN532 UM0701-02 §3:
# the chip's I0/I1 select pins). Directions are as seen from the ESP32.
SELECT = {"hsu": "I0=L I1=L", "i2c": "I0=H I1=L", "spi": "I0=L I1=H"}


def _signals(pn: dict[str, Any], iface: str) -> list[tuple[str, int, str, str]]:
    """(ESP32 signal, GPIO, PN532 pin, direction) for one interface, plus IRQ and reset."""
    rows: list[tuple[str, int, str, str]] = []
    cfg = pn[iface]
    if iface == "hsu":
        rows += [(f"UART{cfg['uart']} TX", cfg["tx"], "SCL/RXD", "out"),
                 (f"UART{cfg['uart']} RX", cfg["rx"], "SDA/TXD", "in")]
    elif iface == "i2c":
        rows += [(f"I2C{cfg['bus']} SDA", cfg["sda"], "SDA/TXD", "both"),
                 (f"I2C{cfg['bus']} SCL", cfg["scl"], "SCL/RXD", "out")]
    else:
        rows += [(f"SPI{cfg['bus']} SCK", cfg["sck"], "SCK", "out"),
                 (f"SPI{cfg['bus']} MISO", cfg["miso"], "MISO", "in"),
                 (f"SPI{cfg['bus']} MOSI", cfg["mosi"], "MOSI", "out"),
                 (f"SPI{cfg['bus']} CS", cfg["cs"], "SS", "out")]
    rows += [("IRQ", pn["irq"], "IRQ", "in"), ("RSTPD_N", pn["reset"], "RSTO/RSTPDN", "out")]
    return rows


def markdown(board: dict[str, Any]) -> str:
    """Wiring tables (HSU default, I2C, SPI, UI) for one board."""
    out = [f"# Wiring: {board['title']}", "",
           f"Generated from `firmware/boards/{board['board']}.json` by `hardware/tools/render_wiring.py`;"
           " edit the JSON, not this file.", "",
           f"Host link: {board['link']['note']}.", ""]
    pn = board["pn532"]
    for iface in ("hsu", "i2c", "spi"):
        default = " (default)" if iface == pn["interface"] else ""
        out += [f"## PN532 over {iface.upper()}{default}: module switches {SELECT[iface]}", "",
                "| ESP32 signal | GPIO | PN532 pin | direction |", "| --- | --- | --- | --- |"]
        out += [f"| {s} | {g} | {p} | {d} |" for s, g, p, d in _signals(pn, iface)]
        out += ["| 5V | - | VCC | power |", "| GND | - | GND | ground |", ""]
    out += ["## Status LEDs and buzzer", "", "| part | GPIO | note |", "| --- | --- | --- |"]
    notes = {"led_green": "green LED + 330 Ω to GND", "led_red": "red LED + 330 Ω to GND",
             "buzzer": "passive buzzer through an NPN transistor (PWM)"}
    out += [f"| {k} | {v} | {notes.get(k, '')} |" for k, v in board["ui"].items()]
    return "\n".join(out) + "\n"


def svg(board: dict[str, Any]) -> str:
    """A block diagram of the default interface: ESP32 on the left, PN532 and UI parts on the right."""
    pn = board["pn532"]
    rows = [*_signals(pn, pn["interface"]), ("5V", -1, "VCC", "power"), ("GND", -1, "GND", "ground")]
    ui = list(board["ui"].items())
    height = 90 + 34 * (len(rows) + len(ui) + 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="720" height="{height}" '
             f'font-family="monospace" font-size="13">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="20" y="28" font-size="16">{escape(board["title"])}: PN532 over '
             f'{pn["interface"].upper()} ({SELECT[pn["interface"]]})</text>',
             f'<rect x="20" y="50" width="200" height="{height - 70}" fill="#e8f0fe" stroke="black"/>',
             '<text x="30" y="70">ESP32</text>',
             f'<rect x="500" y="50" width="200" height="{34 * len(rows) + 30}" fill="#fdecea" '
             'stroke="black"/>',
             '<text x="510" y="70">PN532 module</text>']
    colour = {"out": "#1a73e8", "in": "#188038", "both": "#9334e6", "power": "#d93025", "ground": "black"}
    for i, (sig, gpio, pin, direction) in enumerate(rows):
        y = 95 + 34 * i
        label = sig if gpio < 0 else f"GPIO{gpio} {sig}"
        parts += [f'<text x="30" y="{y + 4}">{escape(label)}</text>',
                  f'<line x1="220" y1="{y}" x2="500" y2="{y}" '
                  f'stroke="{colour[direction]}" stroke-width="2"/>',
                  f'<text x="510" y="{y + 4}">{escape(pin)}</text>']
    base = 95 + 34 * (len(rows) + 1)
    for i, (name, gpio) in enumerate(ui):
        y = base + 34 * i
        parts += [f'<text x="30" y="{y + 4}">GPIO{gpio}</text>',
                  f'<line x1="220" y1="{y}" x2="500" y2="{y}" stroke="#f9ab00" stroke-width="2"/>',
                  f'<text x="510" y="{y + 4}">{escape(name)}</text>']
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def render(out_dir: Path) -> list[Path]:
    """Write the diagram and tables of every ESP32 board below out_dir; return the paths."""
    written = []
    for path in sorted(BOARDS.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        if board["mcu"] == "unix":
            continue
        target = out_dir / OUT
        target.mkdir(parents=True, exist_ok=True)
        for suffix, text in ((".svg", svg(board)), (".md", markdown(board))):
            dest = target / (board["board"] + suffix)
            dest.write_text(text, encoding="utf-8")
            written.append(dest)
    return written


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, default=ROOT)
    for path in render(parser.parse_args().out_dir):
        print(path)


if __name__ == "__main__":
    main()
