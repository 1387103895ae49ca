"""Simulator layer: a virtual PN532 on its HSU wire protocol. Knows nothing of the firmware.

It has one card slot and fault knobs and listens on a UNIX stream socket (the firmware's unix
board connects to it). It behaves as UM0701-02 describes: frames (§6.2.1: normal, extended, ACK,
NACK, syntax-error), the dialog (§6.2.2: ACK then response; a host ACK aborts; a new command
cancels the previous one; NACK repeats the last response), LowVbat until the HSU wake-up (5th
rising edge, §6.3.2.3) and SAMConfiguration first, the commands a reader uses (§7), ISO-DEP
behind InDataExchange with MI chaining both ways (§7.4.5).
"""

from __future__ import annotations

import itertools
import os
import random
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from partycard.errors import CardRemoved
from partycard.sim.timing import TimingModel

ACK = b"\x00\x00\xff\x00\xff\x00"
NACK = b"\x00\x00\xff\xff\x00\x00"
ERROR_FRAME = b"\x00\x00\xff\x01\xff\x7f\x81\x00"
DATA_MAX = 262  # InDataExchange DataOut/DataIn (§7.3.8)
EXTENDED_MAX = 265  # TFI + 264 (§6.2.1.2)
BAUDS = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1288000)
AUTO_RATS = 0x10
NO_AMBLE = 0x40  # SetParameters fNoAMBLE: no preamble/postamble on information frames (§7.2.9)
FOREVER = float("inf")


class ContactlessCard(Protocol):
    """What the card slot needs; ``last_processing_s`` (optional attribute) feeds the timing."""

    def activate(self) -> Mapping[str, object]: ...

    def transmit(self, apdu: bytes) -> bytes: ...


@dataclass
class PN532Faults:
    """Fault knobs; counters count down as they fire. Mutate them between operations."""

    ignore_commands: int = 0  # next N command frames are lost on the line: no ACK, no effect
    bad_lcs: int = 0  # next N responses go out with a corrupted LCS (the good one on NACK)
    bad_dcs: int = 0  # next N responses go out with a corrupted DCS
    drop_responses: int = 0  # next N commands are ACKed but never answered
    syntax_errors: int = 0  # next N commands are answered with the syntax-error frame
    spurious: int = 0  # next N writes are preceded by noise bytes
    response_delay_s: float = 0.0  # added before every response
    split: bool = False  # write every frame in random pieces with short pauses
    coalesce: bool = False  # send ACK and response in one write
    duplicate_ack: int = 0  # next N commands get their ACK twice
    lose_acks: int = 0  # next N ACK frames are lost on the line; the command still runs and answers
    garble_acks: int = 0  # next N ACK frames arrive damaged; the command still runs and answers
    status_errors: list[int] = field(default_factory=list)  # next InDataExchange answers' status
    remove_at_exchange: int | None = None  # k more APDUs succeed, then the card leaves (0 = next)


@dataclass
class PN532Stats:
    commands: int = 0
    acks_sent: int = 0
    nacks_received: int = 0
    aborts: int = 0
    bad_frames: int = 0
    ignored: int = 0
    wakeups: int = 0
    apdus: int = 0
    by_command: dict[int, int] = field(default_factory=dict)


def build_frame(payload: bytes) -> bytes:
    """Information frame for TFI+PD ``payload``; extended only when it exceeds 255 (§6.2.1.2)."""
    n = len(payload)
    dcs = (-sum(payload)) & 0xFF
    if n > 255:
        hi, lo = n >> 8, n & 0xFF
        return bytes((0, 0, 0xFF, 0xFF, 0xFF, hi, lo, (-(hi + lo)) & 0xFF)) + payload + bytes((dcs, 0))
    return bytes((0, 0, 0xFF, n, (-n) & 0xFF)) + payload + bytes((dcs, 0))


def rising_edges(byte: int) -> int:
    """0->1 transitions on an 8N1 line for one byte: start bit 0, data LSB first, stop bit 1."""
    levels = [0] + [(byte >> i) & 1 for i in range(8)] + [1]
    return sum(1 for a, b in itertools.pairwise(levels) if a == 0 and b == 1)


def _as_bytes(value: object) -> bytes:
    return bytes(value) if isinstance(value, bytes | bytearray | memoryview) else b""


class _HostParser:
    """Host-to-PN532 stream parser: skips wake bytes, noise and preamble; yields events."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        self.buf += data
        out: list[tuple[str, bytes]] = []
        b = self.buf
        while True:
            i = b.find(b"\x00\xff")
            if i < 0:
                del b[: max(0, len(b) - 1)]
                return out
            del b[:i]
            if len(b) < 4:
                return out
            ln, lcs = b[2], b[3]
            if (ln, lcs) == (0x00, 0xFF):
                out.append(("ack", b""))
                del b[:4]
                continue
            if (ln, lcs) == (0xFF, 0x00):
                out.append(("nack", b""))
                del b[:4]
                continue
            if (ln, lcs) == (0xFF, 0xFF):
                if len(b) < 7:
                    return out
                n = (b[4] << 8) | b[5]
                if (b[4] + b[5] + b[6]) & 0xFF or not 0 < n <= EXTENDED_MAX:
                    out.append(("bad", b""))
                    del b[:1]
                    continue
                first = 7
            elif (ln + lcs) & 0xFF or ln == 0:
                del b[:1]
                continue
            else:
                n, first = ln, 4
            if len(b) < first + n + 1:
                return out
            body = bytes(b[first : first + n])
            if (sum(body) + b[first + n]) & 0xFF:
                out.append(("bad", b""))
                del b[:1]
                continue
            del b[: first + n + 1]
            out.append(("frame", body))


class _SyntaxError(Exception):
    """The command gets the application-level error frame (§6.2.1.5)."""


class VirtualPN532:
    """A PN532 on a UNIX socket: ``start(path)``, ``stop()``, ``insert(card)``, ``remove()``."""

    def __init__(
        self,
        card: ContactlessCard | None = None,
        faults: PN532Faults | None = None,
        timing: TimingModel | None = None,
        *,
        strict_first_command: bool = True,
        firmware: bytes = b"\x32\x01\x06\x07",
        seed: int = 0,
    ) -> None:
        self.faults = faults or PN532Faults()
        self.timing = timing or TimingModel()
        self.stats = PN532Stats()
        self.strict_first_command = strict_first_command
        self.firmware = firmware
        self._rng = random.Random(seed)  # noqa: S311 - fault timing, not secrets
        self._lock = threading.RLock()
        self._card = card
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self.socket_path: str | None = None
        # chip state
        self.asleep = True  # LowVbat after power-up (AN10609 §4)
        self.configured = False  # SAMConfiguration seen
        self.rf_on = False
        self.params = 0x00
        self.max_passive = 0xFF  # MxRtyPassiveActivation default: retry forever (§7.3.1)
        self.baud = 115200
        self._edges = 0
        self._pending_baud: int | None = None
        self._active: ContactlessCard | None = None  # the card listed as Tg 1
        self._active_info: Mapping[str, object] = {}
        self._chain = b""
        self._mi_rest = b""
        self._last_response: bytes | None = None
        self._pending: tuple[float, Callable[[], bytes | None]] | None = None
        self._power_down_after = False

    # --- card slot ----------------------------------------------------------------------

    @property
    def card(self) -> ContactlessCard | None:
        return self._card

    def insert(self, card: ContactlessCard) -> None:
        with self._lock:
            self._card = card

    def remove(self) -> None:
        with self._lock:
            self._card = None

    # --- server -------------------------------------------------------------------------

    def start(self, socket_path: str) -> None:
        if os.path.exists(socket_path):
            os.unlink(socket_path)
        lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lst.bind(socket_path)
        lst.listen(1)
        self._listener = lst
        self.socket_path = socket_path
        self._stop.clear()
        self._thread = threading.Thread(target=self._accept_loop, name="virtual-pn532", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self.socket_path and os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    def _accept_loop(self) -> None:
        lst = self._listener
        while lst is not None and not self._stop.is_set():
            ready, _, _ = select.select([lst], [], [], 0.05)
            if not ready:
                continue
            conn, _ = lst.accept()
            with conn:
                self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        parser = _HostParser()
        while not self._stop.is_set():
            wait = 0.02
            if self._pending is not None and self._pending[0] != FOREVER:
                wait = max(0.0, min(wait, self._pending[0] - time.monotonic()))
            ready, _, _ = select.select([conn], [], [], wait)
            if ready:
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                with self._lock:
                    self._on_bytes(conn, data, parser)
            with self._lock:
                self._run_pending(conn)

    # --- wire ---------------------------------------------------------------------------

    def _write(self, conn: socket.socket, data: bytes) -> None:
        f = self.faults
        if f.spurious > 0:
            f.spurious -= 1
            noise = bytes(self._rng.choice((0x00, 0xFF, 0x55, 0xD5, 0x01, 0xAA)) for _ in range(7))
            data = noise + data
        try:
            if f.split and len(data) > 1:
                pos = 0
                while pos < len(data):
                    step = self._rng.randint(1, max(1, len(data) // 3))
                    conn.sendall(data[pos : pos + step])
                    pos += step
                    time.sleep(0.001)
            else:
                conn.sendall(data)
        except OSError:
            pass

    def _response_frame(self, payload: bytes) -> bytes:
        frame = build_frame(b"\xd5" + payload)
        if self.params & NO_AMBLE:
            frame = frame[1:-1]
        self._last_response = frame
        return self._corrupt(frame)

    def _corrupt(self, frame: bytes) -> bytes:
        """The frame as it leaves on the line: knobs may flip a checksum (resends included)."""
        self.timing.link(len(frame))
        f = self.faults
        out = bytearray(frame)
        if f.bad_lcs > 0:
            f.bad_lcs -= 1
            idx = 7 if out[3] == 0xFF and out[4] == 0xFF else 4
            out[idx] ^= 0x5A
        elif f.bad_dcs > 0:
            f.bad_dcs -= 1
            out[-2] ^= 0xA5
        return bytes(out)

    def _on_bytes(self, conn: socket.socket, data: bytes, parser: _HostParser) -> None:
        if self.asleep:
            for i, byte in enumerate(data):
                self._edges += rising_edges(byte)
                if self._edges >= 5:  # the 5th rising edge wakes the chip (§6.3.2.3)
                    self.asleep = False
                    self._edges = 0
                    self.stats.wakeups += 1
                    data = data[i + 1 :]
                    break
            else:
                return
        self.timing.link(len(data))
        for kind, body in parser.feed(data):
            if kind == "ack":
                if self._pending is not None:
                    self._pending = None
                    self.stats.aborts += 1
                if self._pending_baud is not None:
                    self.baud = self._pending_baud
                    self.timing.set_baud(self.baud)
                    self._pending_baud = None
            elif kind == "nack":
                self.stats.nacks_received += 1
                if self._last_response is not None:
                    self._write(conn, self._corrupt(self._last_response))
            elif kind == "bad":
                self.stats.bad_frames += 1  # silently ignored: the host resends (§6.2.3)
            else:
                self._on_frame(conn, body)

    def _on_frame(self, conn: socket.socket, body: bytes) -> None:
        f = self.faults
        if len(body) < 2 or body[0] != 0xD4:
            self.stats.ignored += 1
            return
        if f.ignore_commands > 0:
            f.ignore_commands -= 1
            self.stats.ignored += 1
            return
        cmd = body[1]
        if self.strict_first_command and not self.configured and cmd != 0x14:
            self.stats.ignored += 1  # LowVbat: only SAMConfiguration is served (AN10609 §4)
            return
        self._pending = None  # a new command cancels the running one (UM0701-02 p.38)
        self._pending_baud = None
        self.stats.commands += 1
        self.stats.by_command[cmd] = self.stats.by_command.get(cmd, 0) + 1
        self.timing.begin(cmd)
        self.timing.link(len(ACK))
        if f.syntax_errors > 0:
            f.syntax_errors -= 1
            self._send_ack_and(conn, lambda: None, error=True)
            return
        try:
            result = self._execute(cmd, body[2:])
        except _SyntaxError:
            self._send_ack_and(conn, lambda: None, error=True)
            return
        if f.drop_responses > 0:
            f.drop_responses -= 1
            self._send_ack_and(conn, None)
            return
        self._send_ack_and(conn, result)

    def _send_ack_and(
        self, conn: socket.socket, result: Callable[[], bytes | None] | None, error: bool = False
    ) -> None:
        self.stats.acks_sent += 1
        ack = ACK
        if self.faults.duplicate_ack > 0:
            self.faults.duplicate_ack -= 1
            ack = ACK + ACK
        if self.faults.lose_acks > 0:
            self.faults.lose_acks -= 1
            ack = b""
        elif self.faults.garble_acks > 0:
            self.faults.garble_acks -= 1
            ack = ACK[:4] + b"\xfe" + ACK[5:]  # LEN + LCS no longer sum to zero
        if error:
            self._write(conn, ack + ERROR_FRAME)
            return
        if result is None:
            self._write(conn, ack)
            self._pending = (FOREVER, lambda: None)
            return
        delay = self.faults.response_delay_s
        if self.faults.coalesce and delay == 0:
            payload = result()
            if payload is not None:
                self._write(conn, ack + self._response_frame(payload))
                self._after_response()
                return
            self._write(conn, ack)
            self._pending = (FOREVER, result)
            return
        self._write(conn, ack)
        self._pending = (time.monotonic() + delay, result)

    def _run_pending(self, conn: socket.socket) -> None:
        if self._pending is None:
            return
        due, fn = self._pending
        if due != FOREVER and time.monotonic() < due:
            return
        payload = fn()
        if payload is None:
            if due != FOREVER:
                self._pending = (FOREVER, fn)
            return
        self._pending = None
        self._write(conn, self._response_frame(payload))
        self._after_response()

    def _after_response(self) -> None:
        if self._power_down_after:
            self._power_down_after = False
            self.asleep = True

    # --- commands (UM0701-02 §7) ---------------------------------------------------------

    def _execute(self, cmd: int, p: bytes) -> Callable[[], bytes | None]:
        handler: Callable[[bytes], bytes] | None = {
            0x00: self._diagnose,
            0x02: lambda p: b"\x03" + self.firmware,
            0x04: self._general_status,
            0x06: lambda p: b"\x07" + bytes(len(p) // 2),
            0x08: lambda p: b"\x09",
            0x10: self._set_serial_baudrate,
            0x12: self._set_parameters,
            0x14: self._sam_configuration,
            0x16: self._power_down,
            0x32: self._rf_configuration,
            0x40: self._in_data_exchange,
            0x44: lambda p: self._simple_target(p, 0x45),
            0x4E: self._in_psl,
            0x52: self._in_release,
            0x54: lambda p: self._simple_target(p, 0x55),
        }.get(cmd)
        if cmd == 0x4A:
            return self._in_list_passive_target(p)
        if handler is None:
            raise _SyntaxError
        out = handler(p)
        return lambda: out

    def _need(self, p: bytes, n: int) -> None:
        if len(p) < n:
            raise _SyntaxError

    def _card_gone(self) -> bool:
        return self._active is None or self._card is not self._active

    def _diagnose(self, p: bytes) -> bytes:
        self._need(p, 1)
        if p[0] == 0x00:
            return b"\x01" + p
        if p[0] == 0x06:
            if self._active is None:
                return b"\x01\x27"
            return b"\x01\x01" if self._card_gone() else b"\x01\x00"
        raise _SyntaxError

    def _general_status(self, p: bytes) -> bytes:
        tgs = b"" if self._active is None else b"\x01\x00\x00\x00"
        return bytes((0x05, 0x00, 1 if self.rf_on else 0, len(tgs) // 4)) + tgs + b"\x00"

    def _set_serial_baudrate(self, p: bytes) -> bytes:
        self._need(p, 1)
        if p[0] >= len(BAUDS):
            raise _SyntaxError
        self._pending_baud = BAUDS[p[0]]  # switches after the host's ACK (§7.2.8)
        return b"\x11"

    def _set_parameters(self, p: bytes) -> bytes:
        self._need(p, 1)
        self.params = p[0]
        return b"\x13"

    def _sam_configuration(self, p: bytes) -> bytes:
        self._need(p, 1)
        if not 1 <= p[0] <= 4:
            raise _SyntaxError
        self.configured = True
        return b"\x15"

    def _power_down(self, p: bytes) -> bytes:
        self._need(p, 1)
        self._power_down_after = True
        self.configured = not self.strict_first_command or self.configured
        return b"\x17\x00"

    def _rf_configuration(self, p: bytes) -> bytes:
        self._need(p, 2)
        item = p[0]
        sizes = {0x01: 1, 0x02: 3, 0x04: 1, 0x05: 3}
        if item in sizes and len(p) != 1 + sizes[item]:
            raise _SyntaxError
        if item == 0x01:
            self.rf_on = bool(p[1] & 1)
        elif item == 0x05:
            self.max_passive = p[3]
        return b"\x33"

    def _in_list_passive_target(self, p: bytes) -> Callable[[], bytes | None]:
        self._need(p, 2)
        brty = p[1]
        if not 1 <= p[0] <= 2 or (brty == 0x03 and len(p) < 3):
            raise _SyntaxError
        self._active = None
        self._mi_rest = self._chain = b""

        def attempt() -> bytes | None:
            card = self._card
            if card is not None and self.rf_on:
                info = card.activate()
                kind = "B" if brty == 0x03 else ("A" if brty == 0x00 else "")
                if info.get("type") == kind:
                    return b"\x4b\x01" + self._list(card, info)
            return None if self.max_passive == 0xFF else b"\x4b\x00"

        return attempt

    def _list(self, card: ContactlessCard, info: Mapping[str, object]) -> bytes:
        self._active = card
        self._active_info = info
        uid = _as_bytes(info.get("uid"))
        ats = info.get("ats")
        ats_b = bytes(ats) if isinstance(ats, bytes | bytearray) and self.params & AUTO_RATS else b""
        self.timing.set_card(str(info.get("type")), ats_b or None)
        if info.get("type") == "B":
            atqb = _as_bytes(info.get("atqb"))
            self.timing.air_frames(3, 14, 11, 3)  # REQB, ATQB, ATTRIB, answer
            return b"\x01" + atqb.ljust(12, b"\x00")[:12] + b"\x01\x00"
        sak = 0x20 if ats_b else 0x00
        self.timing.air_frames(1, 2, 2, 5, 9, 3, 4, len(ats_b) + 2)  # REQA .. SAK, RATS, ATS
        return b"\x01\x00\x04" + bytes((sak, len(uid))) + uid + ats_b

    def _in_psl(self, p: bytes) -> bytes:
        self._need(p, 3)
        if p[0] != 1 or self._active is None:
            return b"\x4f\x27"
        if self._card_gone():
            return b"\x4f\x01"
        ats = self._active_info.get("ats")
        ta = ats[2] if isinstance(ats, bytes) and len(ats) > 2 and ats[1] & 0x10 else 0
        allowed = {0: True, 1: bool(ta & 0x01 and ta & 0x10), 2: bool(ta & 0x02 and ta & 0x20)}
        if p[1] > 2 or p[2] > 2 or not (allowed[p[1]] and allowed[p[2]]):
            return b"\x4f\x10"
        self.timing.air_frames(5, 3)  # PPS request and response
        self.timing.set_rate((106, 212, 424)[max(p[1], p[2])])
        return b"\x4f\x00"

    def _in_release(self, p: bytes) -> bytes:
        self._need(p, 1)
        self._active = None
        self._mi_rest = self._chain = b""
        return b"\x53\x00"

    def _simple_target(self, p: bytes, code: int) -> bytes:
        self._need(p, 1)
        ok = p[0] == 0 or (self._active is not None and p[0] == 1)  # Tg 0 = all: no-op when none
        return bytes((code, 0x00 if ok else 0x27))

    def _in_data_exchange(self, p: bytes) -> bytes:  # noqa: PLR0911 - one return per status
        self._need(p, 1)
        tg, more, data = p[0] & 0x3F, p[0] & 0x40, p[1:]
        if len(data) > DATA_MAX:
            raise _SyntaxError
        if tg != 1 or self._active is None:
            return b"\x41\x27"
        if self._mi_rest and not data and not more:
            return self._mi_chunk()
        self._mi_rest = b""
        if more:  # host chaining (§7.4.5): collect, answer with a bare status
            self._chain += data
            return b"\x41\x00"
        apdu, self._chain = self._chain + data, b""
        f = self.faults
        if f.remove_at_exchange is not None:
            if f.remove_at_exchange <= 0:
                f.remove_at_exchange = None
                self._card = None
            else:
                f.remove_at_exchange -= 1
        if self._card_gone():
            return b"\x41\x01"  # no answer from the target (status 0x01)
        if f.status_errors:
            return bytes((0x41, f.status_errors.pop(0)))
        card = self._active
        if card is None:
            return b"\x41\x27"
        try:
            resp = card.transmit(apdu)
        except CardRemoved:
            # The card tore away mid-command (a virtual card's tearing fault): it is out of the
            # field, and the PN532 reports the exchange as unanswered (status 0x01, UM0701 §7.1).
            self._card = None
            return b"\x41\x01"
        self.stats.apdus += 1
        self.timing.air_exchange(len(apdu), len(resp))
        self.timing.card(float(getattr(card, "last_processing_s", 0.0)))
        self._mi_rest = resp
        return self._mi_chunk()

    def _mi_chunk(self) -> bytes:
        chunk, self._mi_rest = self._mi_rest[:DATA_MAX], self._mi_rest[DATA_MAX:]
        return bytes((0x41, 0x40 if self._mi_rest else 0x00)) + chunk
