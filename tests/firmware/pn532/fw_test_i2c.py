"""PN532 I2C bus (UM0701-02 §6.2.4) on a machine.I2C-like stand-in: status byte, RDY polling,
clock stretching, address NAK retries, extended frames, and the frame_end helper."""

from pn532.fakes import ACK, GFV_CMD, GFV_RSP, FakeI2C, Target, answers, start_up
from reader.errors import ReaderFault
from reader.link import codes
from reader.pn532 import frame
from reader.pn532.bus_i2c import I2cBus
from reader.pn532.chipset import Chipset


def test_frame_end_finds_the_first_frame_and_its_postamble():
    buf = b"\x00" + GFV_RSP + b"\xa5\xa5\xa5"
    assert frame.frame_end(buf, 0, len(buf)) == 1 + len(GFV_RSP)
    buf = ACK + b"\xa5" * 9
    assert frame.frame_end(buf, 0, len(buf)) == 6
    long = frame.encode(frame.TFI_CHIP, b"\x41\x00", bytes(258)) + b"\xa5"
    assert frame.frame_end(long, 0, len(long)) == len(long) - 1


def test_i2c_command_with_status_byte_and_clock_stretching():
    fake = FakeI2C(Target({GFV_CMD: GFV_RSP}), busy_polls=3)
    chip = Chipset(I2cBus(fake))
    assert bytes(chip.command(b"\x02")) == b"\x32\x01\x06\x07"
    assert fake.writes[-1] == GFV_CMD


def test_i2c_write_retried_after_address_nak():
    fake = FakeI2C(Target({GFV_CMD: GFV_RSP}), nak_writes=2)
    assert bytes(Chipset(I2cBus(fake)).command(b"\x02")) == b"\x32\x01\x06\x07"
    fake = FakeI2C(Target({GFV_CMD: GFV_RSP}), nak_writes=100)
    try:
        Chipset(I2cBus(fake)).command(b"\x02")
    except ReaderFault as exc:
        assert exc.code == codes.E_PN532_TIMEOUT, exc.code
        pass
    else:
        raise AssertionError("a PN532 that never ACKs its address was not reported")


def test_i2c_extended_response():
    cmd = frame.encode(frame.TFI_HOST, b"\x40\x01", b"\x00\xb0\x00\x00\x00")
    data = bytes(i & 0xFF for i in range(256)) + b"\x90\x00"
    rsp = frame.encode(frame.TFI_CHIP, b"\x41\x00", data)
    fake = FakeI2C(Target({cmd: rsp}))
    got = Chipset(I2cBus(fake)).command(b"\x40\x01", b"\x00\xb0\x00\x00\x00")
    assert bytes(got) == b"\x00" + data


def test_i2c_silent_pn532_times_out():
    fake = FakeI2C(Target({}))
    try:
        Chipset(I2cBus(fake)).command(b"\x02")
    except ReaderFault as exc:
        assert exc.code == codes.E_PN532_TIMEOUT, exc.code
        pass
    else:
        raise AssertionError("no ACK was not reported")
    assert fake.writes == [GFV_CMD] * 3  # sent, then resent twice (UM0701-02 §6.2.3)


def test_start_up_sequence_over_i2c():
    t = Target(answers())
    start_up(Chipset(I2cBus(FakeI2C(t, busy_polls=1))), t)
