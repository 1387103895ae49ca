"""App layer: the reader's main loop. Composes board, link and card layers; no protocol logic.

``run()`` loads the board, prints the banner, sends one delimiter, installs the built-in ops
(hello, ping, cancel, diag) and the card service when the board has a front-end, then serves the
link until it closes (SPEC.md §1, §4).
"""

import gc
import os

from reader import VERSION, clock
from reader.link import codes


class Reader:
    """The built-in ops and what they report: boot id, uptime, the card service."""

    def __init__(self, app):
        self.app = app
        self.card_service = None
        self.boot_id = os.urandom(8)  # SPEC.md §4: new at every start
        self._uptime_ms = 0
        self._tick = clock.ticks_ms()
        app.register(codes.OP_HELLO, self.hello)
        app.register(codes.OP_PING, self.ping)
        app.register(codes.OP_DIAG, self.diag)

    def hello(self, ctx, body):
        from reader.link.schema import check_keys

        check_keys(body, ())
        svc = self.card_service
        return {
            "protocol": codes.PROTOCOL_VERSION,
            "firmware": VERSION,
            "serial": ctx.board.serial,
            "max_payload": codes.MAX_PAYLOAD,
            "frontend": None if svc is None else svc.frontend_name(),
            "ops": ctx.ops(),
            "boot_id": self.boot_id,
            "board": ctx.board.name,
        }

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
            # MicroPython's GC heap; CPython has no fixed heap, and reports 0 for all three.
            "heap_free": gc.mem_free() if hasattr(gc, "mem_free") else 0,
            "heap_used": gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0,
            # micropython.mem_peak() where the build keeps memory statistics (the unix port):
            # the peak of bytes allocated and not explicitly freed, collected garbage included,
            # so far above what was ever live; 0 elsewhere.
            "heap_peak": _mem_peak(),
        }


def _mem_peak():
    try:
        import micropython

        return micropython.mem_peak()
    except (ImportError, AttributeError):
        return 0


def _install_card_service(app, reader):
    from reader.link.dispatch import log_exception

    if not getattr(app.board, "has_frontend", False):
        return
    try:
        from reader.card.service import CardService
    except ImportError as exc:
        log_exception(exc)  # a build without the card layer still serves the link ops
        return
    try:
        svc = CardService(app.board)
        svc.install(app)
    except Exception as exc:  # a front-end that fails to start must not take the link down
        log_exception(exc)
        return
    reader.card_service = svc


def banner(board):
    # Explicit +: MicroPython does not join adjacent f-strings.
    line = f"partycard-reader {VERSION} serial={board.serial} board={board.name}"
    return (line + f" protocol={codes.PROTOCOL_VERSION}\n").encode("utf-8")


def build(board):
    """The App for ``board`` with every op installed, before anything is written."""
    from reader.link.port import Port

    # The frame buffers are the largest allocations: made first, while the heap is unfragmented.
    gc.collect()
    port = Port(board.link)
    gc.collect()
    from reader.link.dispatch import App

    app = App(port, board)
    _install_card_service(app, Reader(app))
    return app


def run(board=None):
    """Start the reader on ``board`` (a board object, a board name, or None for the default)."""
    from reader import boards

    if board is None or isinstance(board, str):
        board = boards.load(board)
    app = build(board)
    app.port.write_raw(banner(board))
    app.port.write_raw(b"\x00")  # SPEC.md §2: the host drops whatever noise it has accumulated
    gc.collect()
    app.serve_forever()
