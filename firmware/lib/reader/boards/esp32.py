"""Board layer: an ESP32 or ESP32-S3 reader. Imports machine; nothing above this layer does.

Every pin comes from the board's pin map ``/boards/<name>.json`` (``firmware/boards/``, the single
source of truth that ``hardware/`` renders its diagrams from); nothing here hard-codes a pin. The
host link is the pin map's ``link.kind`` unless the stored config names another (``link``):
``repl-uart`` (the USB-UART bridge on UART0) and ``usb-cdc`` (native USB on the S3) are the REPL
port, read through stdin/stdout with Ctrl-C disabled; ``uart`` is a dedicated UART, used when the
pin map gives its ``tx``/``rx`` (else the REPL port stays the link, so a reader is never mute).
The PN532 is on the pin map's ``pn532.interface`` (HSU, I2C or SPI), RSTPD_N on ``pn532.reset``.
"""

import os
import sys

import machine
import micropython
from micropython import const

from reader.boards import Poller, StdioStream

# The ESP32 UART driver's default ring buffers are 256 bytes (ports/esp32/machine_uart.c); a frame is up to
# ~2.1 kB and a PN532 extended frame ~275 bytes, so both get room for a whole frame.
_LINK_RXBUF = const(4096)
_PN532_RXBUF = const(1024)
_HSU_RESET_BAUD = const(115200)  # the PN532's HSU rate after reset (UM0701-02 §6.3.2.1)
# machine.WDT cannot be stopped once started (ports/esp32/machine_wdt.c). Fed once per main-loop
# iteration, so it must outlast the longest request a handler serves without returning: the kiosk's
# card.wait (2-5 s) and a full apdu.batch are far below this.
WDT_MS = const(60000)
_BUZZER_DUTY = const(32768)  # a 50 % square wave: the passive buzzer's loudest drive


def _out(pin, value=0):
    return None if pin is None else machine.Pin(pin, machine.Pin.OUT, value=value)


class UARTStream:
    """machine.UART as a Stream; ``timeout=0`` makes readinto return what is already there."""

    def __init__(self, uart_id, tx, rx, baud, rxbuf):
        self._id = uart_id
        self._uart = machine.UART(uart_id, baudrate=baud, tx=tx, rx=rx, rxbuf=rxbuf, timeout=0)
        self._poll = Poller(self._uart)

    def poll(self, timeout_ms):
        return self._poll.readable(timeout_ms)

    def readinto(self, buf):
        n = self._uart.readinto(buf)
        return n or 0  # None when nothing arrived

    def write(self, buf):
        mv = memoryview(buf)
        while len(mv) > 0:
            n = self._uart.write(mv)
            if n:
                mv = mv[n:]

    def set_baudrate(self, baud):
        self._uart.init(baudrate=baud)

    def close(self):
        self._uart.deinit()


def _pin_map(name):
    from reader import config

    chip = "esp32s3" if "S3" in os.uname().machine else "esp32"
    if not name or name == "esp32":  # no config yet; "esp32": the board's name before pin maps
        name = "esp32-s3-devkitc" if chip == "esp32s3" else "esp32-devkitc"
    spec = config.board_spec(name)
    if spec is None or spec.get("mcu") not in ("esp32", "esp32s3"):
        raise ValueError("no ESP32 pin map /boards/" + name + ".json")
    if spec["mcu"] != chip:
        # Another chip's pins may be its flash or PSRAM lines (GPIO26-32 on an S3): never drive them.
        raise ValueError("pin map " + name + " is for an " + spec["mcu"] + ", this chip is an " + chip)
    return spec


class Board:
    """``Board(name, stored)``: the pin map ``/boards/<name>.json`` (None: this chip's default) and
    the stored config."""

    def __init__(self, name=None, stored=None):
        spec = _pin_map(name)
        stored = stored or {}
        self.spec = spec
        self.name = spec["board"]
        self.serial = stored.get("serial") or "".join("%02X" % b for b in machine.unique_id())  # noqa: UP031
        pn = spec.get("pn532") or {}
        self.has_frontend = pn.get("interface") in ("hsu", "i2c", "spi")
        self.pn532_baud = (pn.get("hsu") or {}).get("baudrate", _HSU_RESET_BAUD)
        # Switched to after start-up with SetSerialBaudRate (UM0701-02 §7.2.8): HSU only.
        fast = stored.get("pn532_baud") if pn.get("interface") == "hsu" else None
        self.pn532_fast_baud = fast if fast and fast != self.pn532_baud else None
        self.link_kind = stored.get("link") or spec["link"]["kind"]
        self.link = self._open_link(spec["link"], stored)
        ui = spec.get("ui") or {}
        self._green = _out(ui.get("led_green"))
        self._red = _out(ui.get("led_red"))
        self._buzzer = _out(ui.get("buzzer"))  # held low: the NPN driver stays off
        self._pwm = None

    def _open_link(self, link, stored):
        if self.link_kind == "uart" and "tx" in link and "rx" in link:
            baud = stored.get("link_baud") or link.get("baudrate", 115200)
            return UARTStream(link["uart"], link["tx"], link["rx"], baud, _LINK_RXBUF)
        # The REPL port carries the link: 0x03 must be data, not KeyboardInterrupt (research §5.2).
        # Its rate is left alone: changing UART0 would also cut off mpremote and the boot log.
        micropython.kbd_intr(-1)
        return StdioStream(sys.stdin.buffer, sys.stdout.buffer)

    def pn532_bus(self):
        """The PN532 bus of the pin map, with RSTPD_N held high (not in reset) when it is wired."""
        pn = self.spec["pn532"]
        kind = pn["interface"]
        rst = _out(pn.get("reset"), 1)
        if kind == "i2c":
            from reader.pn532.bus_i2c import I2cBus, open_i2c

            c = pn["i2c"]
            freq = c.get("freq", 100000)
            return I2cBus(open_i2c(c["bus"], c["scl"], c["sda"], freq), freq=freq, reset_pin=rst)
        if kind == "spi":
            from reader.pn532.bus_spi import SpiBus, open_spi

            c = pn["spi"]
            freq = c.get("baudrate", 1000000)
            spi = open_spi(c["bus"], c["sck"], c["mosi"], c["miso"], freq)
            return SpiBus(spi, _out(c["cs"], 1), freq=freq, reset_pin=rst)
        from reader.pn532.bus_hsu import HsuBus

        return HsuBus(self.open_pn532(), self.pn532_baud, reset_pin=rst)

    def open_pn532(self):
        c = self.spec["pn532"]["hsu"]
        return UARTStream(c["uart"], c["tx"], c["rx"], self.pn532_baud, _PN532_RXBUF)

    def outputs(self, green, red, tone_hz):
        if self._green is not None:
            self._green.value(green)
        if self._red is not None:
            self._red.value(red)
        if self._buzzer is None:
            return
        if tone_hz:
            if self._pwm is None:
                self._pwm = machine.PWM(self._buzzer, freq=tone_hz, duty_u16=_BUZZER_DUTY)
            else:
                self._pwm.freq(tone_hz)
                self._pwm.duty_u16(_BUZZER_DUTY)
        elif self._pwm is not None:
            self._pwm.duty_u16(0)

    def watchdog(self):
        return machine.WDT(timeout=WDT_MS)

    def reset(self):
        machine.reset()
