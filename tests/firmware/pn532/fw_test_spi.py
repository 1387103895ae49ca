"""PN532 SPI bus (UM0701-02 §6.2.5) on a machine.SPI-like stand-in: operation bytes, status
polling, LSB-first bit order with an LSB-capable controller and with an MSB-only one."""

from pn532.fakes import REV, FakeSPI, Pin, Target, answers, start_up
from reader.pn532.bus_spi import SpiBus
from reader.pn532.chipset import Chipset


def test_spi_lsb_first_controller():
    t = Target(answers())
    spi = FakeSPI(t)
    start_up(Chipset(SpiBus(spi, Pin(spi), lsb_first=True)), t)
    assert set(spi.ops) == {0x01, 0x02, 0x03}


def test_spi_msb_first_controller_gets_bits_reversed():
    t = Target(answers())
    spi = FakeSPI(t, msb=True)
    start_up(Chipset(SpiBus(spi, Pin(spi), lsb_first=False)), t)
    assert set(spi.ops) == {0x01, 0x02, 0x03}
    assert REV[0x01] == 0x80 and REV[0x03] == 0xC0
