"""Generate the host and firmware constant modules from protocol/codes.toml.

Usage: python protocol/tools/gen_codes.py [--out-dir DIR]

Writes host/partycard/link/codes.py and firmware/lib/reader/link/codes.py (or the same
relative paths under DIR, which the drift test uses to compare against the committed files).
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HOST_OUT = Path("host/partycard/link/codes.py")
FW_OUT = Path("firmware/lib/reader/link/codes.py")
HEADER = "# GENERATED from protocol/codes.toml by protocol/tools/gen_codes.py - do not edit.\n"


def _host(codes: dict[str, Any]) -> str:
    lines = [
        HEADER,
        '"""Numbers of the reader link (protocol/SPEC.md). Pure data."""',
        "",
        "from __future__ import annotations",
        "",
        "from enum import IntEnum",
        "from typing import Final",
        "",
        f"PROTOCOL_VERSION: Final = {codes['protocol']['version']}",
        "",
    ]
    for name, value in codes["limit"].items():
        lines.append(f"{name}: Final = {value}")
    for cls, table, doc in (
        ("MessageType", "message_type", "Envelope key 1 (SPEC.md §3)."),
        ("EnvelopeKey", "envelope_key", "Integer keys of the envelope map (SPEC.md §3)."),
        ("ErrorCode", "error", "Reader error codes by range (SPEC.md §5)."),
    ):
        lines += ["", "", f"class {cls}(IntEnum):", f'    """{doc}"""', ""]
        fmt = "    {k} = 0x{v:02X}" if table == "error" else "    {k} = {v}"
        lines += [fmt.format(k=k, v=v) for k, v in codes[table].items()]
    lines += ["", "", "class Op:", '    """Operation and event names on the wire (SPEC.md §4)."""', ""]
    lines += [f'    {k}: Final = "{v}"' for k, v in codes["op"].items()]
    return "\n".join(lines) + "\n"


def _firmware(codes: dict[str, Any]) -> str:
    lines = [
        HEADER,
        '"""Numbers of the reader link (protocol/SPEC.md). Pure data, no imports but const."""',
        "",
        "from micropython import const",
        "",
        f"PROTOCOL_VERSION = const({codes['protocol']['version']})",
    ]
    for table in ("message_type", "envelope_key"):
        prefix = "T_" if table == "message_type" else "K_"
        lines += [f"{prefix}{k} = const({v})" for k, v in codes[table].items()]
    lines += [f"{k} = const({v})" for k, v in codes["limit"].items()]
    lines += [f"{k} = const(0x{v:02X})" for k, v in codes["error"].items()]
    lines += [f'OP_{k} = "{v}"' for k, v in codes["op"].items()]
    return "\n".join(lines) + "\n"


def generate(out_dir: Path) -> list[Path]:
    """Write both generated modules below out_dir and return their paths."""
    codes = tomllib.loads((ROOT / "protocol" / "codes.toml").read_text(encoding="utf-8"))
    written = []
    for rel, text in ((HOST_OUT, _host(codes)), (FW_OUT, _firmware(codes))):
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, default=ROOT)
    args = parser.parse_args()
    for path in generate(args.out_dir):
        print(path)


if __name__ == "__main__":
    main()
