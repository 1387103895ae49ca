"""``partycard config``: show or change a reader's stored settings (``config.get`` / ``config.set``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from partycard.errors import ConfigError


def register(sub: Any) -> None:
    """Add the ``config`` sub-command."""
    p = sub.add_parser(
        "config",
        help="show or change a reader's stored settings (serial, rates, LED/buzzer patterns)",
        description="Without --set: print the reader's stored settings as JSON. With --set: store "
        "the given keys (firmware/README.md, Configuration, lists them; null removes a key) and "
        "print the result. Rates and the link take effect at the next start: add --reboot.",
    )
    p.add_argument("--port", required=True, help="reader port (/dev/ttyUSB0, or the pty `partycard sim` printed)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="assignments",
                   help="a setting to store; VALUE is JSON when it parses as JSON, else text (repeatable)")
    p.add_argument("--reboot", action="store_true", help="restart the reader afterwards")
    p.set_defaults(func=run)


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["pn532_baud=1288000", "serial=K-7"]`` → ``{"pn532_baud": 1288000, "serial": "K-7"}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        if key in _TEXT_KEYS and text != "null":
            out[key] = text  # serial=12345 is the text "12345", not a number the reader refuses
            continue
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text
    return out


#: Settings whose values are always text (firmware/README.md, Configuration).
_TEXT_KEYS = frozenset({"serial", "board", "link"})


def run(args: argparse.Namespace) -> int:
    from partycard.link.client import open_reader
    from partycard.link.codes import Op

    changes = parse_assignments(args.assignments)
    with open_reader(args.port, timeout_s=5.0) as reader:
        if changes:
            stored = reader.request(Op.CONFIG_SET, {"config": changes})
        else:
            stored = reader.request(Op.CONFIG_GET, {})
        print(json.dumps(stored.get("config", {}), indent=2, sort_keys=True))
        if args.reboot:
            reader.request(Op.REBOOT, {})
            print("reader restarting")
    return 0
