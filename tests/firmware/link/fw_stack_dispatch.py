"""The dispatcher end to end over an in-memory stream pair (SPEC.md §3.2, §4, §5, §6).

Runs on the whole link stack, so on MicroPython it runs precompiled (test_fw_stack.py).
"""

from link.memlink import Host, MemStream
from reader import clock
from reader.app import Reader
from reader.link import cbor, codes
from reader.link.dispatch import App
from reader.link.framing import Encoder
from reader.link.port import Port


class Board:
    name = "memory"
    serial = "MEM-0001"


_shared = []


def _setup():
    # One reader for the whole module: its frame buffers are allocated once, as on a board.
    if not _shared:
        stream = MemStream()
        app = App(Port(stream), Board())
        Reader(app)
        _shared.append((app, Host(stream)))
    app, host = _shared[0]
    host.replies()
    return app, host


def _serve(app, host):
    while app.port.stream.inbox or app.port.buffered():
        app.serve_once(0)
    return host.replies()


def _error_of(msg, code, ident, op):
    assert msg[0] == 1 and msg[1] == codes.T_ERROR, msg
    assert msg.get(2) == ident and msg.get(3) == op, msg
    assert 4 not in msg
    assert msg[5]["code"] == code and isinstance(msg[5]["message"], str), msg
    return msg[5]


def test_hello_lists_ops_and_identity():
    app, host = _setup()
    host.send(1, "hello", {})
    [resp] = _serve(app, host)
    assert resp[0] == 1 and resp[1] == codes.T_RESPONSE and resp[2] == 1 and resp[3] == "hello"
    body = resp[4]
    assert body["protocol"] == 1 and body["max_payload"] == 2048 and body["frontend"] is None
    assert body["ops"] == sorted(app.handlers)  # exactly what is registered, in a stable order
    for op in ("cancel", "diag", "hello", "ping"):
        assert op in body["ops"]
    assert body["serial"] == "MEM-0001" and body["board"] == "memory"
    assert isinstance(body["boot_id"], bytes) and len(body["boot_id"]) == 8
    assert isinstance(body["firmware"], str)


def test_ping_echoes_bytes_and_ids():
    app, host = _setup()
    host.send(0, "ping", {"data": b"\x00\x01\xfe\xff\x00"})
    host.send(codes.MAX_REQUEST_ID, "ping", {})
    r1, r2 = _serve(app, host)
    assert r1[2] == 0 and r1[4] == {"data": b"\x00\x01\xfe\xff\x00"}
    assert r2[2] == codes.MAX_REQUEST_ID and r2[4] == {"data": b""}


def test_unknown_op_bad_version_bad_cbor_bad_body():
    app, host = _setup()
    host.send(3, "format", {})
    host.send(4, "hello", {}, version=2)
    host.send_payload(b"\xbf\x00\x01\xff")
    host.send(5, "ping", {"x": 1})
    host.send(6, "ping", {"data": "text"})
    unknown, version, bad_cbor, extra_key, wrong_type = _serve(app, host)
    _error_of(unknown, codes.E_UNKNOWN_OP, 3, "format")
    assert _error_of(version, codes.E_VERSION, 4, "hello")["supported"] == [1]
    _error_of(bad_cbor, codes.E_CBOR, None, None)
    _error_of(extra_key, codes.E_SCHEMA, 5, "ping")
    _error_of(wrong_type, codes.E_SCHEMA, 6, "ping")


def test_busy_and_cancel_while_a_request_runs():
    app, host = _setup()
    seen = []

    def slow(ctx, body):
        start = clock.ticks_ms()
        sent = False
        while clock.ticks_diff(clock.ticks_ms(), start) < 3000:
            ctx.keepalive(5)
            if not sent and clock.ticks_diff(clock.ticks_ms(), start) >= 450:
                host.send(11, "ping", {})
                host.send(12, "cancel", {"request": 99})
                host.send(13, "cancel", {"request": 10})
                sent = True
        seen.append("not cancelled")
        return {}

    app.register("slow", slow)
    host.send(10, "slow", {})
    replies = _serve(app, host)
    assert seen == []
    events = [m for m in replies if m[1] == codes.T_EVENT]
    others = [m for m in replies if m[1] != codes.T_EVENT]
    # 450 ms at a 200 ms send interval: at least two keepalives, numbered by one (SPEC.md §4).
    assert len(events) >= 2, events
    for i, ev in enumerate(events):
        assert ev[2] == events[0][2] + i and ev[3] == "keepalive" and ev[4] == {"request": 10}
    busy, cancel_other, cancel_this, cancelled = others
    _error_of(busy, codes.E_BUSY, 11, "ping")
    assert cancel_other[1] == codes.T_RESPONSE and cancel_other[2] == 12
    assert cancel_other[4] == {"cancelled": False}
    assert cancel_this[2] == 13 and cancel_this[4] == {"cancelled": True}
    _error_of(cancelled, codes.E_CANCELLED, 10, "slow")
    host.send(14, "cancel", {"request": 10})
    [late] = _serve(app, host)
    assert late[4] == {"cancelled": False}


def test_a_request_without_heap_while_busy_gets_one_error_and_the_running_one_finishes():
    from reader.link import envelope

    app, host = _setup()
    real = envelope.parse

    def starved(payload, ops):
        # What decoding a request does when the running one holds the heap it would need.
        envelope.echo[0] = envelope.echo[1] = None
        raise MemoryError("memory allocation failed")

    def slow(ctx, body):
        host.send(31, "ping", {})
        envelope.parse = starved
        try:
            start = clock.ticks_ms()
            while clock.ticks_diff(clock.ticks_ms(), start) < 100:
                ctx.keepalive(5)
        finally:
            envelope.parse = real
        return {"finished": True}

    app.register("slow", slow)
    host.send(30, "slow", {})
    others = [m for m in _serve(app, host) if m[1] != codes.T_EVENT]
    starved_reply, finished = others
    _error_of(starved_reply, codes.E_INTERNAL, None, None)
    assert finished[1] == codes.T_RESPONSE and finished[2] == 30 and finished[4] == {"finished": True}
    host.send(32, "ping", {})
    [pong] = _serve(app, host)
    assert pong[2] == 32


def test_exception_becomes_internal_and_the_loop_goes_on():
    app, host = _setup()

    def broken(ctx, body):
        raise ValueError("member 12345 name")

    app.register("broken", broken)
    app.register("unencodable", lambda ctx, body: {"x": 1.5})
    app.register("nothing", lambda ctx, body: None)
    errors_before = app.errors
    host.send(20, "broken", {})
    host.send(21, "unencodable", {})
    host.send(19, "nothing", {})
    host.send(22, "ping", {"data": b"alive"})
    host.send(23, "diag", {})
    internal, internal2, internal3, pong, diag = _serve(app, host)
    err = _error_of(internal, codes.E_INTERNAL, 20, "broken")
    assert "12345" not in err["message"]  # the exception text may hold card data
    assert err["message"] == "internal error: ValueError", err
    # A reply outside the CBOR subset: the fault's code tells it from any other ReaderFault.
    assert _error_of(internal2, codes.E_INTERNAL, 21, "unencodable")["message"] == "internal error: ReaderFault 0x01"
    assert _error_of(internal3, codes.E_INTERNAL, 19, "nothing")["message"] == "internal error: TypeError"
    assert pong[4] == {"data": b"alive"}
    assert diag[4]["errors"] == errors_before + 3
    assert isinstance(diag[4]["uptime_ms"], int) and isinstance(diag[4]["heap_free"], int)


def test_idle_hooks_run_and_survive_exceptions():
    app, host = _setup()
    calls = []

    def hook(ctx):
        calls.append(ctx.request_id)
        ctx.emit("log", {"level": "info", "text": "idle"})
        if len(calls) == 1:
            raise RuntimeError("hook failed once")

    app.add_idle(hook)
    app.serve_once(0)
    app.serve_once(0)
    app.idle.remove(hook)
    assert calls == [None, None]
    ev1, ev2 = host.replies()
    assert ev2[2] == ev1[2] + 1 and ev1[3] == "log" and ev1[1] == codes.T_EVENT


def test_dropped_frames_are_counted():
    app, host = _setup()
    before = app.port.rx.dropped
    app.port.stream.inbox.extend(b"partycard noise\r\n\x00\x05\x11\x22\x33\x00")
    host.send(30, "diag", {})
    [diag] = _serve(app, host)
    assert diag[4]["frames_dropped"] == before + 2


def test_an_error_too_long_for_a_frame_goes_without_its_op_and_the_loop_goes_on():
    # An op name as long as the request allows, and no body: E_SCHEMA, whose echo of the op would
    # not fit MAX_PAYLOAD with the code and message (SPEC.md §5).
    app, host = _setup()
    op = "x" * 1980
    # Framed here: the test host's own encoder is sized for the short requests of this module.
    Encoder(codes.MAX_PAYLOAD).write_frame(host, cbor.encode({0: 1, 1: codes.T_REQUEST, 2: 40, 3: op}))
    [err] = _serve(app, host)
    _error_of(err, codes.E_SCHEMA, 40, None)
    host.send(41, "ping", {})
    [pong] = _serve(app, host)
    assert pong[2] == 41 and pong[1] == codes.T_RESPONSE
    # Short enough to echo, as always.
    host.send_payload(cbor.encode({0: 1, 1: codes.T_REQUEST, 2: 42, 3: "x" * 40}))
    [err] = _serve(app, host)
    _error_of(err, codes.E_SCHEMA, 42, "x" * 40)
    # E_VERSION with an op that leaves no room for the echo: the op goes, "supported" stays
    # (SPEC.md §3.2: the error names the versions the reader speaks).
    for n in (1985, 1990, 2000):
        Encoder(codes.MAX_PAYLOAD).write_frame(host, cbor.encode({0: 9, 1: codes.T_REQUEST, 2: 43, 3: "x" * n, 4: {}}))
        [err] = _serve(app, host)
        assert err[1] == codes.T_ERROR and err[2] == 43 and err[5]["code"] == codes.E_VERSION, n
        assert err[5]["supported"] == [codes.PROTOCOL_VERSION], n
