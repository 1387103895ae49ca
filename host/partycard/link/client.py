"""Link layer, reader client: request/response sessions with one reader (SPEC.md §4–§6).

Sits on a :class:`~partycard.transport.base.Transport`; knows framing and messages but nothing of
APDU semantics, cards or verification. One request is outstanding at a time (stop and wait); the
one exception is :meth:`ReaderClient.cancel`, which another thread may call while a request runs.
Whichever waiting thread holds the read lock reads the port and hands every reply to its owner,
so no background thread is needed.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final

from partycard.errors import (
    CardError,
    CardRemoved,
    DeviceError,
    NoCard,
    PartycardError,
    ProtocolError,
    ReaderTimeout,
    VersionMismatch,
)
from partycard.link.bodies import CardInfo, HelloInfo, bytes_field, bytes_list_field
from partycard.link.codes import (
    MAX_BATCH,
    MAX_PAYLOAD,
    MAX_REQUEST_ID,
    MAX_WAIT_MS,
    PROTOCOL_VERSION,
    ErrorCode,
    Op,
)
from partycard.link.framing import FrameDecoder, encode_frame
from partycard.link.messages import Body, ErrorMessage, Event, Request, Response, from_payload
from partycard.transport.base import Transport

__all__ = ["CardInfo", "HelloInfo", "ReaderClient", "default_budget_s", "open_reader"]

log = logging.getLogger(__name__)
TRAFFIC: Final = 5  # below DEBUG: wire bytes may carry personal data from the card

# SPEC.md §6: ops the host may re-send on its own, because repeating them changes nothing.
IDEMPOTENT_OPS: Final = frozenset({Op.HELLO, Op.PING, Op.CONFIG_GET, Op.DIAG, Op.SELFTEST})
_KEEPALIVE_CEILING_S: Final = 30.0  # SPEC.md §6: keepalives stretch a budget by at most this
_POLL_S: Final = 0.05
_BANNER: Final = b"partycard-reader"
_EVENT_QUEUE: Final = 256
_RECENT: Final = 512
_SEQ_MOD: Final = MAX_REQUEST_ID + 1


def default_budget_s(op: str, body: Mapping[str, object]) -> float:
    """The host's default timeout for ``op`` (SPEC.md §6)."""
    if op in (Op.HELLO, Op.PING):
        return 2.0
    if op == Op.APDU:
        return 5.0
    if op == Op.APDU_BATCH:
        apdus = body.get("apdus")
        return 5.0 + float(len(apdus) if isinstance(apdus, list | tuple) else 0)
    if op == Op.CARD_WAIT:
        timeout_ms = body.get("timeout_ms")
        return (timeout_ms if isinstance(timeout_ms, int) else 0) / 1000 + 2.0
    return 5.0


@dataclass
class _Slot:
    """One request waiting for its reply."""

    id: int
    op: str
    budget_s: float
    started: float
    deadline: float
    ceiling: float
    reply: Response | ErrorMessage | None = None
    done: threading.Event = field(default_factory=threading.Event)


class _BannerSeen(PartycardError):
    """Internal: the reader printed its start-up banner while a hello was waiting (SPEC.md §6)."""


class ReaderClient:
    """A session with one reader over ``transport``.

    Counters for diagnostics: :attr:`events_lost` (gaps in event sequence numbers),
    :attr:`events_overflowed` (events dropped because nobody read the queue),
    :attr:`late_replies` (replies to requests no longer waited for), :attr:`rejected`
    (frames whose payload was not a valid message) and :attr:`frames_dropped` (runs that failed
    framing).
    """

    def __init__(self, transport: Transport, *, first_id: int | None = None) -> None:
        self._transport = transport
        self._decoder = FrameDecoder()
        self._next_id = secrets.randbelow(1 << 16) if first_id is None else first_id
        self._id_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._pending: dict[int, _Slot] = {}
        self._events: deque[Event] = deque()
        self._last_seq: int | None = None
        self._text = bytearray()
        self._recent = bytearray()  # the last bytes received, to explain a silent reader
        self._sent_any = False
        self._peer_max_payload = MAX_PAYLOAD
        self.banners = 0
        self.banner: str | None = None
        self.info: HelloInfo | None = None
        self.events_lost = 0
        self.events_overflowed = 0
        self.late_replies = 0
        self.rejected = 0
        self._card_fresh = False  # a card handed out by card.wait that no read has used yet

    # --- context manager and lifetime ----------------------------------------------------

    def __enter__(self) -> ReaderClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the transport. Pending waits end with ReaderDisconnected."""
        self._transport.close()

    @property
    def frames_dropped(self) -> int:
        """Runs dropped by the frame decoder (noise, bad CRC, oversize) since the start."""
        return self._decoder.dropped

    # --- operations ----------------------------------------------------------------------

    def hello(self, *, timeout_s: float | None = None, retries: int | None = None) -> HelloInfo:
        """Identify the reader and check that it speaks our protocol version (SPEC.md §8)."""
        return self._accept_hello(self.request(Op.HELLO, {}, timeout_s, retries=retries))

    def _accept_hello(self, body: Body) -> HelloInfo:
        info = HelloInfo.from_body(body)
        if info.protocol != PROTOCOL_VERSION:
            raise VersionMismatch(f"reader speaks protocol {info.protocol}, this host {PROTOCOL_VERSION}")
        self.info = info
        self._peer_max_payload = min(MAX_PAYLOAD, info.max_payload)
        return info

    def ping(self, data: bytes = b"") -> bytes:
        """Echo ``data`` through the reader; raises ProtocolError if the echo differs."""
        echo = bytes_field(self.request(Op.PING, {"data": bytes(data)}), "data")
        if echo != data:
            raise ProtocolError(f"ping echo of {len(echo)} bytes differs from the {len(data)} bytes sent")
        return echo

    def wait_card(self, timeout_s: float) -> CardInfo:
        """Wait up to ``timeout_s`` for a card and activate it. Raises NoCard after the timeout.

        One card.wait may last at most MAX_WAIT_MS (SPEC.md §4, below the reader's watchdog); a
        longer wait is a run of them."""
        left_ms = max(0, round(timeout_s * 1000))
        while True:
            slice_ms = min(left_ms, MAX_WAIT_MS)
            try:
                card = CardInfo.from_body(self.request(Op.CARD_WAIT, {"timeout_ms": slice_ms}))
                self._card_fresh = True
                return card
            except NoCard:
                left_ms -= slice_ms
                if left_ms <= 0:
                    raise

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; return the response data followed by SW1 SW2."""
        response = bytes_field(self.request(Op.APDU, {"apdu": bytes(apdu)}), "response")
        if len(response) < 2:
            raise ProtocolError("APDU response shorter than its status word")
        return response

    def transmit_batch(self, apdus: Sequence[bytes], continue_sw: Sequence[int] = (0x9000,)) -> list[bytes]:
        """Send APDUs back to back; stop after the first response whose SW is not in ``continue_sw``.

        Longer sequences than MAX_BATCH go as several batches, the next only if the previous one
        ran to its end.
        """
        results: list[bytes] = []
        for start in range(0, len(apdus), MAX_BATCH):
            chunk = [bytes(a) for a in apdus[start : start + MAX_BATCH]]
            body: Body = {"apdus": chunk}
            if tuple(continue_sw) != (0x9000,):
                body["continue"] = list(continue_sw)
            responses = bytes_list_field(self.request(Op.APDU_BATCH, body), "responses")
            if not responses or len(responses) > len(chunk) or any(len(r) < 2 for r in responses):
                raise ProtocolError(f"batch of {len(chunk)} APDUs answered with {len(responses)} responses")
            results += responses
            last_sw = int.from_bytes(responses[-1][-2:], "big")
            if len(responses) < len(chunk) or last_sw not in continue_sw:
                break
        return results

    def release(self) -> None:
        """Deactivate the current card."""
        self._card_fresh = False
        self.request(Op.CARD_RELEASE, {})

    def claim_card(self) -> None:
        """Mark the card from the last ``wait_card`` as used by a read (``read_document`` calls
        this). A second read in the same card session would find the application of the first
        selected and its secure messaging running, and fail in misleading ways (a PACE card
        looking like a BAC-only one): it is refused here instead."""
        if not self._card_fresh:
            raise CardError("no fresh card session: wait_card() first (again after each read, or release())")
        self._card_fresh = False

    def cancel(self, request_id: int) -> bool:
        """Ask the reader to cancel ``request_id``; True if it was running. Safe from another thread."""
        body = self.request(Op.CANCEL, {"request": request_id})
        cancelled = body.get("cancelled")
        if not isinstance(cancelled, bool):
            raise ProtocolError('cancel response lacks a boolean "cancelled"')
        return cancelled

    def next_event(self, timeout_s: float) -> Event | None:
        """The next queued event (keepalives excluded), waiting up to ``timeout_s``; None if none came."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._state_lock:
                if self._events:
                    return self._events.popleft()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if self._read_lock.acquire(timeout=min(remaining, _POLL_S)):
                try:
                    self._pump(min(remaining, _POLL_S))
                finally:
                    self._read_lock.release()

    @property
    def current_request_id(self) -> int | None:
        """The id of the oldest request still waiting (for :meth:`cancel` from another thread)."""
        with self._state_lock:
            waiting = [s for s in self._pending.values() if s.op != Op.CANCEL]
        return min(waiting, key=lambda s: s.started).id if waiting else None

    def request(
        self,
        op: str,
        body: Mapping[str, object] | None = None,
        timeout_s: float | None = None,
        *,
        retries: int | None = None,
    ) -> Body:
        """Send one request and return the response body.

        ``timeout_s`` defaults to the op's budget (SPEC.md §6). Idempotent ops are re-sent once
        after a timeout unless ``retries`` says otherwise; other ops never are. Raises
        ReaderTimeout, NoCard, CardRemoved, DeviceError, ProtocolError or a TransportError.
        """
        body = dict(body or {})
        budget = default_budget_s(op, body) if timeout_s is None else timeout_s
        attempts = 1 + (retries if retries is not None else (1 if op in IDEMPOTENT_OPS else 0))
        for attempt in range(attempts):
            try:
                return self._exchange(op, body, budget)
            except ReaderTimeout:
                if attempt + 1 >= attempts:
                    raise
                log.info("no reply to %s within %.1f s; sending it again", op, budget)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- connection set-up ---------------------------------------------------------------

    def connect(self, timeout_s: float = 5.0) -> HelloInfo:
        """Send hello until the reader answers (SPEC.md §6: it may reset when the port opens)."""
        deadline = time.monotonic() + timeout_s
        attempt_s = 0.5
        self._recent.clear()  # explain this wait only, never replay older traffic
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReaderTimeout(f"the reader did not answer hello within {timeout_s:.1f} s{self._said()}")
            try:
                return self._hello_once(min(remaining, attempt_s))
            except (ReaderTimeout, _BannerSeen):
                # Short attempts: a reader that was resetting answers the next hello after its banner.
                attempt_s = min(attempt_s + 0.25, 1.0)

    def recent_text(self) -> str:
        """Printable text among the last bytes received (a traceback tells why a reader went quiet)."""
        return "".join(chr(b) if 32 <= b < 127 or b == 10 else " " for b in self._recent).strip()

    def _said(self) -> str:
        text = self.recent_text()
        return f"; it last printed: {text[-300:]}" if text else "; it sent nothing"

    def _hello_once(self, timeout_s: float) -> HelloInfo:
        return self._accept_hello(self._exchange(Op.HELLO, {}, timeout_s, abort_on_banner=self.banners))

    # --- exchange machinery --------------------------------------------------------------

    def _take_id(self) -> int:
        with self._id_lock:
            ident = self._next_id
            self._next_id = 0 if ident >= MAX_REQUEST_ID else ident + 1
            return ident

    def _exchange(self, op: str, body: Body, budget_s: float, abort_on_banner: int | None = None) -> Body:
        ident = self._take_id()
        payload = Request(ident, op, body).to_payload()
        if len(payload) > self._peer_max_payload:
            limit = self._peer_max_payload
            raise ProtocolError(f"{op} request of {len(payload)} bytes exceeds the reader's limit of {limit}")
        now = time.monotonic()
        slot = _Slot(ident, op, budget_s, now, now + budget_s, now + budget_s + _KEEPALIVE_CEILING_S)
        with self._state_lock:
            self._pending[ident] = slot
        try:
            self._send(payload)
            self._wait(slot, abort_on_banner)
        finally:
            with self._state_lock:
                self._pending.pop(ident, None)
        reply = slot.reply
        if isinstance(reply, ErrorMessage):
            raise _raise_for(reply)
        if reply is None or reply.op != op:
            raise ProtocolError(f"reply to {op} names op {getattr(reply, 'op', None)!r}")
        return reply.body

    def _send(self, payload: bytes) -> None:
        frame = encode_frame(payload)
        if not self._sent_any:
            # SPEC.md §2: one delimiter first, so the reader drops whatever noise it has buffered.
            frame = b"\x00" + frame
            self._sent_any = True
        log.log(TRAFFIC, "send %s", frame.hex())
        with self._write_lock:
            self._transport.write(frame)

    def _wait(self, slot: _Slot, abort_on_banner: int | None) -> None:
        while not slot.done.is_set():
            if abort_on_banner is not None and self.banners != abort_on_banner:
                raise _BannerSeen("reader restarted")
            remaining = min(slot.deadline, slot.ceiling) - time.monotonic()
            if remaining <= 0:
                raise ReaderTimeout(f"no reply to {slot.op} (id {slot.id}) within {slot.budget_s:.1f} s")
            if self._read_lock.acquire(blocking=False):
                try:
                    if not slot.done.is_set():
                        self._pump(min(remaining, _POLL_S))
                finally:
                    self._read_lock.release()
            else:
                slot.done.wait(min(remaining, _POLL_S / 5))

    def _pump(self, timeout_s: float) -> None:
        """Read once from the transport and dispatch every complete message. Holds the read lock."""
        data = self._transport.read(timeout_s)
        if not data:
            return
        log.log(TRAFFIC, "recv %s", data.hex())
        self._recent += data
        del self._recent[:-_RECENT]
        self._scan_banner(data)
        for payload in self._decoder.feed(data):
            self._dispatch(payload)

    def _scan_banner(self, data: bytes) -> None:
        # The banner is text outside any frame (SPEC.md §1); frames are only looked at after it.
        self._text += data
        while True:
            start = self._text.find(_BANNER)
            if start < 0:
                del self._text[: max(0, len(self._text) - len(_BANNER))]
                return
            end = self._text.find(b"\n", start)
            if end < 0:
                del self._text[:start]
                if len(self._text) > 256:
                    self._text.clear()
                return
            self.banner = self._text[start:end].decode("utf-8", "replace").strip()
            self.banners += 1
            log.info("reader started: %s", self.banner)
            del self._text[: end + 1]

    def _dispatch(self, payload: bytes) -> None:
        try:
            message = from_payload(payload)
        except ProtocolError as exc:
            self.rejected += 1
            log.debug("dropped an invalid message: %s", exc)
            return
        if isinstance(message, Event):
            self._on_event(message)
        elif isinstance(message, Response | ErrorMessage):
            self._on_reply(message)
        else:
            self.rejected += 1  # a reader never sends requests

    def _on_reply(self, reply: Response | ErrorMessage) -> None:
        with self._state_lock:
            if reply.id is None:
                # SPEC.md §3.2: an error without id answers a request whose id was unreadable;
                # with stop and wait only the one outstanding request can be meant.
                candidates = list(self._pending.values())
                slot = candidates[0] if len(candidates) == 1 else None
            else:
                slot = self._pending.get(reply.id)
            if slot is None:
                self.late_replies += 1  # SPEC.md §6: a late reply of a timed-out request
                return
            slot.reply = reply
            slot.done.set()

    def _on_event(self, event: Event) -> None:
        with self._state_lock:
            self._track_seq(event.seq)
            if event.op == Op.EV_KEEPALIVE:
                ident = event.body.get("request")
                slot = self._pending.get(ident) if isinstance(ident, int) else None
                if slot is not None:
                    # SPEC.md §6: each keepalive restarts the budget, up to the hard ceiling.
                    slot.deadline = time.monotonic() + slot.budget_s
                return
            if len(self._events) >= _EVENT_QUEUE:
                self._events.popleft()
                self.events_overflowed += 1
            self._events.append(event)

    def _track_seq(self, seq: int) -> None:
        if self._last_seq is not None:
            expected = (self._last_seq + 1) % _SEQ_MOD
            if seq > expected:
                self.events_lost += seq - expected
            elif seq < expected:
                # Sequence numbers restart at 0 when the reader starts (SPEC.md §4); events
                # 0..seq-1 of the new start were missed.
                self.events_lost += seq
        self._last_seq = seq


def _raise_for(reply: ErrorMessage) -> PartycardError:
    """The host exception for a reader error (SPEC.md §5)."""
    if reply.code == ErrorCode.E_NO_CARD:
        return NoCard(reply.message)
    if reply.code == ErrorCode.E_CARD_REMOVED:
        return CardRemoved(reply.message)
    return DeviceError(reply.code, reply.message, reply.detail)


def open_reader(port: str, *, timeout_s: float = 5.0, baudrate: int = 115200) -> ReaderClient:
    """Open ``port`` exclusively, wait for the reader to answer hello, and check its protocol.

    Raises ReaderNotFound if the port cannot be opened, ReaderTimeout if no hello answer came
    within ``timeout_s``, VersionMismatch for a reader of another protocol version.
    """
    from partycard.transport.serial import SerialTransport

    transport = SerialTransport(port, baudrate=baudrate)
    client = ReaderClient(transport)
    try:
        client.connect(timeout_s)
    except BaseException:
        client.close()
        raise
    return client
