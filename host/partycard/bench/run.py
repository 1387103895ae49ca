"""Benchmark, the run: every figure of ``partycard bench`` in one report, and the targets.

On the simulator (the default) one simulated reader serves both taps, the CPU timing and the link
overhead; the heap bisection starts its own readers. With a port, the same steps run against a real
reader where they can (wall-clock tap times, live heap from ``diag``, link overhead); what only
the simulator can know (modeled time, bound, heap bisection, firmware CPU) is null.
"""

from __future__ import annotations

import contextlib
import gc
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from partycard.bench import firmware, linkcost, verifycost
from partycard.bench.cards import CAN, PHOTO_FILES, RECORD_FILES, BenchCard, make_card
from partycard.bench.counting import CountingChannel, CountingTransport
from partycard.bench.model import HSU_MAX_BAUD, HSU_RESET_BAUD, PN532_MAX_AIR_KBPS, RecordingTiming
from partycard.bench.tap import LinkAssumptions, PortTap, SimRig, read_once, run_tap
from partycard.card.channel import DirectChannel
from partycard.card.reader import DocumentRead, read_document
from partycard.kiosk.compose import DocumentVerifier
from partycard.link.client import ReaderClient
from partycard.sim.card import VirtualCard
from partycard.sim.pn532 import VirtualPN532
from partycard.sim.runner import DEFAULT_HEAP, SimulatedReader
from partycard.transport.serial import SerialTransport

HEAP_TARGET = 48 * 1024
TARGETS = {
    "tap_ratio_max": 1.10,
    "with_photo_modeled_s_max": 1.5,
    "verify_ratio_min": 0.5,
    "heap_bytes_max": HEAP_TARGET,
    #: A full read with the firmware's bytecode in ROM, on the unix port at -X heapsize=64k.
    "heap_rom_bytes_max": 64 * 1024,
    "link_batched_overhead_max": 4.0,
}


@dataclass(frozen=True)
class BenchConfig:
    port: str | None = None
    quick: bool = False
    assume: LinkAssumptions = field(default_factory=LinkAssumptions)
    heap_kib: tuple[int, int] = (32, 256)  #: bisection range for the peak heap
    #: With a port: its line rate, the CAN of the card on it, and what to verify that card against
    #: (no roots: the taps are timed without a verdict).
    port_baud: int = 115_200
    can: str | None = None
    trust: tuple[Path, ...] = ()
    crls: tuple[Path, ...] = ()
    denylist: Path | None = None


def _air_rates_offered(ats: bytes) -> list[int]:
    """Rates (kbit/s) the ATS offers in both directions: TA(1) b1-b3 PICC→PCD and b5-b7 PCD→PICC
    for 212/424/848 (ISO/IEC 14443-4 §5.2.4); 106 always."""
    if len(ats) < 3 or not ats[1] & 0x10:
        return [106]
    ta = ats[2]
    return [106] + [r for bit, r in ((0, 212), (1, 424), (2, 848)) if ta >> bit & 1 and ta >> (bit + 4) & 1]


def _targets(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tap = report["tap_to_verdict"]
    ver = report["verify"]
    fw = report["firmware"]
    link = report["link"]

    def check(value: float | None, limit: float, below: bool = True) -> dict[str, Any]:
        met = None if value is None else (value <= limit if below else value >= limit)
        return {"value": value, "target": limit, "met": met}

    rom = {}
    if report["mode"] == "simulator":
        rom["heap_rom_unix_port_bytes"] = check(fw.get("heap_peak_rom_bytes"), TARGETS["heap_rom_bytes_max"])
    return {
        "record_ratio": check(tap["record"]["ratio"], TARGETS["tap_ratio_max"]),
        "with_photo_ratio": check(tap["with_photo"]["ratio"], TARGETS["tap_ratio_max"]),
        "with_photo_modeled_s": check(tap["with_photo"]["modeled_s"], TARGETS["with_photo_modeled_s_max"]),
        "verify_ratio": check(ver["ratio"], TARGETS["verify_ratio_min"], below=False),
        ("heap_unix_port_bytes" if report["mode"] == "simulator" else "heap_reader_live_bytes"): check(
            fw["heap_peak_bytes"], TARGETS["heap_bytes_max"]
        ),
        **rom,
        "heap_esp32_estimate_bytes": check(fw.get("esp32_estimate_bytes"), TARGETS["heap_bytes_max"]),
        "link_overhead_batched": check(link["overhead_bytes_batched"], TARGETS["link_batched_overhead_max"]),
    }


def run_bench(config: BenchConfig, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run every measurement; the report as a JSON-ready dict (the keys of ``partycard bench --json``)."""
    say = log or (lambda text: print(text, file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="partycard-bench-") as tmp:
        say("bench: issuing a test PKI and a card with a 15 KiB face image")
        card = make_card(Path(tmp))
        if config.port is not None:
            report = _run_port(config, card, say)
        else:
            report = _run_sim(config, card, say)
    report["targets"] = _targets(report)
    return report


def _run_sim(config: BenchConfig, card: BenchCard, say: Callable[[str], None]) -> dict[str, Any]:
    timing = RecordingTiming()
    pn532 = VirtualPN532(timing=timing)
    # The virtual PN532 answers from a thread of this process. A full garbage collection of a
    # large heap (a test session's) holds the GIL for 100 ms and more, longer than the firmware
    # waits for the PN532's ACK (15 ms, three tries): freezing what exists now keeps those
    # collections short while the simulated reader runs.
    gc.collect()
    gc.freeze()
    try:
        return _sim_session(config, card, say, pn532, timing)
    finally:
        gc.unfreeze()


def _sim_session(
    config: BenchConfig, card: BenchCard, say: Callable[[str], None], pn532: VirtualPN532, timing: RecordingTiming
) -> dict[str, Any]:
    assume = config.assume
    with SimulatedReader(runtime="micropython", pn532=pn532, heap=DEFAULT_HEAP) as sim:
        on_micropython = sim.runtime == "micropython"
        if not on_micropython:
            say("bench: the MicroPython unix port is missing: no firmware heap or CPU figures")
        transport = CountingTransport(SerialTransport(sim.port))
        client = ReaderClient(transport)
        with contextlib.closing(client):
            client.connect(10.0)
            pids = firmware.firmware_pids()
            cpu0, apdus0 = firmware.cpu_ns(pids), pn532.stats.apdus
            say("bench: tap 1, PACE + member record + EF.SOD + AA")
            rig = SimRig(client, transport, pn532, timing)
            record, _, _ = run_tap("record", RECORD_FILES, card, rig, assume)
            say("bench: tap 2, the same + the 15 KiB face image")
            photo, read, nonce = run_tap("with_photo", PHOTO_FILES, card, rig, assume)
            for _ in range(0 if config.quick else 3):  # more APDUs for a steadier CPU figure
                pn532.insert(VirtualCard(card.image))
                read_once(client, PHOTO_FILES)
                client.release()
                pn532.remove()
            apdus = pn532.stats.apdus - apdus0
            cpu_us = (firmware.cpu_ns(pids) - cpu0) / 1000 / apdus if pids and apdus else None
            live = client.request("diag", {}).get("heap_used")
            say("bench: link overhead, single and batched APDUs")
            pn532.insert(VirtualCard(card.image))
            client.wait_card(5.0)
            overhead = linkcost.measure(client, transport)
            client.release()
            pn532.remove()
    say("bench: verification throughput against the raw cryptography")
    ver = verifycost.measure(read, nonce, card, 0.3 if config.quick else 1.5)
    step = 8 if config.quick else 1
    peak_kib = rom_kib = None
    if on_micropython:
        say("bench: firmware heap, bisection on the heap cap")
        lo, hi = config.heap_kib
        peak_kib = firmware.min_heap_kib(card, lo, hi, step, say)
        say("bench: firmware heap with the bytecode in ROM, bisection on the heap cap")
        rom_kib = firmware.min_heap_kib(card, lo, hi, step, say, rom=True)
    fw = firmware.FirmwareCost(
        heap_peak_bytes=None if peak_kib is None else peak_kib * 1024,
        heap_step_bytes=step * 1024,
        heap_peak_rom_bytes=None if rom_kib is None else rom_kib * 1024,
        bytecode_bytes=firmware.bytecode_heap_bytes() if on_micropython else None,
        live_after_read_bytes=live if isinstance(live, int) and on_micropython else None,
        cpu_us_per_apdu=cpu_us,
        apdus_timed=apdus,
    )
    return {
        "mode": "simulator",
        "quick": config.quick,
        "tap_to_verdict": {
            "record": record.to_json(),
            "with_photo": photo.to_json(),
            "rates": {
                "pn532_hsu_baud": photo.pn532_baud,
                "pn532_hsu_baud_max": HSU_MAX_BAUD,
                "pn532_hsu_negotiated": photo.pn532_baud != HSU_RESET_BAUD,
                "air_kbps": photo.air_kbps,
                "air_kbps_pn532_max": PN532_MAX_AIR_KBPS,
                "air_kbps_card_offers": _air_rates_offered(card.image.ats),
                "host_link_baud_assumed": assume.host_baud,
                "round_trip_s_assumed": assume.round_trip_s,
            },
        },
        "verify": ver.to_json(),
        "firmware": fw.to_json(),
        "link": overhead.to_json(),
    }


def _run_port(config: BenchConfig, card: BenchCard, say: Callable[[str], None]) -> dict[str, Any]:
    """A real reader: tap figures by the wall clock, for the card on it (``config.can``), verified
    against ``config.trust`` when roots are given."""
    if config.port is None or config.can is None:
        raise ValueError("a port bench needs the port and the CAN of the card on it")
    transport = CountingTransport(SerialTransport(config.port, baudrate=config.port_baud))
    client = ReaderClient(transport)
    verifier = DocumentVerifier.from_paths(config.trust, config.crls, config.denylist) if config.trust else None
    taps: dict[str, Any] = {}
    with contextlib.closing(client):
        client.connect(5.0)
        say("bench: put the card on the reader and leave it there for both taps")
        for label, files in (("record", RECORD_FILES), ("with_photo", PHOTO_FILES)):
            say(f"bench: {label}")
            before = transport.snapshot()
            start = time.perf_counter()
            read, nonce, channel = read_once_counted(client, files, config.can)
            cpu = time.process_time()
            verdict = None if verifier is None else str(verifier(read, nonce)[0]["verdict"])
            verify_cpu = time.process_time() - cpu
            wall = time.perf_counter() - start
            count = channel.count
            taps[label] = PortTap(label, wall, verify_cpu, count.apdus, count.payload,
                                  transport.snapshot() - before, verdict).to_json()
            client.release()
        diag = client.request("diag", {})
        client.wait_card(30.0)
        overhead = linkcost.measure(client, transport)
        client.release()
    # Verification is host work: measured on the bench card read straight from a virtual card, so
    # that it does not depend on which card was on the real reader or whether this host trusts it.
    virtual = VirtualCard(card.image)
    virtual.activate()
    nonce = secrets.token_bytes(8)
    sim_read = read_document(DirectChannel(virtual), can=CAN, files=list(PHOTO_FILES), aa_challenge=nonce)
    ver = verifycost.measure(sim_read, nonce, card, 0.3 if config.quick else 1.5)
    heap = diag.get("heap_used")
    return {
        "mode": "port",
        "quick": config.quick,
        "tap_to_verdict": taps,
        "verify": ver.to_json(),
        "firmware": {"heap_peak_bytes": heap if isinstance(heap, int) else None, "cpu_us_per_apdu": None,
                     "heap_peak_method": "diag heap_used after a read (live heap, not the peak)"},
        "link": overhead.to_json(),
    }


def read_once_counted(
    client: ReaderClient, files: tuple[str, ...], can: str
) -> tuple[DocumentRead, bytes, CountingChannel]:
    """``read_once`` with a longer wait for a person to put the card down."""
    client.wait_card(30.0)
    return read_once(client, files, can)
