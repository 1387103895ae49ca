"""PN532 SPI bus: byte transport with operation bytes, LSB first. No frame logic, no commands.

Mode 0; each CS-low transaction starts with an operation byte (UM0701-02 §6.2.5, research §1.3):
0x01 data write, 0x02 status read (0x01 = ready), 0x03 data read. The PN532 sends and expects the
least significant bit first; a controller that can only do MSB first gets its bytes bit-reversed
here through a 256-byte table.
"""

from micropython import const

from reader import clock
from reader.errors import ReaderFault
from reader.link import codes
from reader.pn532 import frame

_OP_WRITE = const(0x01)
_OP_STATUS = const(0x02)
_OP_READ = const(0x03)
_POLL_MS = const(1)


def _reverse_table():
    t = bytearray(256)
    for i in range(256):
        r = 0
        for b in range(8):
            if i & (1 << b):
                r |= 0x80 >> b
        t[i] = r
    return bytes(t)


def open_spi(bus_id, sck, mosi, miso, baudrate=1000000):
    """A machine.SPI in mode 0, LSB first (the ESP32 hardware SPI supports it)."""
    import machine

    return machine.SPI(
        bus_id, baudrate=baudrate, polarity=0, phase=0, firstbit=machine.SPI.LSB,
        sck=machine.Pin(sck), mosi=machine.Pin(mosi), miso=machine.Pin(miso),
    )


class SpiBus:
    name = "spi"
    baud = 0
    ack_slack_ms = 0

    def __init__(self, spi, cs, lsb_first=True, freq=1000000, reset_pin=None):
        self.spi = spi  # machine.SPI-like: write(buf), readinto(buf, write_byte)
        self.cs = cs  # Pin, active low
        self.freq = freq
        self.reset_pin = reset_pin
        self._rev = None if lsb_first else _reverse_table()
        self._op = bytearray(1)
        self._status = bytearray(1)
        self._tx = bytearray(frame.FRAME_MAX)
        self._rx = bytearray(frame.FRAME_MAX)
        self._rxmv = memoryview(self._rx)
        cs.value(1)

    def wire_ms(self, nbytes):
        return (nbytes * 8000) // self.freq + 1

    def reset(self):
        if self.reset_pin is None:
            return False
        self.reset_pin.value(0)
        clock.sleep_ms(2)
        self.reset_pin.value(1)
        clock.sleep_ms(10)
        return True

    def _bits(self, buf, n):
        rev = self._rev
        if rev is not None:
            for i in range(n):
                buf[i] = rev[buf[i]]

    def _begin(self, op):
        self._op[0] = op
        self._bits(self._op, 1)
        self.cs.value(0)
        self.spi.write(self._op)

    def wakeup(self):
        # CS low for a few ms wakes the PN532 (libnfc pn532_spi_wakeup).
        self.cs.value(0)
        clock.sleep_ms(2)
        self.cs.value(1)
        clock.sleep_ms(2)

    def write(self, data):
        n = len(data)
        tx = self._tx
        tx[:n] = data
        self._bits(tx, n)
        self._begin(_OP_WRITE)
        try:
            self.spi.write(memoryview(tx)[:n])
        finally:
            self.cs.value(1)

    def _ready(self):
        self._begin(_OP_STATUS)
        try:
            self.spi.readinto(self._status, 0)
        finally:
            self.cs.value(1)
        self._bits(self._status, 1)
        return self._status[0] == 0x01

    def _read_frame(self):
        self._begin(_OP_READ)
        try:
            self.spi.readinto(self._rx, 0)
        finally:
            self.cs.value(1)
        self._bits(self._rx, len(self._rx))
        return frame.frame_end(self._rx, 0, len(self._rx))

    def flush_input(self):
        if self._ready():
            self._read_frame()

    def receive(self, parser, timeout_ms):
        t0 = clock.ticks_ms()
        while not self._ready():
            if clock.ticks_diff(clock.ticks_ms(), t0) >= timeout_ms:
                return 0
            clock.sleep_ms(_POLL_MS)
        n = self._read_frame()
        return parser.feed(self._rxmv[:n])

    def set_baudrate(self, baud):
        raise ReaderFault("the PN532 SPI bus has no baud rate", code=codes.E_BAD_ARGUMENT)
