"""``partycard demo``: the whole chain on the simulator with cards whose verdicts are known."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the ``demo`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="issue demo cards and tap them on the simulated reader (no hardware needed)",
        description="Creates a demo PKI and cards, starts the simulated reader (the real firmware on "
        "MicroPython with a virtual PN532), a local receiver and an outbox, taps every card, prints "
        "each verdict and a summary. Exit 0 only when every card got its expected verdict and every "
        "result reached the receiver.",
    )
    p.add_argument(
        "--runtime",
        choices=("micropython", "cpython"),
        default="micropython",
        help="where the firmware runs: the MicroPython unix port (as on the reader) or CPython",
    )
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep the PKI, cards, outbox and receiver DB here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the scripted taps."""
    from partycard.demo import run_demo

    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    return run_demo(runtime=args.runtime, workdir=args.keep)
