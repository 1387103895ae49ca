"""Machine-like stand-ins for the I2C and SPI bus tests (not a test module): a PN532 target that
answers known command frames with ACK then a response, seen through an I2C controller (status
byte first, clock stretching as OSError, UM0701-02 §6.2.4) or an SPI controller (operation bytes
0x01/0x02/0x03, LSB first, §6.2.5)."""

from binascii import unhexlify

from reader.pn532 import frame

ACK = frame.ACK
GFV_CMD = unhexlify("0000ff02fed4022a00")
GFV_RSP = unhexlify("0000ff06fad50332010607e800")
SAM_CMD = unhexlify("0000ff03fdd414011700")
SAM_RSP = unhexlify("0000ff02fed5151600")
REV = bytes(sum(((i >> b) & 1) << (7 - b) for b in range(8)) for i in range(256))  # bit-reversed


class Target:
    """The PN532 side: answers known command frames with ACK, then the response frame."""

    def __init__(self, answers):
        self.answers = answers
        self.out = []
        self.commands = []

    def command(self, data):
        if data == ACK:
            self.out = []  # abort
            return
        if data in self.answers:
            self.commands.append(data)
            self.out = [ACK, self.answers[data]]


class FakeI2C:
    def __init__(self, target, busy_polls=0, nak_writes=0):
        self.t = target
        self.busy_polls = busy_polls
        self.nak_writes = nak_writes
        self.busy = 0
        self.writes = []

    def writeto(self, addr, buf):
        assert addr == 0x24
        if self.nak_writes:
            self.nak_writes -= 1
            raise OSError(19)  # ENODEV: address NAK
        data = bytes(buf)
        self.writes.append(data)
        self.t.command(data)
        self.busy = self.busy_polls

    def readfrom_into(self, addr, buf):
        assert addr == 0x24
        if self.busy:
            self.busy -= 1
            raise OSError(116)  # ETIMEDOUT: the PN532 stretches SCL while busy
        ready = 1 if self.t.out else 0
        buf[0] = ready
        if len(buf) == 1:
            return
        assert ready, "frame read without RDY"
        f = self.t.out.pop(0)
        buf[1 : 1 + len(f)] = f
        for i in range(1 + len(f), len(buf)):
            buf[i] = 0xA5  # whatever the PN532 clocks out after the frame


class Pin:
    def __init__(self, spi):
        self.spi = spi
        self.level = 1

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v
        self.spi.cs(v)


class FakeSPI:
    """Decodes what the controller sends; ``msb`` = the controller shifts MSB first, so the
    PN532 (LSB first) sees each byte bit-reversed."""

    def __init__(self, target, msb=False):
        self.t = target
        self.msb = msb
        self.op = None
        self.data = bytearray()
        self.ops = []

    def _wire(self, b):
        return REV[b] if self.msb else b

    def cs(self, level):
        if level == 0:
            self.op = None
            self.data = bytearray()
        elif self.op == 0x01:
            self.t.command(bytes(self.data))

    def write(self, buf):
        for raw in bytes(buf):
            b = self._wire(raw)
            if self.op is None:
                self.op = b
                self.ops.append(b)
            else:
                self.data.append(b)

    def readinto(self, buf, write_byte=0):
        assert self.op in (0x02, 0x03), self.op
        if self.op == 0x02:
            buf[0] = self._wire(0x01 if self.t.out else 0x00)
            return
        f = self.t.out.pop(0)
        for i in range(len(buf)):
            buf[i] = self._wire(f[i] if i < len(f) else 0xFF)


def answers():
    """Start-up commands of the driver and their responses (UM0701-02 §7.2.10, §7.2.2, §7.3.1)."""
    a = {GFV_CMD: GFV_RSP}
    for head, code in ((b"\x14\x01\x14\x01", 0x15), (b"\x12\x14", 0x13), (b"\x32\x01\x01", 0x33)):
        a[frame.encode(frame.TFI_HOST, head)] = frame.encode(frame.TFI_CHIP, bytes((code,)))
    return a


def start_up(chip, target):
    """The driver's start-up dialog (SAMConfiguration first, AN10609 §4) through ``chip``."""
    chip.bus.wakeup()
    assert bytes(chip.command(b"\x14\x01\x14\x01")) == b""
    assert bytes(chip.command(b"\x02")) == b"\x32\x01\x06\x07"
    chip.command(b"\x12\x14")
    chip.command(b"\x32\x01\x01")
    assert [c[6] for c in target.commands] == [0x14, 0x02, 0x12, 0x32]
