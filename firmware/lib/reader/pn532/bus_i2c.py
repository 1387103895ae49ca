"""PN532 I2C bus: frames as I2C writes; every read begins with a status byte. No frame logic.

Per UM0701-02 §6.2.4 (as used by the common drivers, research §1.3): 7-bit address 0x24; the host
polls a one-byte read until bit 0 (RDY) is set, then reads the frame in a new read transaction,
which again begins with the status byte. The PN532 stretches SCL (observed above 440 µs while it
wakes or works), so the I2C controller's timeout must allow at least 1 ms; a NAK or timeout while
it is busy is "not ready", not an error. Only this module and bus_spi import ``machine``.
"""

from micropython import const

from reader import clock
from reader.errors import ReaderFault
from reader.link import codes
from reader.pn532 import frame

ADDR = const(0x24)
_WRITE_TRIES = const(3)  # libnfc retries I2C writes three times
_POLL_MS = const(1)
_RDY = const(0x01)


def open_i2c(bus_id, scl, sda, freq=400000, timeout_us=50000):
    """A machine.I2C for the PN532 with a clock-stretch timeout well above 1 ms."""
    import machine

    return machine.I2C(bus_id, scl=machine.Pin(scl), sda=machine.Pin(sda), freq=freq, timeout=timeout_us)


class I2cBus:
    name = "i2c"
    baud = 0
    ack_slack_ms = 0  # no line rate to switch; SetSerialBaudRate is HSU only

    def __init__(self, i2c, addr=ADDR, freq=400000, reset_pin=None):
        self.i2c = i2c  # machine.I2C-like: writeto(addr, buf), readfrom_into(addr, buf)
        self.addr = addr
        self.freq = freq
        self.reset_pin = reset_pin
        self._status = bytearray(1)
        self._rx = bytearray(frame.FRAME_MAX + 1)
        self._rxmv = memoryview(self._rx)

    def wire_ms(self, nbytes):
        return (nbytes * 9000) // self.freq + 1  # 8 bits + ACK per byte

    def reset(self):
        if self.reset_pin is None:
            return False
        self.reset_pin.value(0)
        clock.sleep_ms(2)
        self.reset_pin.value(1)
        clock.sleep_ms(10)
        return True

    def wakeup(self):
        # Addressing the PN532 wakes it; it may NAK (or stretch) while it starts (§6.3.2.3).
        try:
            self.i2c.writeto(self.addr, b"\x00")
        except OSError:
            pass
        clock.sleep_ms(2)

    def write(self, data):
        for attempt in range(_WRITE_TRIES):
            try:
                self.i2c.writeto(self.addr, data)
                return
            except OSError:
                clock.sleep_ms(1 + attempt)
        raise ReaderFault("PN532 did not acknowledge its I2C address", code=codes.E_PN532_TIMEOUT)

    def _ready(self):
        try:
            self.i2c.readfrom_into(self.addr, self._status)
        except OSError:
            return False  # busy: NAK or clock-stretch timeout
        return bool(self._status[0] & _RDY)

    def flush_input(self):
        # A response of an aborted command would still be waiting: read it away.
        if self._ready():
            self._read_frame()

    def _read_frame(self):
        try:
            self.i2c.readfrom_into(self.addr, self._rx)
        except OSError:
            return 0
        return frame.frame_end(self._rx, 1, len(self._rx)) - 1

    def receive(self, parser, timeout_ms):
        t0 = clock.ticks_ms()
        while not self._ready():
            if clock.ticks_diff(clock.ticks_ms(), t0) >= timeout_ms:
                return 0
            clock.sleep_ms(_POLL_MS)
        n = self._read_frame()
        if n <= 0:
            return 0
        return parser.feed(self._rxmv[1 : 1 + n])

    def set_baudrate(self, baud):
        raise ReaderFault("the PN532 I2C bus has no baud rate", code=codes.E_BAD_ARGUMENT)
