"""Board layer: the unix port (and CPython) as a reader. Host link on stdio, PN532 on a socket.

Environment: PARTYCARD_SERIAL (default "SIM-0001"); PARTYCARD_PN532_SOCKET, the path of an AF_UNIX
stream socket where a PN532 (the simulator's virtual one) speaks HSU frames (``unix_socket.py``);
unset means no front-end.
"""

import os
import sys

from reader.boards import StdioStream


def _getenv(name, default=None):
    value = os.getenv(name)
    return default if value is None or value == "" else value


REBOOT_STATUS = 75  # exit status of ``reboot`` (EX_TEMPFAIL): the simulator starts the firmware again


class Board:
    """The unix port as a reader: ``Board(name, stored)``; a PC has no pins, so no pin map is read.
    The stored config's ``serial`` wins over env PARTYCARD_SERIAL."""

    name = "unix"
    # The simulated PN532 is served by a thread of the host process, which shares its interpreter
    # lock with the host's own work (elliptic-curve arithmetic, garbage collection), so its ACK can
    # come far later than a chip's 15 ms (UM0701-02 §6.2.3). Resending then would hand a
    # non-idempotent InDataExchange to the card twice; wait for the ACK instead.
    pn532_ack_slack_ms = 500
    # After start-up the PN532 line is switched to its fastest rate, SetSerialBaudRate
    # 1 288 000 baud (UM0701-02 §7.2.8); an ESP32 board does so when its config names pn532_baud.
    pn532_fast_baud = 1288000

    def __init__(self, name=None, stored=None):
        stored = stored or {}
        self.serial = stored.get("serial") or _getenv("PARTYCARD_SERIAL", "SIM-0001")
        self._pn532_path = _getenv("PARTYCARD_PN532_SOCKET")
        self.has_frontend = self._pn532_path is not None
        self.link = StdioStream()
        self.outputs_state = (0, 0, 0)
        self.feeds = 0

    def open_pn532(self):
        if self._pn532_path is None:
            return None
        from reader.boards.unix_socket import SocketStream

        return SocketStream(self._pn532_path)

    def outputs(self, green, red, tone_hz):
        self.outputs_state = (green, red, tone_hz)  # no LEDs on a PC; kept for tests and diag

    def watchdog(self):
        return self  # stands in for machine.WDT: a process has nothing to reset; feeds are counted

    def feed(self):
        self.feeds += 1

    def reset(self):
        sys.exit(REBOOT_STATUS)
