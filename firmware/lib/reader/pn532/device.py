"""PN532 device operations, named after UM0701-02 §7 commands. No card policy, no link, no events.

Every method sends one command (or one chained series) through the Chipset and decodes its answer.
Start-up follows AN10609 §4 / UM0701-02: after reset the PN532 is in LowVbat and SAMConfiguration
must be the first command; the passive-activation retry count is bounded because the default
(0xFF) makes InListPassiveTarget wait forever without a card (UM0701-02 §7.3.1, item 5).
"""

from micropython import const

from reader import clock
from reader.errors import APDUTooLarge, NoFrontend, ReaderFault
from reader.link import codes
from reader.pn532.chipset import STATUS_ERR, STATUS_MI, Chipset, status_fault
from reader.pn532.targets import BRTY_106A, BRTY_106B, decode_target_a, decode_target_b

_DATA_MAX = const(262)  # InDataExchange DataOut/DataIn limit (UM0701-02 §7.3.8)
_RESET_AFTER = const(3)  # consecutive dialog faults before a full re-init

# SetSerialBaudRate codes (UM0701-02 §7.2.8)
BAUDS = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1288000)

# SetParameters flags (UM0701-02 §7.2.9): AutoATR_RES and AutoRATS, so that InListPassiveTarget
# returns the ATS and InDataExchange runs ISO-DEP inside the chip.
_PARAMS_DEFAULT = const(0x14)

_LIST_TIMEOUT_MS = const(400)
_EXCHANGE_TIMEOUT_MS = const(5000)  # ISO-DEP with WTX handled in the chip (research §1.8)
# The longest response ISO/IEC 7816-4 §5.1 allows: Ne 65536 and SW1 SW2. A card chaining past it,
# or in more parts than such a response needs (the PN532 hands over up to 262 bytes a part; 512
# leaves room for smaller ones), is broken or hostile: draining it would hold the reader until the
# watchdog resets it.
_CHAIN_MAX = const(65538)
_CHAIN_PARTS = const(512)


class PN532:
    """Operations of one PN532. ``begin()`` must succeed before the others."""

    def __init__(self, bus, max_passive_retries=1, baud=None):
        self.bus = bus
        self.chip = Chipset(bus)
        self.max_passive_retries = max_passive_retries
        self.want_baud = baud  # switch the HSU line after start-up (SetSerialBaudRate)
        self.firmware = None  # (ic, ver, rev, support) from GetFirmwareVersion
        self.reinits = 0
        self._xh = bytearray(2)  # InDataExchange head: code, Tg
        self._xh[0] = 0x40

    # --- start-up and recovery ---------------------------------------------------------

    def begin(self):
        """Wake, configure and identify the PN532. Raises NoFrontend when it does not answer."""
        self.firmware = None
        try:
            self.bus.reset()
            self.bus.wakeup()
            self.sam_configuration()
            self.get_firmware_version()
            self.set_parameters(_PARAMS_DEFAULT)
            self.set_max_retries(0x02, 0x01, self.max_passive_retries)
            self.set_timeouts(0x0B, 0x0A)
            self.rf_field(True)
            if self.want_baud and self.want_baud != self.bus.baud:
                self.set_serial_baudrate(self.want_baud)
        except ReaderFault as exc:
            self.firmware = None
            raise NoFrontend("PN532 did not start: " + exc.message, {"cause": exc.code}) from None

    def name(self):
        if self.firmware is None:
            return None
        return f"PN532 v{self.firmware[1]}.{self.firmware[2]}"

    def maybe_reinit(self):
        """After _RESET_AFTER consecutive dialog faults, reset and re-initialise (True if done)."""
        if self.chip.fault_streak < _RESET_AFTER:
            return False
        self.chip.fault_streak = 0
        self.reinits += 1
        if self.want_baud and hasattr(self.bus, "set_baudrate") and self.bus.baud != 115200:
            # A reset PN532 comes back at 115200 (UM0701-02 §6.3.2.1); without a reset pin it
            # did not reset, so try both.
            if self.bus.reset():
                self.bus.set_baudrate(115200)
        self.begin()
        return True

    # --- §7.2 miscellaneous --------------------------------------------------------------

    def diagnose_echo(self, data):
        """Diagnose NumTst 0x00, communication line test: the PN532 echoes the data."""
        r = self.chip.command(b"\x00\x00", data)
        return bytes(r[1:]) if len(r) and r[0] == 0 else bytes(r)

    def diagnose_presence(self):
        """Diagnose NumTst 0x06 (UM0701-02 §7.2.1): is the ISO 14443-4 target still there?

        Returns True/False; a PN532 without an active target answers with an error status."""
        r = self.chip.command(b"\x00\x06", None, 300)
        return len(r) >= 1 and (r[0] & STATUS_ERR) == 0

    def get_firmware_version(self):
        r = self.chip.command(b"\x02")
        if len(r) < 4:
            raise ReaderFault("short firmware version", {"status": 0x7F}, code=codes.E_PN532_STATUS)
        fw = (r[0], r[1], r[2], r[3])
        if fw != self.firmware:
            # Kept from start-up when unchanged: a new tuple stored on each selftest would sit
            # among the blocks the request frees and split the heap's largest free run.
            self.firmware = fw
        return self.firmware

    def set_parameters(self, flags):
        self.chip.command(bytes((0x12, flags)))

    def sam_configuration(self, mode=1, timeout=0x14, irq=1):
        """SAMConfiguration (UM0701-02 §7.2.10); mode 1 = normal, no SAM."""
        self.chip.command(bytes((0x14, mode, timeout, irq)))

    def set_serial_baudrate(self, baud):
        """SetSerialBaudRate (UM0701-02 §7.2.8): response at the old rate, host ACK, then both
        sides switch."""
        if baud not in BAUDS:
            raise ReaderFault(f"unsupported PN532 baud rate {baud}", code=codes.E_BAD_ARGUMENT)
        self.chip.command(bytes((0x10, BAUDS.index(baud))))
        self.chip.send_ack()
        clock.sleep_ms(1 + self.bus.wire_ms(6))
        self.bus.set_baudrate(baud)
        clock.sleep_ms(2)

    def power_down(self, wake_sources=0x10):
        r = self.chip.command(bytes((0x16, wake_sources)))
        if len(r) and r[0] & STATUS_ERR:
            raise status_fault(r[0])

    # --- §7.3.1 RFConfiguration ----------------------------------------------------------

    def rf_configuration(self, item, data):
        self.chip.command(bytes((0x32, item)), data)

    def rf_field(self, on):
        self.rf_configuration(0x01, b"\x01" if on else b"\x00")

    def set_timeouts(self, atr_res_code, retry_code):
        """Item 0x02: fATR_RES_Timeout and fRetryTimeout, code n = 100 µs * 2^(n-1)."""
        self.rf_configuration(0x02, bytes((0x00, atr_res_code, retry_code)))

    def set_max_retries(self, atr, psl, passive):
        """Item 0x05; passive must not be 0xFF (that waits forever without a card)."""
        if passive >= 0xFF:
            raise ReaderFault("MxRtyPassiveActivation 0xFF never returns without a card", code=codes.E_BAD_ARGUMENT)
        self.rf_configuration(0x05, bytes((atr, psl, passive)))

    # --- §7.3 initiator ------------------------------------------------------------------

    def in_list_passive_target(self, brty=BRTY_106A, afi=0):
        """InListPassiveTarget for one target (UM0701-02 §7.3.5). Returns a Target or None."""
        if brty == BRTY_106B:
            head = bytes((0x4A, 1, BRTY_106B, afi))
        else:
            head = bytes((0x4A, 1, BRTY_106A))
        r = self.chip.command(head, None, _LIST_TIMEOUT_MS)
        if len(r) < 1 or r[0] == 0:
            return None
        if brty == BRTY_106B:
            return decode_target_b(r, 1)
        return decode_target_a(r, 1)

    def in_psl(self, tg, br_it, br_ti):
        r = self.chip.command(bytes((0x4E, tg, br_it, br_ti)))
        if len(r) < 1 or r[0] & STATUS_ERR:
            raise status_fault(r[0] if len(r) else 0x7F)

    def in_release(self, tg=0):
        r = self.chip.command(bytes((0x52, tg)))
        if len(r) >= 1 and r[0] & STATUS_ERR and (r[0] & STATUS_ERR) != 0x27:
            raise status_fault(r[0])

    def in_deselect(self, tg=0):
        r = self.chip.command(bytes((0x44, tg)))
        if len(r) >= 1 and r[0] & STATUS_ERR:
            raise status_fault(r[0])

    def _exchange(self, h, data, timeout_ms):
        # Once: the command reaches the card, and a resend could run an APDU twice or skip a part
        # of a chained response (reader.pn532.chipset).
        r = self.chip.command(h, data, timeout_ms, True)
        if len(r) < 1:
            raise ReaderFault("empty InDataExchange answer", {"status": 0x7F}, code=codes.E_PN532_STATUS)
        if r[0] & STATUS_ERR:
            raise status_fault(r[0])
        return r

    def in_data_exchange(self, tg, data, out, timeout_ms=_EXCHANGE_TIMEOUT_MS):
        """InDataExchange (UM0701-02 §7.3.8) with MI chaining both ways (§7.4.5): data longer
        than 262 bytes goes in chunks with the MI bit in Tg; a response with MI set is fetched
        by InDataExchange with Tg only. The response lands in ``out``; returns its length.
        Raises APDUTooLarge, with the response's ``length``, when it does not fit (the rest is drained
        so the chip stays in step), and E_CARD_PROTOCOL when the card chains past _CHAIN_MAX bytes
        or _CHAIN_PARTS parts.
        """
        h = self._xh
        dmv = memoryview(data)
        total = len(data)
        off = 0
        while True:
            chunk = total - off
            more = chunk > _DATA_MAX
            if more:
                chunk = _DATA_MAX
            h[1] = tg | (0x40 if more else 0)
            r = self._exchange(h, dmv[off : off + chunk], timeout_ms)
            off += chunk
            if not more:
                break
        h[1] = tg
        n = 0  # bytes of the response, also those that did not fit
        cap = len(out)
        parts = 1
        while True:
            st = r[0]
            m = len(r) - 1
            if n + m <= cap:
                out[n : n + m] = r[1:]
            n += m
            if n > _CHAIN_MAX or (st & STATUS_MI and parts >= _CHAIN_PARTS):
                raise ReaderFault("card response chained past what ISO/IEC 7816-4 allows", code=codes.E_CARD_PROTOCOL)
            if not st & STATUS_MI:
                break
            r = self._exchange(h, None, timeout_ms)
            parts += 1
        if n > cap:
            exc = APDUTooLarge(f"card response of {n} bytes, longer than {cap}")
            exc.length = n  # the caller may judge it against a limit of its own (card.service)
            raise exc
        return n
