"""Benchmark, timing figures: a recording timing model, its replay at other rates, the physical bound.

The virtual PN532 feeds a :class:`~partycard.sim.timing.TimingModel`. :class:`RecordingTiming` is
that same model which also keeps every call it got (bytes on the HSU line, ISO-DEP exchanges,
activation frames, card processing time, rate changes), so that one tap can be

* replayed into a fresh ``TimingModel`` — the modeled time, by the simulator's own formulas, at
  the rates the reader negotiated or at other rates (:func:`replay`);
* reduced to its physical lower bound (:func:`physical_bound`): the payload bytes that must cross
  each medium at that medium's bit cost and rate, plus the card's processing time, and nothing
  else (no frame headers, checksums, ACKs, chaining blocks, frame delays or turnarounds).

Nothing here sleeps or reads a clock: every figure is a function of the recorded bytes and rates.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from partycard.sim.timing import FC_HZ, RATE_DIVISOR, TimingModel

#: The PN532's HSU rate after reset (UM0701-02 §6.3.2.1).
HSU_RESET_BAUD = 115_200
#: The fastest HSU rate SetSerialBaudRate offers (UM0701-02 §7.2.8, code 0x08).
HSU_MAX_BAUD = 1_288_000
#: The fastest ISO/IEC 14443-A rate InPSL offers (UM0701-02 §7.3.7: BR 0x00-0x02 = 106/212/424
#: kbit/s). ISO/IEC 14443 itself goes up to fc/16 = 848 kbit/s, which the PN532 does not do.
PN532_MAX_AIR_KBPS = 424
#: Bit periods one byte occupies: type A 8 data bits + odd parity (ISO/IEC 14443-3 §6.2.3), type B
#: start + 8 data + stop (ISO/IEC 14443-3 §7.1); a UART byte in 8N1 is 10 bit times.
AIR_BITS_PER_BYTE = {"A": 9, "B": 10}
UART_BITS_PER_BYTE = 10
#: PN532 command codes (UM0701-02 §7) the tap window treats specially.
CMD_DIAGNOSE = 0x00
CMD_IN_LIST_PASSIVE_TARGET = 0x4A


@dataclass(frozen=True)
class TimingEvent:
    """One call the timing model got. ``kind`` names the method; the other fields its arguments.

    ``begin`` events carry the model's state at that moment (baud, card kind, rate, FSC), so that
    a replay can start at any exchange.
    """

    kind: str
    command: int = 0
    nbytes: int = 0
    response: int = 0
    frames: tuple[int, ...] = ()
    seconds: float = 0.0
    card_kind: str = "A"
    ats: bytes | None = None
    rate_kbps: int = 106
    baud: int = HSU_RESET_BAUD
    fsc: int = 32


@dataclass
class RecordingTiming(TimingModel):
    """The simulator's timing model that also records every call, in order."""

    events: list[TimingEvent] = field(default_factory=list)
    _rec_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _record(self, event: TimingEvent) -> None:
        with self._rec_lock:
            self.events.append(event)

    def set_card(self, kind: str, ats: bytes | None) -> None:
        self._record(TimingEvent("set_card", card_kind=kind, ats=ats))
        super().set_card(kind, ats)

    def set_rate(self, rate_kbps: int) -> None:
        self._record(TimingEvent("set_rate", rate_kbps=rate_kbps))
        super().set_rate(rate_kbps)

    def set_baud(self, baud: int) -> None:
        self._record(TimingEvent("set_baud", baud=baud))
        super().set_baud(baud)

    def begin(self, command: int) -> None:
        self._record(TimingEvent("begin", command=command, card_kind=self.kind, rate_kbps=self.rate_kbps,
                                 baud=self.baud, fsc=self.fsc))
        super().begin(command)

    def link(self, nbytes: int) -> None:
        self._record(TimingEvent("link", nbytes=nbytes))
        super().link(nbytes)

    def air_exchange(self, command_len: int, response_len: int) -> None:
        self._record(TimingEvent("air_exchange", nbytes=command_len, response=response_len))
        super().air_exchange(command_len, response_len)

    def air_frames(self, *frame_lens: int) -> None:
        self._record(TimingEvent("air_frames", frames=tuple(frame_lens)))
        super().air_frames(*frame_lens)

    def card(self, seconds: float) -> None:
        self._record(TimingEvent("card", seconds=seconds))
        super().card(seconds)

    def mark(self) -> int:
        """The number of events so far: a window boundary for :func:`tap_window`."""
        with self._rec_lock:
            return len(self.events)

    def reset(self) -> None:
        with self._rec_lock:
            self.events.clear()
        super().reset()


@dataclass(frozen=True)
class Exchange:
    """The events of one PN532 command (from its ``begin`` to the next one)."""

    command: int
    events: tuple[TimingEvent, ...]

    @property
    def listed_a_card(self) -> bool:
        """An InListPassiveTarget that found a card (only then are activation frames on air)."""
        return self.command == CMD_IN_LIST_PASSIVE_TARGET and any(e.kind == "air_frames" for e in self.events)


def exchanges(events: list[TimingEvent]) -> list[Exchange]:
    """Group events by PN532 command; events before the first ``begin`` are dropped (wake bytes)."""
    out: list[Exchange] = []
    starts = [i for i, e in enumerate(events) if e.kind == "begin"]
    for n, i in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(events)
        out.append(Exchange(events[i].command, tuple(events[i:end])))
    return out


@dataclass(frozen=True)
class Window:
    """The exchanges that belong to one tap, and what was left out of it."""

    exchanges: tuple[Exchange, ...]
    presence_checks: int  #: Diagnose (presence) commands the idle poller interleaved; left out


def tap_window(events: list[TimingEvent]) -> Window:
    """The tap: from the InListPassiveTarget that activated the card to the last recorded command.

    Left out: empty polls before it, and the reader's idle presence checks (Diagnose) between host
    requests. Those run on the reader's wall clock, which under the simulator is this machine's
    speed, not the read's; on a board they are one short command each 250 ms of idle time.
    """
    groups = exchanges(events)
    start = max((i for i, g in enumerate(groups) if g.listed_a_card), default=0)
    kept = [g for g in groups[start:] if g.command != CMD_DIAGNOSE]
    presence = sum(1 for g in groups[start:] if g.command == CMD_DIAGNOSE)
    return Window(tuple(kept), presence)


@dataclass(frozen=True)
class Breakdown:
    """Modeled seconds of a window on the PN532 side, by where they go."""

    link_s: float
    air_s: float
    card_s: float
    link_bytes: int

    @property
    def total_s(self) -> float:
        return self.link_s + self.air_s + self.card_s


def replay(window: Window, *, baud: int | None = None, rate_kbps: int | None = None) -> Breakdown:
    """The simulator's modeled time for ``window``, by its own formulas.

    Without overrides this equals what the virtual PN532 accounted for those exchanges. ``baud``
    and ``rate_kbps`` force the HSU and air rates (a what-if: the same bytes at other rates).
    """
    if not window.exchanges:
        return Breakdown(0.0, 0.0, 0.0, 0)
    first = window.exchanges[0].events[0]
    model = TimingModel(baud=baud or first.baud, kind=first.card_kind, rate_kbps=first.rate_kbps, fsc=first.fsc)
    for ex in window.exchanges:
        for e in ex.events:
            if e.kind == "begin":
                model.begin(e.command)
            elif e.kind == "link":
                model.link(e.nbytes)
            elif e.kind == "air_exchange":
                model.air_exchange(e.nbytes, e.response)
            elif e.kind == "air_frames":
                model.air_frames(*e.frames)
            elif e.kind == "card":
                model.card(e.seconds)
            elif e.kind == "set_card":
                model.set_card(e.card_kind, e.ats)
            elif e.kind == "set_rate":
                model.set_rate(rate_kbps or e.rate_kbps)
            elif e.kind == "set_baud" and baud is None:
                model.set_baud(e.baud)
    ex_t = model.exchanges
    return Breakdown(
        sum(x.link_s for x in ex_t), sum(x.air_s for x in ex_t), sum(x.card_s for x in ex_t),
        sum(x.link_bytes for x in ex_t),
    )


@dataclass(frozen=True)
class Bound:
    """The physical lower bound of a window: payload at each medium's rate, plus card time."""

    air_s: float
    pn532_link_s: float
    host_link_s: float
    card_s: float
    apdus: int
    apdu_bytes: int  #: command + response bytes of every APDU (secure messaging included)

    @property
    def total_s(self) -> float:
        return self.air_s + self.pn532_link_s + self.host_link_s + self.card_s


def physical_bound(
    window: Window, *, host_baud: int, baud: int | None = None, rate_kbps: int | None = None
) -> Bound:
    """Every byte that must cross, at the rate in force when it crossed (or the forced rates).

    Counted: each APDU's command and response bytes once on air (8 data bits plus the parity or
    start/stop bits of the byte encoding), once on the PN532 serial line and once on the host link
    (10 bit times each); the activation and PPS frames on air; the card's processing time. Not
    counted (protocol slack): PN532 frame headers, checksums and ACKs, ISO-DEP prologue, CRC and
    chaining R-blocks, SOF/EOF, frame delay times, link framing and envelopes, turnarounds.
    """
    air = pn532 = host = card = 0.0
    apdus = apdu_bytes = 0
    if not window.exchanges:
        return Bound(0.0, 0.0, 0.0, 0.0, 0, 0)
    first = window.exchanges[0].events[0]
    kind, rate, line = first.card_kind, first.rate_kbps, baud or first.baud
    for ex in window.exchanges:
        for e in ex.events:
            bit_s = RATE_DIVISOR[rate] / FC_HZ
            if e.kind == "set_card":
                kind, rate = e.card_kind, 106
            elif e.kind == "set_rate":
                rate = rate_kbps or e.rate_kbps
            elif e.kind == "set_baud" and baud is None:
                line = e.baud
            elif e.kind == "air_frames":
                air += sum(e.frames) * AIR_BITS_PER_BYTE[kind] * bit_s
            elif e.kind == "air_exchange":
                n = e.nbytes + e.response
                apdus += 1
                apdu_bytes += n
                air += n * AIR_BITS_PER_BYTE[kind] * bit_s
                pn532 += n * UART_BITS_PER_BYTE / line
                host += n * UART_BITS_PER_BYTE / host_baud
            elif e.kind == "card":
                card += e.seconds
    return Bound(air, pn532, host, card, apdus, apdu_bytes)


def card_times(window: Window) -> list[float]:
    """The card's processing time of each APDU in the window, in order."""
    return [e.seconds for ex in window.exchanges for e in ex.events if e.kind == "card"]


def rates_in_force(window: Window) -> tuple[int, int]:
    """(HSU baud, air kbit/s) at the end of the window: what the reader negotiated for this card."""
    baud, rate = HSU_RESET_BAUD, 106
    for ex in window.exchanges:
        for e in ex.events:
            if e.kind == "begin":
                baud, rate = e.baud, e.rate_kbps
            elif e.kind == "set_rate":
                rate = e.rate_kbps
            elif e.kind == "set_baud":
                baud = e.baud
            elif e.kind == "set_card":
                rate = 106
    return baud, rate
