"""CLI shell, ``partycard sim``: run the simulated reader until interrupted. No logic of its own.

The first line on stdout is ``reader: <pty path>``, flushed at once, so that scripts and other
programs can read the port to open from it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from partycard.cli._argtypes import heap_size, reader_serial
from partycard.errors import PartycardError
from partycard.issue.image import CardImage
from partycard.sim.card import VirtualCard
from partycard.sim.pn532 import VirtualPN532
from partycard.sim.runner import DEFAULT_HEAP, SimulatedReader


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``sim`` to the ``partycard`` command."""
    parser = subparsers.add_parser(
        "sim",
        help="run the reader firmware on a pseudo-terminal, as a USB reader would appear",
        description="Run the unmodified reader firmware on a pseudo-terminal until SIGINT or SIGTERM.",
    )
    parser.add_argument(
        "--runtime",
        choices=("micropython", "cpython"),
        default="micropython",
        help="where the firmware runs: the MicroPython unix port (as on the reader) or CPython",
    )
    parser.add_argument("--serial", type=reader_serial, default="SIM-0001",
                        help="serial number the reader reports (printable ASCII, no spaces)")
    parser.add_argument("--card", default=None, help="card image (from `partycard issue`) to place on the reader")
    parser.add_argument("--no-frontend", action="store_true", help="run without the virtual PN532")
    parser.add_argument(
        "--heap",
        type=heap_size,
        default=DEFAULT_HEAP,
        help=f"MicroPython heap size (default {DEFAULT_HEAP}: an ESP32's 64 KiB, for the 64-bit unix port's "
        "twice as large words)",
    )
    parser.add_argument(
        "--rom",
        action="store_true",
        help="keep the firmware's bytecode outside the heap, in a ROM filesystem, as a board keeps it in flash",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the simulator, print its port, wait for a signal, clean up."""
    pn532 = None
    if not args.no_frontend:
        pn532 = VirtualPN532()
        if args.card is not None:
            try:
                image = CardImage.load(args.card)
            except (PartycardError, OSError) as exc:
                print(f"partycard sim: --card {args.card}: {exc}", file=sys.stderr)
                return 2
            pn532.insert(VirtualCard(image))
    elif args.card is not None:
        print("partycard sim: --card needs the virtual front-end (drop --no-frontend)", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        sim = SimulatedReader(
            runtime=args.runtime, pn532=pn532, serial=args.serial, heap=args.heap, auto_restart=True,
            rom=args.rom,
        )
        with sim:
            print(f"reader: {sim.port}", flush=True)
            print(f"firmware log: {sim.log_file} ({sim.runtime})", file=sys.stderr, flush=True)
            while not stop.wait(0.2):
                if sim.failed:
                    print("partycard sim: the firmware keeps failing at start-up:", file=sys.stderr)
                    print(sim.last_output or sim.read_log(), file=sys.stderr)
                    return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
