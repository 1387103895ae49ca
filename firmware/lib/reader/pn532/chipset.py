"""PN532 command dialog over one bus: send, ACK, response, NACK, abort. No card logic, no ops.

The dialog follows UM0701-02 §6.2.2-6.2.3: the host sends a command frame, the PN532 answers with
an ACK frame within 15 ms (otherwise the host resends the same frame), then with the response
(TFI D5, code = command + 1). A NACK asks the PN532 to send its last response again; an ACK from
the host while a command runs aborts it (§6.2.1.3). Status bytes (UM0701-02 §7.1, error table)
become typed faults here so that every layer above sees one vocabulary.

Resending is only safe for a command that may run twice. A new frame aborts the command the PN532
is running (UM0701-02 p. 38, as the virtual PN532 models it), so when only the ACK was lost, a
resent InDataExchange would carry its APDU to the card a second time: a secure-messaging counter
or a PACE step out of step, a retry counter spent. Commands that reach the card are therefore sent
``once``: without an ACK the chipset waits for their response, and without one either it aborts
and reports a timeout. It never resends them: silence cannot tell a frame lost on the way from a
lost ACK followed by a lost or late response, and only the first is safe to repeat. A lost
command frame thus costs the exchange timeout and the card session (the host reads again).
"""

from micropython import const

from reader import clock
from reader.errors import CardRemovedFault, ReaderFault
from reader.link import codes
from reader.pn532 import frame

_ACK_TIMEOUT_MS = const(15)  # UM0701-02 §6.2.3: resend when no ACK within 15 ms
_ACK_TRIES = const(3)
_NACK_TRIES = const(2)
_ABORT_SETTLE_MS = const(3)  # let an aborted command's stray bytes arrive before flushing
_KEEPALIVE_EVERY_MS = const(100)
_POLL_SLICE_MS = const(20)
_DEFAULT_TIMEOUT_MS = const(500)

STATUS_MI = const(0x40)  # InDataExchange status bit 6: more information (UM0701-02 §7.3.8)
_STATUS_NAD = const(0x80)
STATUS_ERR = const(0x3F)


def status_fault(status, what="PN532"):
    """Build the typed fault for a PN532 error status (low 6 bits, UM0701-02 §7.1).

    A removed type A card shows up as 0x01 (no answer); 0x29/0x2B are "released"/"disappeared".
    """
    err = status & STATUS_ERR
    detail = {"status": err}
    if err in (0x01, 0x29, 0x2B):
        return CardRemovedFault(f"card did not answer (status 0x{err:02X})", detail)
    if err == 0x13:
        return ReaderFault("ISO 14443-4 format error (status 0x13)", detail, code=codes.E_CARD_PROTOCOL)
    if err in (0x02, 0x03, 0x04, 0x05, 0x06, 0x0A, 0x0B, 0x12, 0x23, 0x25, 0x2A, 0x2C, 0x2E):
        return ReaderFault(f"RF error (status 0x{err:02X})", detail, code=codes.E_RF)
    if err == 0x27:
        return ReaderFault("no such target at the PN532 (status 0x27)", detail, code=codes.E_NOT_ACTIVE)
    return ReaderFault(f"{what} error status 0x{err:02X}", detail, code=codes.E_PN532_STATUS)


class Chipset:
    """One PN532 behind one bus. ``command()`` returns a memoryview of the response data (after
    the response code); it stays valid until the next call."""

    def __init__(self, bus):
        self.bus = bus
        self.parser = frame.FrameParser()
        self._tx = bytearray(frame.FRAME_MAX)
        self._txmv = memoryview(self._tx)
        self.keepalive = None  # callable, may raise (Cancelled): the command is then aborted
        self.fault_streak = 0  # consecutive dialog failures; the device re-inits past a limit
        self.resends = 0
        self.acks_missed = 0  # a ``once`` command's ACK did not come: its response was awaited
        self.nacks = 0
        self.aborts = 0
        self.timeouts = 0

    def _flush(self):
        self.parser.reset()
        self.bus.flush_input()

    def abort(self):
        """Cancel whatever the PN532 is executing (UM0701-02 §6.2.1.3) and drop stale input."""
        self.aborts += 1
        self.bus.write(frame.ACK)
        clock.sleep_ms(_ABORT_SETTLE_MS)
        self._flush()

    def send_ack(self):
        self.bus.write(frame.ACK)

    def _wait(self, cmd, timeout_ms, want_ack):  # noqa: C901 - one loop over frame kinds, hot path
        """Wait for an ACK (want_ack) or for the response to cmd. Returns the GOT_* kind, or
        NEED_MORE on timeout; on GOT_DATA the response is at parser.start."""
        p = self.parser
        b = p.buf
        t0 = clock.ticks_ms()
        last_ka = t0
        nacks = 0
        while True:
            k = p.parse()
            if k == frame.GOT_ACK:
                if want_ack:
                    return k
                continue  # a duplicated ACK
            if k == frame.GOT_DATA:
                s = p.start
                if p.length >= 2 and b[s] == frame.TFI_CHIP and b[s + 1] == ((cmd + 1) & 0xFF):
                    return k  # also when it came before the ACK (ACK lost or coalesced)
                continue  # a stale response of an aborted command
            if k == frame.GOT_ERROR:
                return k
            if k == frame.GOT_BAD:
                if want_ack:
                    continue
                if nacks >= _NACK_TRIES:
                    self.fault_streak += 1
                    raise ReaderFault(f"response failed its checksum {nacks + 1} times", code=codes.E_PN532_FRAME)
                nacks += 1
                self.nacks += 1
                self._flush()
                self.bus.write(frame.NACK)
                continue
            if k != frame.NEED_MORE:  # NACK from the chip: not part of the host side dialog
                continue
            now = clock.ticks_ms()
            elapsed = clock.ticks_diff(now, t0)
            if elapsed >= timeout_ms:
                return frame.NEED_MORE
            if self.keepalive is not None and clock.ticks_diff(now, last_ka) >= _KEEPALIVE_EVERY_MS:
                last_ka = now
                try:
                    self.keepalive()
                except Exception:
                    self.abort()
                    raise
            self.bus.receive(p, min(timeout_ms - elapsed, _POLL_SLICE_MS))

    def command(self, head, data=None, timeout_ms=_DEFAULT_TIMEOUT_MS, once=False):
        """Run one command: ``head`` is the command code and small parameters, ``data`` an
        optional bulk part (no copy). ``once``: the command must not run twice (see the module
        text). Raises a ReaderFault E_PN532_TIMEOUT, E_PN532_FRAME or E_PN532_STATUS (0x7F for a syntax-error
        frame)."""
        cmd = head[0]
        n = frame.encode_into(self._tx, frame.TFI_HOST, head, data)
        out = self._txmv[:n]
        # The ACK clock starts when the last byte is on the line, not when write() returns; a
        # simulated line adds the scheduling slack of the process serving it.
        ack_ms = _ACK_TIMEOUT_MS + self.bus.wire_ms(n) + self.bus.ack_slack_ms
        answer_ms = timeout_ms + self.bus.wire_ms(frame.FRAME_MAX)
        p = self.parser
        kind = frame.NEED_MORE
        for attempt in range(_ACK_TRIES):
            if attempt:
                self.resends += 1
            self._flush()
            self.bus.write(out)
            kind = self._wait(cmd, ack_ms, True)
            if kind != frame.NEED_MORE:
                break
            if once:
                self.acks_missed += 1
                kind = self._wait(cmd, answer_ms, False)
                break  # answered (the ACK alone was lost) or not: never sent twice
        if kind == frame.NEED_MORE:
            self.timeouts += 1
            self.fault_streak += 1
            if once:
                self.abort()
            msg = f"PN532 sent no ACK for command 0x{cmd:02X}"
            raise ReaderFault(msg, {"command": cmd}, code=codes.E_PN532_TIMEOUT)
        if kind == frame.GOT_ACK:
            kind = self._wait(cmd, answer_ms, False)
        if kind == frame.NEED_MORE:
            self.timeouts += 1
            self.fault_streak += 1
            self.abort()
            raise ReaderFault(f"PN532 did not answer command 0x{cmd:02X}", {"command": cmd}, code=codes.E_PN532_TIMEOUT)
        if kind == frame.GOT_ERROR:
            self.fault_streak += 1
            raise ReaderFault("PN532 syntax error frame", {"status": 0x7F, "command": cmd}, code=codes.E_PN532_STATUS)
        self.fault_streak = 0
        return p.mv[p.start + 2 : p.start + p.length]
