"""Link layer: request dispatch, events, keepalive and cancel. No machine, no op logic.

``App`` is also the ``ctx`` every handler and idle hook receives: ``ctx.request_id``/``ctx.op``
(None when idle), ``ctx.board``, ``ctx.emit(op, body)``, ``ctx.keepalive(wait_ms=0)``.
Handlers are ``handler(ctx, body) -> dict``. A ReaderFault becomes an error with its code; any
other exception becomes E_INTERNAL, is logged, and the loop keeps serving (SPEC.md §5).
"""

import gc
import sys

from micropython import const

from reader import clock
from reader.errors import Cancelled, ReaderFault
from reader.link import codes, envelope
from reader.link.schema import check_keys, get_uint

# Keepalives go out a fifth early so that a handler polling every few tens of milliseconds still
# keeps every gap under KEEPALIVE_MS (SPEC.md §4: "at least every KEEPALIVE_MS").
_KEEPALIVE_SEND_MS = const(200)
_BIG_PAYLOAD = const(1024)
IDLE_PERIOD_MS = const(25)  # idle hooks run at least this often while no request is pending


def log_exception(exc):
    """Traceback to stderr: fd 2 on the unix port; on a board, text the host drops as noise."""
    try:
        sys.print_exception(exc, sys.stderr)
    except AttributeError:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)


def cancel(ctx, body):
    """``cancel`` (SPEC.md §4): true only for the request running right now."""
    check_keys(body, ("request",))
    target = get_uint(body, "request", hi=codes.MAX_REQUEST_ID)
    if ctx.op not in (None, codes.OP_CANCEL) and target == ctx.request_id:
        ctx.cancelled = True
        return {"cancelled": True}
    return {"cancelled": False}


class App:
    def __init__(self, port, board=None):
        self.port = port
        self.board = board
        self.handlers = {codes.OP_CANCEL: cancel}
        self.idle = []
        self.request_id = None
        self.op = None
        self.cancelled = False
        self.event_seq = 0
        self.errors = 0
        self._ka_at = 0
        self._idle_at = clock.ticks_ms()

    def register(self, op, handler):
        self.handlers[op] = handler

    def add_idle(self, fn):
        self.idle.append(fn)

    def ops(self):
        return sorted(self.handlers)

    def emit(self, op, body):
        seq = self.event_seq
        self.event_seq = (seq + 1) & 0xFFFFFFFF  # wraps like request ids do (SPEC.md §6)
        self.port.send(envelope.message(codes.T_EVENT, seq, op, body))

    def _error(self, fault, ident, op):
        self.errors += 1
        try:
            self.port.send(envelope.error(fault, ident, op))
            return
        except ReaderFault:
            pass
        # Longer than MAX_PAYLOAD: the echoed op is as long as the request let it be (SPEC.md §5).
        # It goes first, the detail stays (E_VERSION's "supported", a batch's "index"); the id
        # still names the request.
        try:
            self.port.send(envelope.error(fault, ident, None))
            return
        except ReaderFault:
            fault.detail = None  # a detail outside the CBOR subset: code and message only
        self.port.send(envelope.error(fault, ident, None))

    def _internal(self, exc, ident, op):
        log_exception(exc)
        # ReaderFault itself carries E_INTERNAL. Only the type (and a fault's code) is reported,
        # never the text, which may hold card data.
        what = type(exc).__name__
        if isinstance(exc, ReaderFault):
            what += f" 0x{exc.code:02X}"  # e.g. a reply that did not fit: ReaderFault 0x02 (E_LIMIT)
        self._error(ReaderFault("internal error: " + what), ident, op)

    def handle(self, payload):
        """Answer one request payload with exactly one response or error."""
        if len(payload) > _BIG_PAYLOAD:
            # Collected here, near the bottom of the stack: a collection that a failing allocation
            # starts deep in the decoder finds the last request's large objects still referenced
            # from stale stack slots (MicroPython's GC is conservative), and a 2 KB request after
            # a 2 KB request failed in a 64 KiB heap. Small requests, the APDUs, skip the cost.
            gc.collect()
        try:
            ident, op, body = envelope.parse(payload, self.handlers)
        except ReaderFault as fault:
            self._error(fault, envelope.echo[0], envelope.echo[1])
            return
        except MemoryError as exc:
            # A fragmented heap can fail a large request; free what it left and answer anyway.
            gc.collect()
            self._internal(exc, envelope.echo[0], envelope.echo[1])
            return
        self.request_id = ident
        self.op = op
        self.cancelled = False
        self._ka_at = clock.ticks_ms()
        try:
            result = self.handlers[op](self, body)
            if not isinstance(result, dict):
                raise TypeError("handler returned no dict")
        except ReaderFault as fault:
            self._error(fault, ident, op)
            result = None
        except EOFError:
            raise  # the link itself is gone: nothing to answer, serve_forever returns
        except Exception as exc:  # SPEC.md §5: anything else is E_INTERNAL and the loop goes on
            result = None
            if isinstance(exc, MemoryError):
                # The request's body may be what filled the heap: let it go before the error
                # reply is encoded, or that reply fails too and the request goes unanswered.
                body = None
                gc.collect()
            self._internal(exc, ident, op)
        if result is not None:
            try:
                self.port.send(envelope.message(codes.T_RESPONSE, ident, op, result))
            except ReaderFault as exc:  # a result outside the subset is the handler's bug
                self._internal(exc, ident, op)
            except MemoryError as exc:  # no room to encode the reply: say so in a short error
                result = None
                gc.collect()
                self._internal(exc, ident, op)
        self.request_id = None
        self.op = None

    def keepalive(self, wait_ms=0):
        """Keep the running request alive and serve the link for up to ``wait_ms``.

        Sends a ``keepalive`` event when one is due, answers ``cancel`` for this request (then
        raises Cancelled here) and E_BUSY to any other request. Idle, it only sleeps.
        """
        if self.request_id is None:
            if wait_ms:
                clock.sleep_ms(wait_ms)
            return
        now = clock.ticks_ms()
        if clock.ticks_diff(now, self._ka_at) >= _KEEPALIVE_SEND_MS:
            self._ka_at = now
            self.emit(codes.OP_EV_KEEPALIVE, {"request": self.request_id})
        payload = self.port.recv(wait_ms)
        while payload is not None:
            self._handle_busy(payload)
            payload = self.port.recv(0)
        if self.cancelled:
            raise Cancelled("cancelled by request")

    def _handle_busy(self, payload):
        try:
            ident, op, body = envelope.parse(payload, self.handlers)
            if op != codes.OP_CANCEL:
                raise ReaderFault("a request is already running", code=codes.E_BUSY)
            self.port.send(envelope.message(codes.T_RESPONSE, ident, op, cancel(self, body)))
        except ReaderFault as fault:
            self._error(fault, envelope.echo[0], envelope.echo[1])
        except MemoryError as exc:
            # The running request holds part of the heap; a second request that does not fit
            # gets its own one error, and the running one goes on (SPEC.md §4: exactly one reply).
            gc.collect()
            self._internal(exc, envelope.echo[0], envelope.echo[1])

    def run_idle(self):
        self._idle_at = clock.ticks_ms()
        for fn in self.idle:
            try:
                fn(self)
            except EOFError:
                raise
            except Exception as exc:  # an idle hook must not stop the loop either
                log_exception(exc)

    def serve_once(self, timeout_ms=IDLE_PERIOD_MS):
        """Serve at most one request, then run the idle hooks when they are due."""
        payload = self.port.recv(timeout_ms)
        if payload is not None:
            self.handle(payload)
        if payload is None or clock.ticks_diff(clock.ticks_ms(), self._idle_at) >= IDLE_PERIOD_MS:
            self.run_idle()

    def serve_forever(self):
        """Serve until the link reports end of input (EOFError)."""
        try:
            while True:
                self.serve_once()
        except EOFError:
            return
