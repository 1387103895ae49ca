"""Vectors through the running dispatcher: every request of messages.jsonl is parsed (and served
when its op is built in), and every invalid.jsonl record gets the named error with the echoed id/op.

Body records of ops this build does not serve by itself (card, config, selftest and ui belong to
other layers) get E_UNKNOWN_OP here; their count is printed. Runs on the whole link stack, so on
MicroPython it runs precompiled (test_fw_stack.py), as the firmware does on a board.
"""

import json

from link.jsonl import feed_all, records, value
from link.memlink import Host, MemStream
from reader.app import Reader
from reader.errors import ReaderFault
from reader.link import codes, envelope
from reader.link.dispatch import App
from reader.link.framing import Encoder, Receiver
from reader.link.port import Port

VECTORS = "../../protocol/vectors/"


class Sink:
    def __init__(self):
        self.data = bytearray()

    def write(self, buf):
        self.data.extend(buf)


def _shared_reader():
    stream = MemStream()
    app = App(Port(stream), type("B", (), {"name": "vec", "serial": "VEC-1"})())
    Reader(app)
    return app, Host(stream, codes.MAX_PAYLOAD)


def test_invalid_vectors():
    app, host = _shared_reader()
    marker = Sink()
    Encoder().write_frame(marker, b"\xa0marker")
    rx = Receiver()
    counts = {}
    for text, hexes, _ in records(VECTORS + "invalid.jsonl"):
        rec = json.loads(text)
        layer = rec["layer"]
        data = hexes["bytes_hex"]
        if layer == "frame":
            # Dropped without a payload; the next frame is received intact (SPEC.md §2).
            assert feed_all(rx, data), rec["id"]
            assert feed_all(rx, marker.data, [b"\xa0marker"]), rec["id"]
        elif layer == "body" and rec["reply_op"] not in app.handlers:
            layer = "body, op served by another layer"
            try:
                envelope.parse(data, app.handlers)
            except ReaderFault as exc:
                assert exc.code == codes.E_UNKNOWN_OP, rec["id"]
        else:
            _check_reply(app, host, rec, data)
        counts[layer] = counts.get(layer, 0) + 1
    print("invalid.jsonl by layer:", sorted(counts.items()))
    assert counts["frame"] >= 10 and counts["cbor"] >= 30 and counts["envelope"] >= 20


def _check_reply(app, host, rec, data):
    want = getattr(codes, rec["error"])
    if len(data) > codes.MAX_PAYLOAD:
        # Longer than any frame can carry: the receiver drops it before CBOR (see frame vectors).
        try:
            envelope.parse(data, app.handlers)
        except ReaderFault as exc:
            assert exc.code == want, rec["id"]
            return
        raise AssertionError(rec["id"])
    host.send_payload(data)
    while app.port.stream.inbox or app.port.buffered():
        app.serve_once(0)
    [reply] = host.replies()
    assert reply[1] == codes.T_ERROR and reply[5]["code"] == want, (rec["id"], reply)
    if "reply_id" in rec:
        assert reply.get(2) == rec["reply_id"] and reply.get(3) == rec["reply_op"], (rec["id"], reply)
    if want == codes.E_VERSION:
        assert reply[0] == 1 and reply[5]["supported"] == [1], rec["id"]


def test_request_vectors_parse_and_built_in_ops_answer():
    app, host = _shared_reader()
    served = 0
    for text, hexes, blobs in records(VECTORS + "messages.jsonl"):
        rec = json.loads(text)
        if rec["direction"] != "host>reader":
            continue
        data = hexes["cbor_hex"]
        msg = value(rec["value"], blobs)
        ident, op, _ = envelope.parse(data, {rec["op"]: None})
        assert op == rec["op"] and ident == msg[2], rec["id"]
        if op not in app.handlers:
            continue
        host.send_payload(data)
        while app.port.stream.inbox or app.port.buffered():
            app.serve_once(0)
        [reply] = host.replies()
        assert reply[1] == codes.T_RESPONSE and reply[2] == ident and reply[3] == op, (rec["id"], reply)
        served += 1
    assert served >= 10
