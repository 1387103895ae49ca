"""Render the wiring diagrams and tables in hardware/wiring/ from the firmware's pin maps.

The pin maps in firmware/boards/*.json are the single source of truth: the firmware loads them on
the device, and this script draws the SVG diagram and writes the Markdown wiring tables from them.
tests/hardware/test_wiring.py re-renders and fails when the committed files drift.

Usage: python hardware/tools/render_wiring.py [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import textwrap
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
        # machine.SPI(id) numbering, not the chip's SPI peripheral numbers (on an S3 SPI1 is flash).
        rows += [(f"SPI({cfg['bus']}) SCK", cfg["sck"], "SCK", "out"),
                 (f"SPI({cfg['bus']}) MISO", cfg["miso"], "MISO", "in"),
                 (f"SPI({cfg['bus']}) MOSI", cfg["mosi"], "MOSI", "out"),
                 (f"SPI({cfg['bus']}) CS", cfg["cs"], "SS", "out")]
    rows += [("IRQ (optional)", pn["irq"], "IRQ", "in"), ("RSTPD_N", pn["reset"], "RSTPDN*", "out")]
    return rows


def _power(board: dict[str, Any]) -> list[tuple[str, int, str, str]]:
    return [(board["power"]["pn532_vcc"], -1, "VCC", "power"), ("GND", -1, "GND", "ground")]


#: Notes under every wiring table: what the tables cannot say.
POWER_NOTES = [
    "Power the module from the board's 3V3: the PN532's I/O swings to its supply, and the ESP32's pins"
    " are not 5 V tolerant. The board's 3.3 V regulator carries the RF bursts (about 150 mA).",
    "Power and wires: run the board's 3V3 and GND once to the breadboard's power rails (J3,"
    " female-male), and feed from those rails the PN532's VCC and GND (J3), BZ1 +, the LED cathodes"
    " and Q1's emitter. Put C1 (100 µF) and C2 (100 nF) across the rails where the PN532's VCC and GND"
    " leads plug in; C1 is polarised: its striped (−) lead to GND. The bus lines go straight from"
    " the board's header to the module's (J1, female-female); the LED and buzzer GPIOs reach the"
    " breadboard through J3, and the parts are joined there with J2.",
    "\\* RSTPDN is the PN532's reset input (active low). Wire it only where the module brings it out"
    " under that name; the Elechouse V3 header has RSTO instead, the chip's reset *output*: leave the"
    " GPIO unconnected there (the firmware wakes the PN532 over the bus and needs no reset line).",
    "IRQ is optional: the firmware polls the PN532 over the bus and does not read that line; the pin"
    " map reserves the GPIO for it so that wiring it does no harm.",
]

#: The status LEDs and the buzzer driver, part by part (refs as in hardware/bom.csv).
UI_CIRCUIT = {
    "led_green": "GPIO → R1 330 Ω → D1 green anode (long leg); cathode → GND",
    "led_red": "GPIO → R2 330 Ω → D2 red anode (long leg); cathode → GND",
    "buzzer": "GPIO → R3 1 kΩ → Q1 base; Q1 emitter → GND; Q1 collector → BZ1 −; BZ1 + → 3V3;"
    " R4 1 kΩ across BZ1 (the piezo discharges through it between PWM pulses); a magnetic buzzer"
    " instead also needs D3 1N4148 across it, cathode to +",
}


def markdown(board: dict[str, Any]) -> str:
    """Wiring tables (HSU default, I2C, SPI, UI) for one board."""
    out = [f"# Wiring: {board['title']}", "",
           f"Generated from `firmware/boards/{board['board']}.json` by `hardware/tools/render_wiring.py`;"
           " edit the JSON, not this file.", "",
           f"{board['link']['note'][0].upper()}{board['link']['note'][1:]}.", ""]
    pn = board["pn532"]
    for iface in ("hsu", "i2c", "spi"):
        default = " (default)" if iface == pn["interface"] else ""
        out += [f"## PN532 over {iface.upper()}{default}: module switches {SELECT[iface]}", "",
                "| ESP32 signal | GPIO | PN532 pin | direction |", "| --- | --- | --- | --- |"]
        out += [f"| {s} | {g} | {p} | {d} |" for s, g, p, d in _signals(pn, iface)]
        out += [f"| {s} | - | {p} | {d} |" for s, _g, p, d in _power(board)]
        out += [""]
    out += [f"{note}\n" for note in POWER_NOTES]
    out += [f"To use I2C or SPI instead of HSU, set the module's switches as the heading says and deploy with"
            f" `partycard deploy --pn532 i2c` (or `spi`): the pin map copied to the board then names that"
            f" interface. The default here is {pn['interface'].upper()}. On an Adafruit PN532 breakout the"
            f" switches are the SEL0 (I0) and SEL1 (I1) jumpers, H being a closed jumper: I2C is SEL0 closed,"
            f" SEL1 open.", ""]
    out += ["## Status LEDs and buzzer", "", "| part | GPIO | circuit |", "| --- | --- | --- |"]
    out += [f"| {k} | {v} | {UI_CIRCUIT.get(k, '')} |" for k, v in board["ui"].items()]
    out += ["", "Q1's legs, flat side towards you, left to right: E B C on the 2N3904, C B E on the BC547B."]
    return "\n".join(out) + "\n"


def svg(board: dict[str, Any]) -> str:
    """A block diagram of the default interface: ESP32 on the left, PN532 and UI parts on the right."""
    pn = board["pn532"]
    rows = [*_signals(pn, pn["interface"]), *_power(board)]
    ui = list(board["ui"].items())
    height = 150 + 34 * (len(rows) + 1) + 70 * len(ui)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="720" height="{height}" '
             f'font-family="monospace" font-size="13">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="20" y="24" font-size="15">{escape(board["title"])}</text>',
             f'<text x="20" y="44">PN532 over {pn["interface"].upper()}: module switches '
             f'{SELECT[pn["interface"]]}; module powered from {escape(board["power"]["pn532_vcc"])}</text>',
             f'<rect x="20" y="56" width="200" height="{height - 110}" fill="#e8f0fe" stroke="black"/>',
             '<text x="30" y="76">ESP32</text>',
             f'<rect x="500" y="56" width="200" height="{34 * len(rows) + 30}" fill="#fdecea" '
             'stroke="black"/>',
             '<text x="510" y="76">PN532 module</text>']
    colour = {"out": "#1a73e8", "in": "#188038", "both": "#9334e6", "power": "#d93025", "ground": "black"}
    for i, (sig, gpio, pin, direction) in enumerate(rows):
        y = 101 + 34 * i
        label = sig if gpio < 0 else f"GPIO{gpio} {sig}"
        parts += [f'<text x="30" y="{y + 4}">{escape(label)}</text>',
                  f'<line x1="220" y1="{y}" x2="500" y2="{y}" '
                  f'stroke="{colour[direction]}" stroke-width="2"/>',
                  f'<text x="510" y="{y + 4}">{escape(pin)}</text>']
    base = 101 + 34 * (len(rows) + 1)
    for i, (name, gpio) in enumerate(ui):
        y = base + 70 * i
        parts += [f'<text x="30" y="{y + 4}">GPIO{gpio}</text>',
                  f'<line x1="220" y1="{y}" x2="500" y2="{y}" stroke="#f9ab00" stroke-width="2"/>',
                  f'<text x="510" y="{y + 4}">{escape(name)}</text>']
        lines = textwrap.wrap(UI_CIRCUIT.get(name, ""), 64)  # ≤ 64 chars fit at 11 px
        if len(lines) > 4:  # a part's row has room for four; a fifth would be cut off unseen
            raise ValueError(f"the {name} circuit needs {len(lines)} lines in the drawing; 4 fit")
        for k, line in enumerate(lines):
            parts.append(f'<text x="230" y="{y + 18 + 14 * k}" font-size="11">{escape(line)}</text>')
    foot = height - 10
    parts += [f'<text x="20" y="{foot - 14}" font-size="11">* RSTPDN only where the module brings it out'
              ' under that name (not RSTO); see the wiring tables.</text>',
              f'<text x="20" y="{foot}" font-size="11">3V3 and GND to the breadboard rails; C1 100 µF and'
              ' C2 100 nF across them at the PN532 VCC lead.</text>']
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
