"""App layer, start-up: what ``reader.app.run()`` does once, before it serves the link.

``start()`` reads the stored config, loads the board it names, builds the Reader (the built-in ops
hello, ping, cancel and diag; the device ops config.get, config.set, selftest, reboot and ui; the
card service when the board has a front-end), prints the banner and sends one delimiter (SPEC.md
§1, §2, §4). None of this runs again, so ``run()`` drops this module before the first request:
loaded code takes heap on the unix port, and for .mpy files on a board.
"""

import gc

from reader import VERSION
from reader.app import Reader, forget
from reader.link import codes


def start(board=None):
    """The Reader for ``board`` (a board object, a board name, or None for the default), its
    banner sent; None after a maintenance start, which leaves the board to the REPL."""
    from reader import boards, config, maintenance

    if maintenance.take():
        # Left to the REPL, Ctrl-C intact, so that mpremote can replace the firmware; the start
        # after this one is a normal one again (SPEC.md §4, reboot).
        print("partycard reader: maintenance start; the reader is not running until the next reset")
        return None
    del maintenance
    forget("maintenance")
    stored = config.load()
    if board is None or isinstance(board, str):
        board = boards.load(board, stored)
    del config, boards  # start-up only: unreferenced, forget() can free the config module's code
    forget("config")  # config.set brings it back for its one request
    reader = build(board, stored)
    reader.app.port.write_raw(banner(board))
    reader.app.port.write_raw(b"\x00")  # SPEC.md §2: the host drops whatever noise it has accumulated
    return reader


def banner(board):
    # Explicit +: MicroPython does not join adjacent f-strings.
    line = f"partycard-reader {VERSION} serial={board.serial} board={board.name}"
    return (line + f" protocol={codes.PROTOCOL_VERSION}\n").encode("utf-8")


def build(board, stored=None):
    """The Reader (``.app``: the App) for ``board`` with every op installed, before anything is
    written. ``stored`` is the config on flash; None installs no device ops (a link-only build)."""
    from reader.link.port import Port

    # The frame buffers are the largest allocations: made first, while the heap is unfragmented.
    gc.collect()
    port = Port(board.link)
    resp = None
    if getattr(board, "has_frontend", False):
        try:
            from reader.card.iso14443 import RESP_BUF
        except ImportError:
            pass  # a build without the card layer (_install_card_service says so)
        else:
            gc.collect()
            resp = bytearray(RESP_BUF)  # the ISO-DEP response buffer: as large, and as early
    gc.collect()
    from reader.link.dispatch import App

    app = App(port, board)
    reader = Reader(app)
    if stored is not None:
        reader.stored = stored
        door = reader.device_op  # one bound method for all five, not five
        for op in (codes.OP_CONFIG_GET, codes.OP_CONFIG_SET, codes.OP_SELFTEST, codes.OP_REBOOT, codes.OP_UI):
            app.register(op, door)
        app.add_idle(reader.ui_tick)
    _install_card_service(app, reader, resp)
    return reader


def _install_card_service(app, reader, resp):
    from reader.link.dispatch import log_exception

    if not getattr(app.board, "has_frontend", False):
        return
    try:
        from reader.card.service import CardService
    except ImportError as exc:
        log_exception(exc)  # a build without the card layer still serves the link ops
        return
    try:
        svc = CardService(app.board, resp=resp)
        svc.install(app)
    except Exception as exc:  # a front-end that fails to start must not take the link down
        log_exception(exc)
        return
    reader.card_service = svc
