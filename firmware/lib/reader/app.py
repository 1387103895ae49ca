"""App layer: the reader's main loop. Composes board, link and card layers; no protocol logic.

``run()`` starts the reader (``reader.startup``: the stored config, the board, the banner, the ops
and the card service), drops the start-up code and serves the link until it closes (SPEC.md §1,
§4).

The device ops live in ``reader.device``, loaded for one request and dropped after it: on the unix
port (and for .mpy files on a board) loaded code takes heap, and these ops are rare. What must stay
is here: the idle hook that advances a playing UI pattern, and ``serve()``, the main loop and the
only place the watchdog is fed.
"""

import gc
import os
import sys

from reader import clock
from reader.link import codes


class Reader:
    """The built-in ops and what they report (boot id, uptime, the card service, the last UI
    pattern), the door to the device ops, the UI idle hook, and the reboot request."""

    def __init__(self, app):
        self.app = app
        self.card_service = None
        self.stored = None  # the config on flash; None: a link-only build without device ops
        self.reboot_pending = False
        self.ui_pattern = None  # the last ui pattern, reported by diag
        self.player = None  # the UI pattern playing (reader.device.Player), None when none is
        self.boot_id = os.urandom(8)  # SPEC.md §4: new at every start
        self._uptime_ms = 0
        self._tick = clock.ticks_ms()
        app.register(codes.OP_HELLO, self.device_op)  # once per connection: loaded when asked
        app.register(codes.OP_PING, self.ping)
        app.register(codes.OP_DIAG, self.diag)

    def ping(self, ctx, body):
        from reader.link.schema import check_keys, get_bstr

        check_keys(body, ("data",))
        # A response has the same envelope size as its request, so any data that came in fits.
        return {"data": get_bstr(body, "data", b"")}

    def diag(self, ctx, body):
        from reader.link.schema import check_keys

        check_keys(body, ())
        # Accumulated in steps so that uptime keeps counting past the 2**30 ms wrap of ticks_ms.
        now = clock.ticks_ms()
        self._uptime_ms += clock.ticks_diff(now, self._tick)
        self._tick = now
        gc.collect()  # so that the heap figures are what is live, not what awaits collection
        return {
            "frames_dropped": ctx.port.rx.dropped,
            "errors": ctx.errors,
            "events": ctx.event_seq,
            "uptime_ms": self._uptime_ms,
            # MicroPython's GC heap; CPython has no fixed heap, and reports 0 for both. No peak:
            # micropython.mem_peak() counts collected garbage as allocated, so it says nothing of
            # the heap a read needs (partycard bench measures that by bisection on the heap size).
            "heap_free": gc.mem_free() if hasattr(gc, "mem_free") else 0,
            "heap_used": gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0,
            # The last ``ui`` pattern (null before the first): on a PC the only trace of the LEDs.
            "ui": self.ui_pattern,
        }

    # --- hello and the device ops (SPEC.md §4): config.get/config.set, selftest, reboot, ui ----

    def device_op(self, ctx, body):
        # Loading a module needs contiguous blocks: collect the request's garbage first, or a
        # fragmented ESP32-sized heap fails the import (seen at 64 KiB on the unix port).
        gc.collect()
        # config.set needs only the config module, not the device ops' code too.
        if ctx.op == codes.OP_CONFIG_SET:
            from reader import config as module
        else:
            from reader import device as module  # type: ignore[no-redef]
        try:
            return module.run(self, ctx, body)
        finally:
            forget(module.__name__[7:])

    def ui_tick(self, ctx):
        # Idle hook: advance the pattern playing (reader.device.Player), if one is.
        if self.player is not None:
            self.player.tick()


def forget(name):
    """Drop the module ``reader.<name>``, loaded for one job, so that its code leaves the heap (where
    the unix port, and a board running .mpy files, keep loaded code; frozen code costs none)."""
    sys.modules.pop("reader." + name, None)
    try:
        delattr(sys.modules["reader"], name)
    except (KeyError, AttributeError):
        pass


def serve(reader):
    """The main loop: one request (or idle round) per iteration, then the watchdog is fed. Fed here
    only (never from a handler, an exception handler or a timer): a handler that hangs stops the
    feeding and machine.WDT resets the board (research §5.1). ``reboot`` takes effect here, after
    its reply went out (SPEC.md §4)."""
    from reader.link.dispatch import log_exception

    app = reader.app
    wdt = app.board.watchdog() if reader.stored is not None else None
    while True:
        try:
            app.serve_once()
        except EOFError:
            return
        except MemoryError as exc:
            # Outside any handler (decoding a request or encoding a reply in a fragmented heap):
            # that request goes unanswered and the host's timeout covers it (SPEC.md §6); the
            # loop goes on, unfed this once. A loop that only fails stops feeding the watchdog.
            log_exception(exc)
            gc.collect()
            continue
        if wdt is None:
            continue
        wdt.feed()
        if reader.reboot_pending:
            reader.reboot_pending = False  # reset() does not return on a board; a test's may
            clock.sleep_ms(100)  # the reply is written; let the UART/USB FIFO drain
            app.board.reset()


def run(board=None):
    """Start the reader on ``board`` (a board object, a board name, or None for the default) and
    serve the link until it closes."""
    from reader import startup

    reader = startup.start(board)
    # Start-up code leaves the heap before the first request (reader.startup says why).
    del startup
    forget("startup")
    gc.collect()
    if reader is not None:
        serve(reader)
