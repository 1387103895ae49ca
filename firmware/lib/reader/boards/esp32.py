"""Board layer: an ESP32 with a PN532 on HSU. Imports machine; nothing above this layer does.

The host link is either the REPL port (USB-CDC or the UART0 bridge; ``LINK_UART`` None) or a
dedicated UART. The PN532 sits on a second UART at 115200 8N1, its HSU rate after reset.
Pins live in ``PINS`` for now.
"""

import sys

import machine
import micropython
from micropython import const

from reader.boards import Poller, StdioStream

_PN532_BAUD = const(115200)
_LINK_BAUD = const(115200)
# The ESP32 UART driver's default ring buffers are 256 bytes (ports/esp32/machine_uart.c); a frame is up to
# ~2.1 kB and a PN532 extended frame ~275 bytes, so both get room for a whole frame.
_LINK_RXBUF = const(4096)
_PN532_RXBUF = const(1024)

PINS = {
    "link_uart": None,  # None: the REPL port; else (uart id, tx, rx)
    "pn532_uart": (2, 17, 16),  # (uart id, tx, rx): UART2 on GPIO17/GPIO16 (ESP32-DevKitC)
    "led": 2,
}

_PATTERNS = {"off": 0, "idle": 0, "ready": 1, "busy": 1, "card": 1, "error": 1}


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


class Board:
    name = "esp32"
    has_frontend = True

    def __init__(self):
        self.serial = "".join("%02X" % b for b in machine.unique_id())  # noqa: UP031
        link = PINS["link_uart"]
        if link is None:
            # The REPL port carries the link: 0x03 must be data, not KeyboardInterrupt.
            micropython.kbd_intr(-1)
            self.link = StdioStream(sys.stdin.buffer, sys.stdout.buffer)
        else:
            self.link = UARTStream(link[0], link[1], link[2], _LINK_BAUD, _LINK_RXBUF)
        self._led = machine.Pin(PINS["led"], machine.Pin.OUT)

    def open_pn532(self):
        uart_id, tx, rx = PINS["pn532_uart"]
        return UARTStream(uart_id, tx, rx, _PN532_BAUD, _PN532_RXBUF)

    def led(self, pattern):
        self._led.value(_PATTERNS.get(pattern, 0))

    def reset(self):
        machine.reset()
