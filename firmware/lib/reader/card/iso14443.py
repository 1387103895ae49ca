"""Card layer, ISO/IEC 14443 over a PN532 device: activation, rate, relay. No link, no events.

It decides *which* device operations to run for a card (poll A then B, PPS when the ATS allows,
release); it does not speak the link protocol and emits no events.
"""

from micropython import const

from reader.errors import APDUTooLarge, CardRemovedFault, ReaderFault
from reader.link import codes
from reader.pn532 import targets

RESP_MAX = const(1280)  # largest card response relayed (MI chaining lets the PN532 deliver more)
# The response buffer holds one response of RESP_MAX, or an apdu.batch's responses side by side
# (reader.card.service, up to a reply's worth), so that a batch allocates nothing per response.
RESP_BUF = const(2048)
_APDU_MIN = const(4)  # CLA INS P1 P2 (ISO/IEC 7816-4 §5.1)
_SUPPORT_B = const(0x02)  # GetFirmwareVersion "Support" bit for ISO 14443-B


class Card:
    """The active card: what activation reported and at which rate it runs."""

    def __init__(self, target, rate):
        self.target = target
        self.rate = rate  # targets.RATE_106/212/424
        self.exchanges = 0

    def info(self):
        """Body of the card.wait response and of card.present (SPEC.md §4)."""
        t = self.target
        return {"type": t.kind, "uid": t.uid, "ats": t.ats, "atqb": t.atqb}


class Iso14443:
    """Activation and exchanges for one PN532."""

    def __init__(self, dev, try_b=True, use_psl=True, resp=None):
        """``resp``: the response buffer, RESP_BUF bytes, when the caller allocated it early
        (reader.startup does, before loading code scatters the heap); else it is allocated here."""
        self.dev = dev
        self.try_b = try_b
        self.use_psl = use_psl
        self.resp_mv = memoryview(resp if resp is not None else bytearray(RESP_BUF))

    def poll(self):
        """One activation attempt (type A, then type B on chips that support it).
        Returns a Card or None."""
        dev = self.dev
        can_b = self.try_b and dev.firmware is not None and dev.firmware[3] & _SUPPORT_B
        order = (targets.BRTY_106A, targets.BRTY_106B) if can_b else (targets.BRTY_106A,)
        for brty in order:
            t = dev.in_list_passive_target(brty)
            if t is not None:
                return Card(t, self._negotiate(t))
        return None

    def _negotiate(self, t):
        """PPS to the highest symmetric rate the ATS offers (ISO 14443-4 §5.3) via InPSL."""
        if not self.use_psl or t.kind != "A":
            return targets.RATE_106
        rate = targets.ats_max_rate(t.ats)
        if rate == targets.RATE_106:
            return rate
        try:
            self.dev.in_psl(t.tg, rate, rate)
        except CardRemovedFault:
            raise
        except Exception:  # a card that refuses PPS keeps working at 106 kbit/s
            return targets.RATE_106
        return rate

    def transceive(self, card, apdu, at=0):
        """Relay one command APDU; returns a memoryview of the response, written into the response
        buffer from offset ``at`` and valid until a call overwrites it. Raises APDUTooLarge (a
        response longer than RESP_MAX or than the room from ``at``), CardRemovedFault, or a
        ReaderFault E_BAD_ARGUMENT, E_CARD_PROTOCOL, ..."""
        n = len(apdu)
        if n > codes.MAX_APDU:
            msg = f"command APDU of {n} bytes exceeds {codes.MAX_APDU}"
            raise APDUTooLarge(msg, {"limit": codes.MAX_APDU})
        if n < _APDU_MIN:
            raise ReaderFault("a command APDU has at least 4 bytes", code=codes.E_BAD_ARGUMENT)
        if not card.target.iso_dep():
            raise ReaderFault("card does not speak ISO 14443-4", code=codes.E_CARD_PROTOCOL)
        card.exchanges += 1
        end = at + RESP_MAX if at + RESP_MAX < RESP_BUF else RESP_BUF
        m = self.dev.in_data_exchange(card.target.tg, apdu, self.resp_mv[at:end])
        if m < 2:
            raise ReaderFault("card response without status word", code=codes.E_CARD_PROTOCOL)
        return self.resp_mv[at : at + m]

    def present(self, card):
        return self.dev.diagnose_presence()

    def release(self, card):
        self.dev.in_release(0)
