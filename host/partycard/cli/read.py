"""``partycard read``: read one card through a reader, print it, optionally dump and verify it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from partycard.cli._argtypes import aa_challenge, seconds
from partycard.cli.watch import parse_mrz


def register(sub: Any) -> None:
    """Add the ``read`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "read",
        help="read one card and print its data",
        description="Waits for a card on the reader, opens it (PACE with the CAN, or BAC/PACE with the MRZ), "
        "reads every file whole, runs Active and Chip Authentication, and prints the member data. "
        "With --dump it writes the raw files for `partycard verify`; with --trust it verifies too.",
    )
    p.add_argument("--port", required=True, help="reader port (/dev/ttyUSB0, or the pty `partycard sim` printed)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--can", help="the 6-digit CAN printed on the card (PACE)")
    group.add_argument("--mrz", metavar="DOC,YYMMDD,YYMMDD", help="MRZ key: document number, birth, expiry")
    p.add_argument("--wait", type=seconds, default=10.0, metavar="S",
                   help="how long to wait for a card, in seconds (default 10)")
    p.add_argument("--dump", type=Path, metavar="DIR", help="write the raw files (and aa.json) to DIR")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--trust", action="append", type=Path, metavar="PATH",
                   help="also verify against these roots (as `partycard verify`); exit 0/1/3 by verdict")
    p.add_argument("--challenge", type=aa_challenge, metavar="HEX",
                   help="the 8-byte AA challenge to send (16 hex digits; default: random), e.g. one a backend "
                   "issued, which `partycard verify --challenge` then checks the dump against")
    p.add_argument("--crl", action="append", type=Path, default=[], metavar="PATH",
                   help="with --trust: CRL file (repeatable)")
    p.add_argument("--denylist", type=Path, metavar="PATH",
                   help="with --trust: card status list (docs/denylist-format.md)")
    p.set_defaults(func=run)


def write_dump(directory: Path, files: dict[str, bytes], aa: Any, ca: Any) -> None:
    """Raw files as NAME.bin, aa.json when Active Authentication ran and ca.json when Chip
    Authentication was attempted (the input format of ``partycard verify``)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / f"{name}.bin").write_bytes(data)
    if aa is not None:
        text = json.dumps({"challenge": aa.challenge.hex(), "signature": aa.signature.hex()}, indent=2)
        (directory / "aa.json").write_text(text + "\n", encoding="utf-8")
    if ca is not None and (ca.ran or ca.failed):
        (directory / "ca.json").write_text(json.dumps({"ran": bool(ca.ran)}) + "\n", encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    """Wait for a card, read it whole, print, dump, verify."""
    from partycard.card.reader import read_document
    from partycard.kiosk.compose import DocumentVerifier, member_summary
    from partycard.kiosk.panel import shown
    from partycard.link.client import open_reader

    nonce = args.challenge if args.challenge is not None else os.urandom(8)
    with open_reader(args.port) as reader:
        card = reader.wait_card(args.wait)
        read = read_document(
            reader, can=args.can, mrz=parse_mrz(args.mrz) if args.mrz else None, aa_challenge=nonce
        )
        reader.release()
    if args.dump:
        write_dump(args.dump, read.files, read.aa, read.ca)
    summary = member_summary(read.files)
    out: dict[str, Any] = {
        "card": {"type": card.type, "uid": card.uid.hex()},
        "access_control": read.access_control,
        "access_reason": read.access_reason,
        "files": {name: len(data) for name, data in sorted(read.files.items())},
        "member": summary,
        "active_authentication": read.aa is not None,
        "chip_authentication": None if read.ca is None else {"ran": read.ca.ran, "error": read.ca.error},
    }
    code = 0
    if args.trust:
        verdict, _ = DocumentVerifier.from_paths(args.trust, args.crl, args.denylist)(read, nonce)
        out["verdict"] = verdict
        code = {"valid": 0, "invalid": 1, "incomplete": 3}[verdict["verdict"]]
    if args.json:
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return code
    print(f"card {card.type} uid {card.uid.hex()} · {read.access_control} ({read.access_reason})")
    for label, value in summary.items():
        print(f"  {label:<14} {shown(value)}")  # what the chip says, never acted on by the terminal
    print("  files          " + ", ".join(f"{n} ({size} B)" for n, size in out["files"].items()))
    if "verdict" in out:
        from partycard.kiosk.panel import render_verdict

        print(render_verdict(out["verdict"], access=read.access_control))
    return code
