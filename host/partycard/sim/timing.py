"""Simulator layer: a timing model for the virtual PN532. Counts bytes; never sleeps or does I/O.

Model (all times in seconds, deterministic, independent of this machine's speed):

* **PN532 link (HSU)**: every byte costs 10 bit times (8N1: start, 8 data, stop) at the current
  baud rate (115200 after reset, UM0701-02 §6.3.2.1; changed by SetSerialBaudRate). Frames in
  both directions count, ACK/NACK included.
* **Air (ISO/IEC 14443)**: one ISO-DEP block = prologue + INF + 2-byte CRC (ISO 14443-4 §7.1,
  prologue = PCB, plus CID when used). A long INF is chained (ISO 14443-4 §7.5.2): card-bound
  blocks carry at most FSC-3 INF bytes (FSC from the ATS FSCI, ISO 14443-4 §5.2.3), reader-bound
  blocks at most FSD-3 (the PN532 announces FSD 64); every chained block is answered by a
  3-byte R(ACK). Type A frames cost 9 bits per byte (8 data + odd parity) plus 2 bits for start
  and end of frame (ISO 14443-3 §6.2.3); type B frames 10 bits per byte (start, 8 data, stop)
  plus 22 bits of SOF/EOF (ISO 14443-3 §7.1). The bit rate is fc/128, fc/64 or fc/32
  (fc = 13.56 MHz) for 106, 212 and 424 kbit/s. Each frame is followed by one frame delay time
  of 1172/fc (ISO 14443-3 §6.2.1.1) before the other side answers.
* **Card**: the processing time the card reports for the command (its ``last_processing_s``,
  which includes any waiting-time extension the PN532 absorbs).

``ExchangeTiming.modeled_s`` is the sum for one host command (frame out, ACK, response in, and
the air and card time it caused); ``TimingModel.total_s`` sums every exchange.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

FC_HZ = 13_560_000
FDT_S = 1172 / FC_HZ
RATE_DIVISOR = {106: 128, 212: 64, 424: 32}
FSC_TABLE = (16, 24, 32, 40, 48, 64, 96, 128, 256)  # ISO 14443-4 §5.2.3, FSCI 0..8
PN532_FSD = 64
ISO_DEP_PROLOGUE = 1  # PCB; the PN532 uses no CID for type A
CRC_LEN = 2
R_BLOCK_LEN = 3  # PCB + CRC
KEEP_EXCHANGES = 4096


def fsc_from_ats(ats: bytes | None) -> int:
    """Card frame size from the ATS format byte T0 (FSCI, low nibble); 32 when absent."""
    if not ats or len(ats) < 2:
        return 32
    fsci = ats[1] & 0x0F
    return FSC_TABLE[fsci] if fsci < len(FSC_TABLE) else 256


@dataclass
class ExchangeTiming:
    """Modeled time of one host command: link bytes, air time, card time."""

    command: int
    link_bytes: int = 0
    link_s: float = 0.0
    air_s: float = 0.0
    card_s: float = 0.0

    @property
    def modeled_s(self) -> float:
        return self.link_s + self.air_s + self.card_s


@dataclass
class TimingModel:
    """Accumulates modeled time per exchange. Thread-safe; the virtual PN532 feeds it."""

    baud: int = 115200
    kind: str = "A"
    rate_kbps: int = 106
    fsc: int = 32
    #: The most recent exchanges, at most KEEP_EXCHANGES: a simulator left running polls ~10 times a
    #: second, and an unbounded list grew by some 100 KB a minute. ``total_s`` still counts them all.
    exchanges: deque[ExchangeTiming] = field(default_factory=lambda: deque(maxlen=KEEP_EXCHANGES))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _current: ExchangeTiming | None = field(default=None, repr=False)
    _dropped_s: float = field(default=0.0, repr=False)

    # --- configuration ------------------------------------------------------------------

    def set_card(self, kind: str, ats: bytes | None) -> None:
        with self._lock:
            self.kind = kind
            self.fsc = fsc_from_ats(ats)
            self.rate_kbps = 106

    def set_rate(self, rate_kbps: int) -> None:
        if rate_kbps not in RATE_DIVISOR:
            raise ValueError(f"unsupported rate {rate_kbps} kbit/s")
        with self._lock:
            self.rate_kbps = rate_kbps

    def set_baud(self, baud: int) -> None:
        with self._lock:
            self.baud = baud

    # --- accounting ---------------------------------------------------------------------

    def begin(self, command: int) -> None:
        with self._lock:
            self._push(ExchangeTiming(command))

    def _cur(self) -> ExchangeTiming:
        if self._current is None:
            self._push(ExchangeTiming(-1))
        assert self._current is not None  # noqa: S101 - set by _push
        return self._current

    def _push(self, exchange: ExchangeTiming) -> None:
        if len(self.exchanges) == self.exchanges.maxlen:
            self._dropped_s += self.exchanges[0].modeled_s  # finished long ago: its time is final
        self._current = exchange
        self.exchanges.append(exchange)

    def link(self, nbytes: int) -> None:
        """nbytes crossed the HSU line (either direction)."""
        with self._lock:
            cur = self._cur()
            cur.link_bytes += nbytes
            cur.link_s += nbytes * 10 / self.baud

    def frame_air_s(self, nbytes: int) -> float:
        """Air time of one frame of nbytes (CRC included) plus the following frame delay."""
        bit_s = RATE_DIVISOR[self.rate_kbps] / FC_HZ
        bits = nbytes * 9 + 2 if self.kind == "A" else nbytes * 10 + 22
        return bits * bit_s + FDT_S

    def _blocks_s(self, inf_len: int, max_inf: int) -> float:
        """Air time of INF sent as chained I-blocks, each chained one answered by an R(ACK)."""
        t = 0.0
        left = inf_len
        while True:
            part = min(left, max_inf)
            left -= part
            t += self.frame_air_s(ISO_DEP_PROLOGUE + part + CRC_LEN)
            if left <= 0:
                return t
            t += self.frame_air_s(R_BLOCK_LEN)

    def air_exchange(self, command_len: int, response_len: int) -> None:
        """One ISO-DEP command/response pair on air (ISO 14443-4 §7)."""
        with self._lock:
            out_s = self._blocks_s(command_len, self.fsc - ISO_DEP_PROLOGUE - CRC_LEN)
            in_s = self._blocks_s(response_len, PN532_FSD - ISO_DEP_PROLOGUE - CRC_LEN)
            self._cur().air_s += out_s + in_s

    def air_frames(self, *frame_lens: int) -> None:
        """Frames of ISO 14443-3 activation (REQA, anticollision, RATS, ...)."""
        with self._lock:
            cur = self._cur()
            for n in frame_lens:
                cur.air_s += self.frame_air_s(n)

    def card(self, seconds: float) -> None:
        with self._lock:
            self._cur().card_s += max(0.0, seconds)

    # --- results ------------------------------------------------------------------------

    @property
    def total_s(self) -> float:
        with self._lock:
            return self._dropped_s + sum(e.modeled_s for e in self.exchanges)

    @property
    def last(self) -> ExchangeTiming | None:
        with self._lock:
            return self.exchanges[-1] if self.exchanges else None

    def reset(self) -> None:
        with self._lock:
            self.exchanges.clear()
            self._current = None
            self._dropped_s = 0.0
