"""The device ops (config.get/set, selftest, reboot, ui), diag's ``ui`` and the watchdog rule,
through the real dispatcher and main loop over an in-memory link (SPEC.md §4).

Loads the whole link stack, so on MicroPython it runs precompiled at 128 KiB through
tests/firmware/link/test_fw_stack.py (its fw_stack_* glob covers this folder); on CPython from source.
"""

import os
import sys

from link.memlink import Host, MemStream
from reader import app as appmod
from reader import clock, config, startup
from reader.link import codes

_DIR = "/tmp/partycard-fwtest-device-" + sys.implementation.name


class Stream(MemStream):
    """MemStream with a stop-and-wait host script (SPEC.md §6): the next request goes in only when
    the previous one was answered; the link ends (EOFError) after the last answer."""

    def __init__(self):
        MemStream.__init__(self)
        self.host = None
        self.script = None
        self._waiting = None

    def start(self, script):
        self.script = list(script)
        self._waiting = None

    def _pace(self):
        if self.script is None or self.inbox:
            return
        if self._waiting is not None:
            for r in self.host._replies:
                if r[1] != codes.T_EVENT and r.get(2) == self._waiting:
                    break
            else:
                return
        if not self.script:
            self.script = None
            self._waiting = None
            raise EOFError("host closed the link")
        ident, op, body = self.script.pop(0)
        self._waiting = ident
        self.host.send(ident, op, body)

    def poll(self, timeout_ms):
        self._pace()
        return len(self.inbox) > 0

    def readinto(self, buf):
        self._pace()
        return MemStream.readinto(self, buf)


class Reset(Exception):
    pass


class Dog:
    """What board.watchdog() returns: machine.WDT's ``feed()``, counted."""

    feeds = 0

    def feed(self):
        self.feeds += 1


class Board:
    """A board whose pins are attributes: what the device layer drives, without machine."""

    name = "memory"
    serial = "MEM-DEV"
    has_frontend = False

    def __init__(self):
        self.link = Stream()
        self.lit = []
        self.resets = 0
        self.dog = None

    def outputs(self, green, red, tone_hz):
        self.lit.append((green, red, tone_hz))

    def watchdog(self):
        self.dog = Dog()
        return self.dog

    def reset(self):
        self.resets += 1
        self.link.script = None
        raise Reset()  # leaves serve() as machine.reset() leaves everything


def _setenv(name, value):
    if hasattr(os, "environ"):
        os.environ[name] = value
    else:
        os.putenv(name, value)


def _fresh_dir():
    try:
        os.mkdir(_DIR)
    except OSError:
        pass
    try:
        os.remove(_DIR + "/" + config.NAME)
    except OSError:
        pass
    _setenv("PARTYCARD_CONFIG_DIR", _DIR)


_shared = []


def _setup():
    # One reader for the module: its frame buffers are allocated once, as on a board.
    if not _shared:
        _fresh_dir()
        board = Board()
        reader = startup.build(board, {})
        host = Host(board.link)
        board.link.host = host
        _shared.append((reader.app, board, host, reader))
    app, board, host, _ = _shared[0]
    host.replies()
    return app, board, host


def _serve(app, host):
    while app.port.stream.inbox or app.port.buffered():
        app.serve_once(0)
    return host.replies()


def _ask(app, host, ident, op, body):
    host.send(ident, op, body)
    [reply] = _serve(app, host)
    assert reply[2] == ident and reply[3] == op, reply
    return reply


def test_hello_lists_the_device_ops():
    app, _, host = _setup()
    ops = _ask(app, host, 1, "hello", {})[4]["ops"]
    for op in ("config.get", "config.set", "selftest", "reboot", "ui", "diag", "hello", "ping", "cancel"):
        assert op in ops, op


def test_config_round_trip_is_stored_on_flash():
    app, _, host = _setup()
    assert _ask(app, host, 2, "config.get", {})[4] == {"config": {}}
    want = {"serial": "DOOR-1", "link": "uart", "link_baud": 230400, "patterns": {"ok": [[1, 0, 0, 20]]}}
    reply = _ask(app, host, 3, "config.set", {"config": want})
    assert reply[1] == codes.T_RESPONSE and reply[4] == {"config": want}, reply
    assert _ask(app, host, 4, "config.get", {})[4] == {"config": want}
    assert config.load() == want  # the file, not only memory
    reply = _ask(app, host, 5, "config.set", {"config": {"link": None}})
    assert "link" not in reply[4]["config"] and config.load() == reply[4]["config"]


def test_config_refusals_store_nothing():
    app, _, host = _setup()
    before = config.load()
    cases = (
        ({"config": {"colour": 1}}, codes.E_CONFIG),
        ({"config": {"link_baud": 1}}, codes.E_BAD_ARGUMENT),
        ({"config": {"serial": "x y"}}, codes.E_BAD_ARGUMENT),
        # FOUND: both were stored; the second left a reader that could not start.
        ({"config": {"serial": "OK3", "bogus": None}}, codes.E_CONFIG),
        ({"config": {"board": "./unix"}}, codes.E_BAD_ARGUMENT),
        ({"config": {"board": "../boards/unix"}}, codes.E_BAD_ARGUMENT),
        ({"config": []}, codes.E_SCHEMA),
        ({"config": {}, "extra": 1}, codes.E_SCHEMA),
        ({}, codes.E_SCHEMA),
    )
    for i, (body, code) in enumerate(cases):
        reply = _ask(app, host, 10 + i, "config.set", body)
        assert reply[1] == codes.T_ERROR and reply[5]["code"] == code, (body, reply)
    assert config.load() == before


def test_unwritable_config_is_e_config():
    app, _, host = _setup()
    _setenv("PARTYCARD_CONFIG_DIR", _DIR + "/no/such/folder")
    try:
        reply = _ask(app, host, 20, "config.set", {"config": {"serial": "Z-9"}})
    finally:
        _setenv("PARTYCARD_CONFIG_DIR", _DIR)
    assert reply[1] == codes.T_ERROR and reply[5]["code"] == codes.E_CONFIG, reply
    assert _ask(app, host, 21, "config.get", {})[4]["config"].get("serial") != "Z-9"


def test_selftest_without_front_end():
    app, _, host = _setup()
    body = _ask(app, host, 30, "selftest", {})[4]
    assert body == {"frontend": None, "firmware": None, "rf": False, "ok": False}


def test_ui_plays_the_pattern_from_idle_and_diag_reports_it():
    app, board, host = _setup()
    assert _ask(app, host, 40, "diag", {})[4]["ui"] is None or True  # earlier tests may have set it
    _ask(app, host, 41, "config.set", {"config": {"patterns": {"ok": [[1, 0, 3000, 30], [1, 0, 0, 30]]}}})
    del board.lit[:]
    assert _ask(app, host, 42, "ui", {"pattern": "ok"})[4] == {}
    assert board.lit == [(1, 0, 3000)]
    deadline = clock.ticks_add(clock.ticks_ms(), 1000)
    while len(board.lit) < 3 and clock.ticks_diff(deadline, clock.ticks_ms()) > 0:
        app.serve_once(10)  # idle rounds advance the steps; the link stays served meanwhile
    assert board.lit == [(1, 0, 3000), (1, 0, 0), (0, 0, 0)], board.lit
    assert _ask(app, host, 43, "diag", {})[4]["ui"] == "ok"
    _ask(app, host, 44, "ui", {"pattern": "busy"})  # a 0 ms step holds until the next pattern
    for _ in range(5):
        app.serve_once(10)
    assert board.lit[-1] == (1, 1, 0)


def test_ui_refuses_unknown_patterns():
    app, _, host = _setup()
    reply = _ask(app, host, 50, "ui", {"pattern": "disco"})
    assert reply[1] == codes.T_ERROR and reply[5]["code"] == codes.E_BAD_ARGUMENT
    reply = _ask(app, host, 51, "ui", {"pattern": b"ok"})
    assert reply[1] == codes.T_ERROR and reply[5]["code"] == codes.E_SCHEMA


def test_watchdog_is_fed_by_the_main_loop_only():
    app, board, host = _setup()
    seen = {}

    def stall(ctx, body):
        # A handler that does not return for a while (still answering keepalive): no feeding.
        seen["at_start"] = board.dog.feeds
        deadline = clock.ticks_add(clock.ticks_ms(), 300)
        while clock.ticks_diff(deadline, clock.ticks_ms()) > 0:
            ctx.keepalive(20)
        seen["at_end"] = board.dog.feeds
        return {}

    def boom(ctx, body):
        raise RuntimeError("handler bug")

    app.register("test.stall", stall)
    app.register("test.boom", boom)
    try:
        board.link.start([(60, "ping", {}), (61, "test.stall", {}), (62, "test.boom", {}), (63, "ping", {})])
        appmod.serve(_shared[0][3])  # the real main loop until the link ends; it starts board.dog
    finally:
        del app.handlers["test.stall"]
        del app.handlers["test.boom"]
    replies = [r for r in host.replies() if r[1] != codes.T_EVENT]
    assert [r[2] for r in replies] == [60, 61, 62, 63], replies
    assert replies[2][5]["code"] == codes.E_INTERNAL  # the loop survived the bug...
    assert seen["at_start"] == seen["at_end"], seen  # ...and nothing fed while the handler ran
    # One feed per finished loop iteration, at least one per request (idle rounds add more).
    assert board.dog.feeds >= 4, board.dog.feeds


def test_reboot_answers_then_resets():
    _, board, host = _setup()
    board.link.start([(70, "reboot", {}), (71, "ping", {})])
    try:
        appmod.serve(_shared[0][3])
    except Reset:
        pass
    [reply] = host.replies()  # nothing after the reset: the ping was never read
    assert reply[1] == codes.T_RESPONSE and reply[2] == 70 and reply[4] == {}
    assert board.resets == 1
