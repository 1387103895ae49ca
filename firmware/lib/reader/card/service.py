"""Card layer, service: the card session behind the card.* and apdu ops, presence events.

Owns the card state (none / active / released-and-waiting-for-the-field-to-empty) and the idle
poller; reports faults as ReaderFault subclasses. Request bodies are checked before they get here
(``reader.card.ops``). It never builds PN532 frames and never writes to the link except through
``ctx``.
"""

import gc

from micropython import const

from reader import clock
from reader.card.iso14443 import RESP_MAX
from reader.errors import APDUTooLarge, Cancelled, NoFrontend, ReaderFault
from reader.link import codes

_POLL_MS = const(200)  # idle activation attempts while no card is active
_PRESENCE_MS = const(250)  # idle presence checks while a card is active
_RETRY_UP_MS = const(2000)  # idle re-initialisation attempts while the PN532 is down
_WAIT_SLICE_MS = const(20)
_BATCH_BUDGET = const(1900)  # response bytes a batch may collect: MAX_PAYLOAD minus envelope room


def _reserve(apdu):
    """Reply bytes to keep for ``apdu``'s response before running it (SPEC.md §4): Ne from its Le
    field (ISO/IEC 7816-4 §5.1: cases 2 and 4, short and extended), at most RESP_MAX, plus SW1 SW2
    and the byte string's CBOR head. Without Le (cases 1 and 3) a short response's 256: many cards
    answer a SELECT with its FCI all the same. A command that fits no case gets RESP_MAX."""
    n = len(apdu)
    ne = RESP_MAX
    if n == 4:
        ne = 256  # case 1
    elif apdu[4]:
        if n == 5:
            ne = apdu[4]  # case 2S
        elif n == 5 + apdu[4]:
            ne = 256  # case 3S
        elif n == 6 + apdu[4]:
            ne = apdu[n - 1] or 256  # case 4S
    elif n == 5:
        ne = 256  # case 2S, Le 00
    elif n == 7:
        ne = (apdu[5] << 8 | apdu[6]) or 65536  # case 2E
    else:
        lc = apdu[5] << 8 | apdu[6] if n > 7 else 0  # an extended Lc is 1..65535
        if lc and n == 7 + lc:
            ne = 256  # case 3E
        elif lc and n == 9 + lc:
            ne = (apdu[n - 2] << 8 | apdu[n - 1]) or 65536  # case 4E
    return (ne if ne < RESP_MAX else RESP_MAX) + 6


def _now():
    return clock.ticks_ms()


def _sw(resp):
    n = len(resp)
    return (resp[n - 2] << 8) | resp[n - 1]


class CardService:
    """``svc = CardService(board)``; ``svc.install(app)`` registers the ops and the idle hook.

    The board gives the front-end either as ``board.pn532_bus()`` (an I2C/SPI/HSU bus object) or
    as ``board.open_pn532()`` (a byte stream for the HSU bus).
    """

    def __init__(self, board, bus=None, dev=None, resp=None):
        self.board = board
        self._resp = resp  # the ISO-DEP response buffer if allocated early (reader.card.iso14443)
        self._bus = bus
        self.dev = dev
        self.rf = None
        self.card = None
        self._used = False  # APDUs were exchanged with the active card since its activation
        self.await_empty = False  # after card.release: no card.present until the field empties
        self._released_uid = None
        self._next_up = 0
        self._next_poll = 0
        self._up = False

    # --- wiring ------------------------------------------------------------------------

    def _build(self):
        from reader.card.iso14443 import Iso14443
        from reader.pn532.device import PN532

        if self.dev is None:
            bus = self._bus
            if bus is None:
                make = getattr(self.board, "pn532_bus", None)
                if make is not None:
                    bus = make()
                else:
                    from reader.pn532.bus_hsu import HsuBus

                    try:
                        stream = self.board.open_pn532()
                    except OSError as exc:
                        raise NoFrontend(f"PN532 port did not open: {exc}") from None
                    if stream is None:
                        raise NoFrontend("board has no PN532")
                    bus = HsuBus(
                        stream,
                        getattr(self.board, "pn532_baud", 115200),
                        ack_slack_ms=getattr(self.board, "pn532_ack_slack_ms", 0),
                    )
                self._bus = bus
            self.dev = PN532(bus, baud=getattr(self.board, "pn532_fast_baud", None))
        if self.rf is None:
            gc.collect()  # its response buffer needs contiguous blocks in a fragmented heap
            self.rf = Iso14443(self.dev, resp=self._resp)

    def install(self, app):
        from reader.card.ops import register

        register(app, self)
        # Loading ops left the loader's buffers behind; collected now, they do not scatter the
        # long-lived PN532 and ISO-DEP buffers that start() allocates (4 KiB less peak heap).
        gc.collect()
        app.add_idle(self.idle)
        try:
            self.start()
        except NoFrontend:
            pass  # retried from idle; hello reports frontend null meanwhile

    def start(self):
        self._build()
        self._up = False
        self.card = None
        self._next_up = clock.ticks_add(_now(), _RETRY_UP_MS)
        self.dev.begin()
        self._up = True

    def frontend_name(self):
        if not self._up or self.dev is None:
            return None
        return self.dev.name()

    def selftest(self, ctx=None):
        """``selftest`` (SPEC.md §4): GetFirmwareVersion (UM0701-02 §7.2.2) names the front-end
        and its firmware; RFConfiguration item 1 (§7.3.1) switches the RF field off and on again.
        An active card does not survive the field going off: it is reported removed first."""
        out = {"frontend": None, "firmware": None, "rf": False, "ok": False}
        try:
            self._ensure_up()
            ic, ver, rev, _ = self.dev.get_firmware_version()
            out["frontend"] = "PN5%02X" % ic  # noqa: UP031 - IC 0x32 is the PN532
            out["firmware"] = f"{ver}.{rev}"
            self._lost(ctx)
            self.dev.rf_field(False)
            self.dev.rf_field(True)
            out["rf"] = True
        except NoFrontend:
            return out
        except ReaderFault as exc:
            self._fault(ctx, exc)  # counts towards the re-initialisation that restores the field
            return out
        out["ok"] = True
        return out

    def _ensure_up(self):
        if not self._up:
            self.start()

    # --- state changes -----------------------------------------------------------------

    def _activated(self, ctx, card):
        self.card = card
        self._used = False
        self.await_empty = False
        if ctx is not None:
            ctx.emit(codes.OP_EV_CARD_PRESENT, card.info())

    def _lost(self, ctx):
        """The active card is gone (or its state unknown): card.removed, back to polling."""
        card = self.card
        self.card = None
        if card is not None and ctx is not None:
            ctx.emit(codes.OP_EV_CARD_REMOVED, {"uid": card.target.uid})

    def _fault(self, ctx, exc):
        """Bookkeeping after a fault during a card operation; the caller re-raises."""
        # An aborted or failed exchange leaves the ISO-DEP block state unknown: treat the card
        # as gone; the idle poller re-activates it if it is still there.
        if exc.code not in (codes.E_APDU_TOO_LARGE, codes.E_NOT_ACTIVE, codes.E_BAD_ARGUMENT):
            self._lost(ctx)
        if self.dev is not None:
            try:
                if self.dev.maybe_reinit():
                    self._lost(ctx)
            except NoFrontend:
                self._up = False
                self._lost(ctx)

    def _with_keepalive(self, ctx):
        if self.dev is not None:
            self.dev.chip.keepalive = ctx.keepalive if ctx is not None else None

    # --- operations (logic below the schema layer) ---------------------------------------

    def wait_card(self, ctx, timeout_ms):
        """Return the active card's info, or poll until one comes; E_NO_CARD after timeout."""
        self._ensure_up()
        if self.card is not None:
            if not self._used:
                return self.card.info()
            # An earlier session exchanged APDUs and never released the card: it may still hold
            # that session's state (secure messaging, the selected application). A new session
            # starts from a fresh activation (ISO/IEC 14443-4 §8: deselection ends it).
            self.release(ctx)
            self.await_empty = False
        deadline = clock.ticks_add(_now(), timeout_ms)
        self._with_keepalive(ctx)
        try:
            while True:
                try:
                    card = self.rf.poll()
                except Cancelled:
                    raise
                except ReaderFault as exc:
                    self._fault(ctx, exc)
                    if not self._up:
                        raise NoFrontend("PN532 lost: " + exc.message) from None
                    card = None
                if card is not None:
                    self._activated(ctx, card)
                    return card.info()
                left = clock.ticks_diff(deadline, _now())
                if left <= 0:
                    raise ReaderFault(f"no card within {timeout_ms} ms", code=codes.E_NO_CARD)
                if ctx is not None:
                    ctx.keepalive(min(_WAIT_SLICE_MS, left))
                else:
                    clock.sleep_ms(min(_WAIT_SLICE_MS, left))
        finally:
            self._with_keepalive(None)

    def _active(self):
        self._ensure_up()
        if self.card is None:
            raise ReaderFault("no card is active", code=codes.E_NOT_ACTIVE)
        self._used = True
        return self.card

    def transmit(self, ctx, apdu):
        """One APDU; returns the response as new bytes."""
        card = self._active()
        self._with_keepalive(ctx)
        try:
            return bytes(self.rf.transceive(card, apdu))
        except APDUTooLarge:
            raise
        except ReaderFault as exc:
            self._fault(ctx, exc)
            raise
        finally:
            self._with_keepalive(None)

    def transmit_batch(self, ctx, apdus, cont):
        """APDUs back to back; stops after the first SW not in ``cont``, or before an APDU
        whose response might not fit the reply (the host sees fewer responses and resends the
        rest). A fault mid-batch is raised with ``index``: earlier responses are not delivered.
        ``apdus`` must have passed ``ops.check_apdu`` each: nothing here may refuse one half-way."""
        card = self._active()
        out = []
        used = 0  # reply bytes: each response and its CBOR head
        at = 0  # where the next response goes in the ISO-DEP response buffer
        self._with_keepalive(ctx)
        try:
            for i in range(len(apdus)):
                if i and used + _reserve(apdus[i]) > _BATCH_BUDGET:
                    break
                try:
                    # Side by side in the ISO-DEP response buffer: memoryviews, no copies, so a
                    # batch needs no contiguous room in a fragmented heap.
                    resp = self.rf.transceive(card, apdus[i], at)
                except ReaderFault as exc:
                    if not isinstance(exc, APDUTooLarge):
                        self._fault(ctx, exc)
                    elif 0 < exc.length <= RESP_MAX:
                        # It ran past the buffer's end only: longer than the room the budget
                        # kept for its Le (a card answering beyond Le), as below.
                        exc = ReaderFault("response longer than the reply can carry", code=codes.E_CARD_PROTOCOL)
                    d = exc.detail if exc.detail else {}
                    d["index"] = i
                    exc.detail = d
                    raise exc from None
                out.append(resp)
                at += len(resp)
                used += len(resp) + 3
                if used > _BATCH_BUDGET:
                    # Longer than the room reserved for its Le (a card answering beyond Le): the
                    # reply could not carry it, so the batch fails here, typed.
                    msg = "response longer than the reply can carry"
                    raise ReaderFault(msg, {"index": i}, code=codes.E_CARD_PROTOCOL)
                if _sw(resp) not in cont:
                    break
                if ctx is not None:
                    ctx.keepalive()
        finally:
            self._with_keepalive(None)
        return out

    def release(self, ctx):
        card = self._active()
        self.card = None
        self.await_empty = True
        self._released_uid = card.target.uid
        try:
            self.rf.release(card)
        except ReaderFault as exc:
            self._fault(ctx, exc)
            raise

    def idle(self, ctx):
        """Presence polling between requests: card.present / card.removed events."""
        now = _now()
        if not self._up:
            if clock.ticks_diff(now, self._next_up) < 0:
                return
            try:
                self.start()
            except NoFrontend:
                return
        if clock.ticks_diff(now, self._next_poll) < 0:
            return
        try:
            if self.card is not None:
                self._next_poll = clock.ticks_add(now, _PRESENCE_MS)
                if not self.rf.present(self.card):
                    self._lost(ctx)
                return
            self._next_poll = clock.ticks_add(now, _POLL_MS)
            card = self.rf.poll()
            if card is None:
                if self.await_empty and ctx is not None:
                    # The released card has left: close its present/removed pair.
                    ctx.emit(codes.OP_EV_CARD_REMOVED, {"uid": self._released_uid})
                self.await_empty = False
            elif self.await_empty:
                self.rf.release(card)  # the released card is still there: stay quiet
            else:
                self._activated(ctx, card)
        except ReaderFault as exc:
            self._fault(ctx, exc)
