"""Kiosk service: one tap at a time — wait, read, verify, record, signal, wait for removal.

This is the only module that composes the reader client, chip reading, verification and the
outbox; it holds no protocol, card or crypto logic of its own. What it guarantees:

- a verdict is shown as ``valid`` only when verification said so over a complete read — a card
  pulled away mid-read, a reader error or a timeout produce a message and no verdict;
- a result is committed to the outbox before the panel says "recorded";
- a lost reader (unplugged, simulator stopped) is reconnected with backoff, never fatal;
- the backend being down only delays delivery: the outbox keeps every record.
"""

from __future__ import annotations

import hashlib
import logging
import os
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from partycard.card.reader import DocumentRead, MRZKey, read_document
from partycard.errors import (
    AccessControlError,
    CardError,
    CardRemoved,
    CredentialsRequired,
    DeviceError,
    NoCard,
    PartycardError,
    ReaderDisconnected,
    ReaderTimeout,
    TransportError,
)
from partycard.kiosk.panel import render_message, render_verdict
from partycard.link.client import CardInfo, ReaderClient

log = logging.getLogger(__name__)


class _Stopped(Exception):  # control flow inside the loop, never seen outside it
    """``run``'s stop condition came true while the kiosk was waiting for a reader."""


class Verifier(Protocol):
    """Turns a complete read into the pinned verdict JSON (``verify.Verdict.to_json()``)."""

    def __call__(self, read: DocumentRead, nonce: bytes) -> tuple[dict[str, Any], dict[str, str]]:
        """Return (verdict JSON, member summary); ``nonce`` is the AA challenge this kiosk issued."""
        ...


class Recorder(Protocol):
    """Commits a result record to the durable outbox and returns its record id."""

    def __call__(
        self, verdict: dict[str, Any], member: dict[str, str], *, reader_serial: str, firmware: str
    ) -> str: ...


@dataclass
class TapResult:
    """What one tap produced. ``verdict`` is None when the read did not complete; with a verdict,
    ``error`` says why it was not recorded."""

    verdict: dict[str, Any] | None
    member: dict[str, str] = field(default_factory=dict)
    record_id: str | None = None
    access: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Credentials:
    """What opens a card: the CAN printed on it (PACE), or its MRZ key (PACE-MRZ or BAC)."""

    can: str | None = None
    mrz: MRZKey | None = None


@dataclass
class KioskConfig:
    """Knobs of the loop."""

    card_wait_s: float = 2.0
    removal_wait_s: float = 30.0
    reconnect_max_s: float = 5.0
    aa_nonce_len: int = 8


class Kiosk:
    """The tap loop over one reader, reconnecting through ``connect`` whenever the reader is lost."""

    def __init__(
        self,
        connect: Callable[[], ReaderClient],
        verifier: Verifier,
        recorder: Recorder,
        *,
        config: KioskConfig | None = None,
        show: Callable[[str], None] = print,
        credentials: Callable[[CardInfo], Credentials] = lambda _card: Credentials(),
        ask: Callable[[str], Credentials | None] | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self._connect = connect
        self._verify = verifier
        self._record = recorder
        self.config = config or KioskConfig()
        self._show = show
        self._credentials = credentials
        self._ask = ask
        self._progress = progress
        self._reader: ReaderClient | None = None
        self._ops: frozenset[str] = frozenset()
        self._stop: Callable[[], bool] = lambda: False
        #: (digest of its files, record id) of the last recorded document whose removal was not seen.
        self._unremoved: tuple[bytes, str] | None = None
        self.serial = "unknown"
        self.firmware = "unknown"

    # -- reader lifecycle ----------------------------------------------------------------

    def reader(self) -> ReaderClient:
        """The connected reader, connecting (with backoff) when there is none."""
        delay = 0.2
        while self._reader is None:
            try:
                reader = self._connect()
                info = reader.hello()
                self._reader, self._ops = reader, frozenset(info.ops)
                self.serial, self.firmware = info.serial, info.firmware
                log.info("reader %s connected", self.serial)
            except TransportError as exc:
                log.warning("reader not available (%s); retrying in %.1f s", exc, delay)
                self._pause(delay)
                delay = min(delay * 2, self.config.reconnect_max_s)
        return self._reader

    def _pause(self, delay_s: float) -> None:
        """Sleep ``delay_s`` in short slices, so that a stop request (SIGTERM to a service whose
        reader is unplugged) ends the wait within a slice instead of never."""
        end = time.monotonic() + delay_s
        while not self._stop():
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.1))
        raise _Stopped

    def drop_reader(self) -> None:
        """Forget the reader after a transport failure; the next call reconnects."""
        if self._reader is not None:
            try:
                self._reader.close()
            except PartycardError:
                log.debug("closing a lost reader failed", exc_info=True)
        self._reader = None

    def signal(self, pattern: str) -> None:
        """LED/buzzer pattern on the reader; a reader without the ``ui`` op is left alone."""
        reader = self.reader()
        try:
            if "ui" in self._ops:
                reader.request("ui", {"pattern": pattern})
        except DeviceError as exc:
            log.warning("reader refused UI pattern %s: %s", pattern, exc)

    # -- one tap -------------------------------------------------------------------------

    def tap(self) -> TapResult | None:
        """Wait briefly for a card, read, verify, record, show and signal; None when no card came.

        The caller waits for the card to leave (``wait_removal``) before the next tap.
        """
        reader = self.reader()
        try:
            card = reader.wait_card(self.config.card_wait_s)
        except NoCard:
            return None
        result = self._process(reader, self._credentials(card))
        self._present(result)
        if result.verdict is not None and result.record_id is None:
            self.signal("error")  # a verdict nobody will find in the records: the clerk must see it
        else:
            self.signal("ok" if result.verdict and result.verdict["verdict"] == "valid" else "fail")
        return result

    def _read(self, reader: ReaderClient, creds: Credentials, nonce: bytes) -> DocumentRead:
        """Read the card; when it needs a CAN or MRZ nobody gave, ask once (e.g. at the terminal)."""
        try:
            return self._read_with(reader, creds, nonce)
        except CredentialsRequired as exc:
            asked = self._ask(exc.needs) if self._ask is not None else None
            if asked is None:
                raise
            return self._read_with(reader, asked, nonce)

    def _read_with(self, reader: ReaderClient, creds: Credentials, nonce: bytes) -> DocumentRead:
        return read_document(
            reader, can=creds.can, mrz=creds.mrz, aa_challenge=nonce, progress=self._progress
        )

    def _process(self, reader: ReaderClient, creds: Credentials) -> TapResult:
        nonce = os.urandom(self.config.aa_nonce_len)
        try:
            read = self._read(reader, creds, nonce)
        except CardRemoved:
            return TapResult(None, error="The card was taken away during the read. Please tap again.")
        except AccessControlError as exc:
            return TapResult(None, error=f"The card refused access: {exc}")
        except CardError as exc:
            return TapResult(None, error=f"The card could not be read: {exc}")
        return self._judge(read, nonce)

    def _judge(self, read: DocumentRead, nonce: bytes) -> TapResult:
        """Verify a complete read and record its result (once per document on the reader)."""
        try:
            verdict, member = self._verify(read, nonce)
        except PartycardError as exc:
            log.error("verification failed: %s", exc)
            return TapResult(None, error=f"The card could not be verified: {exc}")
        digest = _document_digest(read)
        if self._unremoved is not None and self._unremoved[0] == digest:
            # The same document again, and its removal was never seen (the reader restarted or
            # timed out while it lay there): the same tap, already recorded.
            log.info("document still on the reader; its result %s stands", self._unremoved[1])
            return TapResult(verdict, member, self._unremoved[1], access=read.access_control)
        try:
            record_id = self._record(verdict, member, reader_serial=self.serial, firmware=self.firmware)
        except PartycardError as exc:
            # Shown with its verdict and signalled; the card is then waited away like any other,
            # so a failing outbox does not turn one card into a stream of reads.
            log.error("result not recorded: %s", exc)
            return TapResult(verdict, member, None, access=read.access_control, error=f"NOT RECORDED: {exc}")
        self._unremoved = (digest, record_id)
        return TapResult(verdict, member, record_id, access=read.access_control)

    def _present(self, result: TapResult) -> None:
        if result.verdict is None:
            self._show(render_message("NOT VERIFIED", result.error or "unknown error"))
            return
        shown = [(k, v) for k, v in result.member.items() if k in _SHOWN]
        self._show(render_verdict(result.verdict, shown, access=result.access, recorded=result.record_id,
                                  problem=result.error))

    def wait_removal(self) -> bool:
        """Wait up to ``removal_wait_s`` for the card to leave; True once it has.

        The reader reports a released card leaving the field with a ``card.removed`` event. When
        none came in time (an event can be lost), one activation attempt decides. A card left on
        the reader is never read or recorded twice: the caller keeps waiting while this is False.
        """
        gone = self._removed()
        if gone:
            self._unremoved = None
        return gone

    def _removed(self) -> bool:
        reader = self.reader()
        try:
            reader.release()
        except (CardError, DeviceError):
            return True
        deadline = time.monotonic() + self.config.removal_wait_s
        while (left := deadline - time.monotonic()) > 0:
            if self._stop():
                raise _Stopped  # a service stop must not wait for a card to be taken away
            event = reader.next_event(min(left, 0.2))
            if event is not None and event.op == "card.removed":
                return True
        try:
            reader.wait_card(_PROBE_S)
        except NoCard:
            return True
        return False  # still there (and active again: the next wait releases it first)

    # -- the loop ------------------------------------------------------------------------

    def run(self, *, taps: int | None = None, stop: Callable[[], bool] = lambda: False) -> list[TapResult]:
        """Serve taps until ``stop()`` or until ``taps`` verdict-or-error results were produced."""
        results: list[TapResult] = []
        self._stop = stop
        try:
            while not stop() and (taps is None or len(results) < taps):
                if self._serve_one(results, taps, stop):
                    break
        except _Stopped:
            pass
        finally:
            self._stop = lambda: False
        return results

    def _serve_one(self, results: list[TapResult], taps: int | None, stop: Callable[[], bool]) -> bool:
        """One tap and its removal; True when ``taps`` results are reached."""
        try:
            result = self.tap()
            if result is not None:
                results.append(result)
                if taps is not None and len(results) >= taps:
                    return True
                while not self.wait_removal() and not stop():
                    log.info("card still on the reader; waiting for it to leave")
        except (ReaderDisconnected, ReaderTimeout, TransportError) as exc:
            log.warning("reader lost: %s", exc)
            self._show(render_message("READER DISCONNECTED", "Reconnecting…"))
            self.drop_reader()
        except DeviceError as exc:
            # The reader's state is unknown (it may have restarted mid-read): start afresh.
            log.warning("reader error: %s", exc)
            self._show(render_message("READER ERROR", f"{exc.code_name}: please tap again"))
            self.drop_reader()
        except PartycardError as exc:
            # Anything else (a full outbox, an unreadable denylist) is shown and logged; the
            # kiosk keeps serving rather than wedge.
            log.error("tap failed: %s", exc)
            self._show(render_message("NOT RECORDED", textwrap.shorten(str(exc), 160, placeholder=" …")))
        except _Stopped:
            raise  # run's own stop, not a fault
        except Exception:  # a fault of ours that a card found: one tap fails, not the kiosk
            log.exception("tap failed with an internal error")
            self._show(render_message("INTERNAL ERROR", "This card could not be handled; it was not recorded."))
            self.drop_reader()
        return False


def _document_digest(read: DocumentRead) -> bytes:
    """Every file read, names and lengths included: the same document, whether or not it has an
    EF.SOD (a forgery without one must not pass for another forgery without one)."""
    h = hashlib.sha256()
    for name in sorted(read.files):
        data = read.files[name]
        h.update(f"{name}:{len(data)}:".encode())
        h.update(data)
    return h.digest()


# How long one activation attempt may take when probing whether a card is still there.
_PROBE_S = 1.0

# Member fields the panel shows (keys of the member summary the verifier returns).
_SHOWN = ("Name", "Card number", "Member id", "Organisation")
