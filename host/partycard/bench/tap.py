"""Benchmark, tap to verdict: one tap through the whole chain, with its modeled time and its bound.

A tap is: the card enters the field, ``card.wait`` activates it (and the reader negotiates the air
rate), ``read_document`` opens it with PACE, reads the files, runs CA and AA, and the host verifies.
The modeled time of a tap is

* the virtual PN532's timing model over the tap's PN532 commands (HSU bytes at the negotiated baud,
  air time at the negotiated rate with ISO-DEP framing, chaining and frame delays, card time);
* plus the bytes that really crossed the host link, at the assumed host-link rate;
* plus one assumed turnaround per host round trip (stop and wait, SPEC.md §6): batches save them.

Host verification CPU is measured on this machine and kept apart, so the modeled figure does not
depend on this machine's speed. The bound is :func:`partycard.bench.model.physical_bound`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from partycard.bench.cards import CAN, BenchCard
from partycard.bench.counting import CountingChannel, CountingTransport, LinkCount
from partycard.bench.model import (
    HSU_MAX_BAUD,
    UART_BITS_PER_BYTE,
    Bound,
    Breakdown,
    RecordingTiming,
    Window,
    card_times,
    physical_bound,
    rates_in_force,
    replay,
    tap_window,
)
from partycard.card.reader import DocumentRead, read_document
from partycard.link.client import ReaderClient
from partycard.sim.card import VirtualCard
from partycard.sim.pn532 import VirtualPN532

#: Command names by INS (ISO/IEC 7816-4 §5.4; ICAO 9303-11 for the authentication commands).
INS_NAMES = {
    0xA4: "SELECT", 0xB0: "READ BINARY", 0xB1: "READ BINARY", 0x22: "MSE", 0x86: "GENERAL AUTHENTICATE",
    0x88: "INTERNAL AUTHENTICATE", 0x84: "GET CHALLENGE", 0x82: "EXTERNAL AUTHENTICATE",
}


@dataclass(frozen=True)
class LinkAssumptions:
    """What the model assumes about the host link, which the simulator's pty does not have.

    ``host_baud``: the ESP32-DevKitC's USB-UART bridge at the fastest ``link_baud`` the firmware
    accepts (921600, firmware/lib/reader/config_rules.py), 8N1. ``round_trip_s``: per host request,
    one 1 ms USB full-speed frame each way before the bridge's data is polled.
    """

    host_baud: int = 921_600
    round_trip_s: float = 0.002


@dataclass(frozen=True)
class Modeled:
    """A tap's modeled seconds and their parts."""

    pn532: Breakdown
    host_link_s: float
    round_trip_s: float

    @property
    def total_s(self) -> float:
        return self.pn532.total_s + self.host_link_s + self.round_trip_s


@dataclass(frozen=True)
class TapResult:
    """One tap case: modeled time and bound at the negotiated rates, and at the fastest ones."""

    label: str
    files: tuple[str, ...]
    modeled: Modeled
    bound: Bound
    fastest_modeled: Modeled
    fastest_bound: Bound
    pn532_baud: int
    air_kbps: int
    host_link: LinkCount
    apdus: int
    presence_checks: int
    verify_cpu_s: float
    wall_s: float
    verdict: str
    file_bytes: dict[str, int] = field(default_factory=dict)
    #: Card processing seconds and command count by command (where the card time goes).
    card_by_command: dict[str, tuple[int, float]] = field(default_factory=dict)
    cut_batches: int = 0

    @property
    def ratio(self) -> float:
        return self.modeled.total_s / self.bound.total_s

    def to_json(self) -> dict[str, Any]:
        m, b = self.modeled, self.bound
        fm, fb = self.fastest_modeled, self.fastest_bound
        return {
            "modeled_s": round(m.total_s, 4),
            "bound_s": round(b.total_s, 4),
            "ratio": round(m.total_s / b.total_s, 3),
            "rates": {"pn532_hsu_baud": self.pn532_baud, "air_kbps": self.air_kbps},
            "modeled_parts_s": {
                "pn532_hsu": round(m.pn532.link_s, 4),
                "air": round(m.pn532.air_s, 4),
                "card": round(m.pn532.card_s, 4),
                "host_link": round(m.host_link_s, 4),
                "round_trips": round(m.round_trip_s, 4),
            },
            "bound_parts_s": {
                "pn532_hsu": round(b.pn532_link_s, 4),
                "air": round(b.air_s, 4),
                "card": round(b.card_s, 4),
                "host_link": round(b.host_link_s, 4),
            },
            "at_fastest_hsu": {
                "pn532_hsu_baud": HSU_MAX_BAUD,
                "modeled_s": round(fm.total_s, 4),
                "bound_s": round(fb.total_s, 4),
                "ratio": round(fm.total_s / fb.total_s, 3),
            },
            "apdus": self.apdus,
            "apdu_bytes": b.apdu_bytes,
            "file_bytes": self.file_bytes,
            "host_round_trips": self.host_link.writes,
            "batches_cut_by_reader": self.cut_batches,
            "host_link_bytes": self.host_link.total,
            "pn532_hsu_bytes": m.pn532.link_bytes,
            "card_s_by_command": {k: {"count": n, "s": round(t, 4)} for k, (n, t) in self.card_by_command.items()},
            "presence_checks_left_out": self.presence_checks,
            "verify_cpu_s_measured": round(self.verify_cpu_s, 4),
            "wall_s_simulator": round(self.wall_s, 3),
            "verdict": self.verdict,
        }


def _modeled(window: Window, link: LinkCount, assume: LinkAssumptions, baud: int | None) -> Modeled:
    return Modeled(
        replay(window, baud=baud),
        link.total * UART_BITS_PER_BYTE / assume.host_baud,
        link.writes * assume.round_trip_s,
    )


def read_once(
    client: ReaderClient, files: tuple[str, ...], can: str = CAN
) -> tuple[DocumentRead, bytes, CountingChannel]:
    """``card.wait`` then the read, as the kiosk does it; returns the read and its AA challenge."""
    client.wait_card(5.0)
    channel = CountingChannel(client)
    nonce = secrets.token_bytes(8)
    return read_document(channel, can=can, files=list(files), aa_challenge=nonce), nonce, channel


@dataclass(frozen=True)
class SimRig:
    """The simulated reader as the bench holds it: its client, counted link, PN532 and timing."""

    client: ReaderClient
    transport: CountingTransport
    pn532: VirtualPN532
    timing: RecordingTiming


def run_tap(
    label: str, files: tuple[str, ...], card: BenchCard, rig: SimRig, assume: LinkAssumptions
) -> tuple[TapResult, DocumentRead, bytes]:
    """One tap on the simulated reader: insert, read, verify, release, remove. Returns the figures,
    the read and its AA challenge."""
    client, transport, pn532, timing = rig.client, rig.transport, rig.pn532, rig.timing
    timing.reset()
    before = transport.snapshot()
    started = time.perf_counter()
    pn532.insert(VirtualCard(card.image))
    read, nonce, channel = read_once(client, files)
    end = timing.mark()
    link = transport.snapshot() - before
    cpu = time.process_time()
    verdict, _summary = card.verifier(read, nonce)
    verify_cpu = time.process_time() - cpu
    wall = time.perf_counter() - started
    client.release()
    pn532.remove()
    window = tap_window(timing.events[:end])
    baud, rate = rates_in_force(window)
    modeled = _modeled(window, link, assume, None)
    bound = physical_bound(window, host_baud=assume.host_baud)
    if bound.apdus != channel.count.apdus:
        # Card times are paired with commands by position: a mismatch would misattribute them.
        raise RuntimeError(f"the timing model saw {bound.apdus} APDUs, the host sent {channel.count.apdus}")
    by_command: dict[str, tuple[int, float]] = {}
    for ins, seconds in zip(channel.count.ins, card_times(window), strict=True):
        name = INS_NAMES.get(ins, f"INS {ins:02X}")
        n, t = by_command.get(name, (0, 0.0))
        by_command[name] = (n + 1, t + seconds)
    result = TapResult(
        label=label,
        files=files,
        modeled=modeled,
        bound=bound,
        fastest_modeled=_modeled(window, link, assume, HSU_MAX_BAUD),
        fastest_bound=physical_bound(window, host_baud=assume.host_baud, baud=HSU_MAX_BAUD),
        pn532_baud=baud,
        air_kbps=rate,
        host_link=link,
        apdus=bound.apdus,
        presence_checks=window.presence_checks,
        verify_cpu_s=verify_cpu,
        wall_s=wall,
        verdict=str(verdict["verdict"]),
        file_bytes={k: len(v) for k, v in sorted(read.files.items())},
        card_by_command=dict(sorted(by_command.items(), key=lambda kv: -kv[1][1])),
        cut_batches=channel.count.cut_batches,
    )
    return result, read, nonce


@dataclass(frozen=True)
class PortTap:
    """A tap on a real reader: wall-clock figures only (a real PN532 reports no timing)."""

    label: str
    wall_s: float
    verify_cpu_s: float
    apdus: int
    apdu_bytes: int
    host_link: LinkCount
    verdict: str | None  #: None: no roots were given, so the card was read but not verified

    def to_json(self) -> dict[str, Any]:
        return {
            "modeled_s": None,
            "bound_s": None,
            "ratio": None,
            "measured_s": round(self.wall_s, 4),
            "apdus": self.apdus,
            "apdu_bytes": self.apdu_bytes,
            "host_round_trips": self.host_link.writes,
            "host_link_bytes": self.host_link.total,
            "verify_cpu_s_measured": round(self.verify_cpu_s, 4),
            "verdict": self.verdict,
        }
