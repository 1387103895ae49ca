"""PN532 HSU (high-speed UART) bus: raw frames on a byte stream. No frame parsing, no commands.

The stream is the board's (``write``, non-blocking ``readinto`` returning 0/None when empty,
``poll(timeout_ms)``, ``set_baudrate``). Wake-up per UM0701-02 §6.3.2.3: the PN532 wakes on the
5th rising edge of its RX line, so the host sends 0x55 (five rising edges with start and stop
bits) and zeros, then waits T_osc_start (up to 2 ms) before the first frame.
"""

from micropython import const

from reader import clock

WAKE = b"\x55\x55" + b"\x00" * 14  # the 16-byte preamble used by common drivers (research §1.4)
_WAKE_SETTLE_MS = const(2)  # T_osc_start, UM0701-02 §6.3.2.3
_DEFAULT_BAUD = const(115200)


class HsuBus:
    name = "hsu"

    def __init__(self, stream, baud=_DEFAULT_BAUD, reset_pin=None, ack_slack_ms=0):
        self.stream = stream
        self.baud = baud
        self.ack_slack_ms = ack_slack_ms  # > 0 only for a PN532 simulated by another process
        self.reset_pin = reset_pin  # RSTPD_N (active low), optional
        self._scratch = bytearray(64)

    def wire_ms(self, nbytes):
        """Time nbytes take on the line: 10 bits per byte (8N1)."""
        return (nbytes * 10000) // self.baud + 1

    def reset(self):
        """Hard reset through RSTPD_N when wired; returns False when it is not."""
        if self.reset_pin is None:
            return False
        self.reset_pin.value(0)
        clock.sleep_ms(2)
        self.reset_pin.value(1)
        clock.sleep_ms(10)
        return True

    def wakeup(self):
        self.stream.write(WAKE)
        clock.sleep_ms(_WAKE_SETTLE_MS + self.wire_ms(len(WAKE)))

    def write(self, data):
        self.stream.write(data)

    def flush_input(self):
        s = self.stream
        while s.poll(0):
            n = s.readinto(self._scratch)
            if not n:
                break

    def receive(self, parser, timeout_ms):
        """Move whatever bytes arrive within timeout_ms into the parser; returns the count."""
        s = self.stream
        if not s.poll(timeout_ms):
            return 0
        n = s.readinto(parser.space())
        if not n:
            return 0
        parser.added(n)
        return n

    def set_baudrate(self, baud):
        self.stream.set_baudrate(baud)
        self.baud = baud
