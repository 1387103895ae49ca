"""``partycard bench``: tap-to-verdict against the physical bound, verification, firmware, link."""

from __future__ import annotations

import argparse
import json
from typing import Any


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
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the text report")
    p.add_argument("--quick", action="store_true", help="shorter timings and a coarser heap bisection")
    p.add_argument("--host-baud", type=int, default=921_600, metavar="BAUD",
                   help="host-link rate the model assumes, 8N1 (default 921600)")
    p.add_argument("--round-trip-ms", type=float, default=2.0, metavar="MS",
                   help="turnaround the model adds per host request (default 2.0: one USB frame each way)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print it; exit 0 (targets are reported, not enforced)."""
    from partycard.bench.report import text_report
    from partycard.bench.run import BenchConfig, run_bench
    from partycard.bench.tap import LinkAssumptions

    config = BenchConfig(
        port=args.port,
        quick=args.quick,
        assume=LinkAssumptions(host_baud=args.host_baud, round_trip_s=args.round_trip_ms / 1000),
    )
    report = run_bench(config)
    print(json.dumps(report) if args.json else text_report(report))
    return 0
