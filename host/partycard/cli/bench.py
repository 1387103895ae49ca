"""``partycard bench``: tap-to-verdict against the physical bound, verification, firmware, link."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from partycard.cli._argtypes import milliseconds, positive_int


def register(sub: Any) -> None:
    """Add the ``bench`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "bench",
        help="benchmark the chain: tap to verdict, verification, firmware cost, link overhead",
        description="Runs the whole chain on the simulated reader (or a real one with --port) and reports "
        "the modeled tap-to-verdict time beside its physical lower bound, verification throughput "
        "beside the raw cryptography, the firmware's peak heap and CPU per APDU, and the link's "
        "bytes per APDU. See docs/benchmarks.md for what each figure means.",
    )
    p.add_argument("--port", metavar="P", help="a real reader's serial port (default: the simulator)")
    p.add_argument("--baud", type=positive_int, default=115_200, metavar="BAUD",
                   help="with --port: the line rate to open it at (default 115200, a deployed reader's rate)")
    p.add_argument("--can", help="with --port: the CAN of the card on the reader (PACE)")
    p.add_argument("--trust", action="append", type=Path, default=[], metavar="PATH",
                   help="with --port: roots to verify the card against (repeatable); without, no verdict")
    p.add_argument("--crl", action="append", type=Path, default=[], metavar="PATH",
                   help="with --port: CRL file (repeatable)")
    p.add_argument("--denylist", type=Path, metavar="PATH", help="with --port: card status list")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the text report")
    p.add_argument("--quick", action="store_true", help="shorter timings and a coarser heap bisection")
    p.add_argument("--host-baud", type=positive_int, default=921_600, metavar="BAUD",
                   help="simulator only: the host-link rate the model assumes, 8N1 (default 921600); "
                   "the simulator's pty itself has no rate")
    p.add_argument("--round-trip-ms", type=milliseconds, default=2.0, metavar="MS",
                   help="turnaround the model adds per host request (default 2.0: one USB frame each way)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print it; exit 0 (targets are reported, not enforced)."""
    from partycard.bench.report import text_report
    from partycard.bench.run import BenchConfig, run_bench
    from partycard.bench.tap import LinkAssumptions

    port_only = [name for name, given in (("--can", args.can is not None), ("--trust", bool(args.trust)),
                                          ("--crl", bool(args.crl)), ("--denylist", args.denylist is not None))
                 if given]
    if args.port is None and port_only:
        # The simulator reads the card it issues itself, under its own CAN and PKI.
        print(f"partycard bench: {', '.join(port_only)} only with --port", file=sys.stderr)
        return 2
    if args.port is not None and args.can is None:
        # A guessed CAN would cost the card one of its PACE tries.
        print("partycard bench: --port needs --can, the CAN of the card on that reader", file=sys.stderr)
        return 2
    config = BenchConfig(
        port=args.port,
        quick=args.quick,
        assume=LinkAssumptions(host_baud=args.host_baud, round_trip_s=args.round_trip_ms / 1000),
        port_baud=args.baud,
        can=args.can,
        trust=tuple(args.trust),
        crls=tuple(args.crl),
        denylist=args.denylist,
    )
    report = run_bench(config)
    print(json.dumps(report) if args.json else text_report(report))
    return 0
