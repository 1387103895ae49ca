"""Every record of protocol/vectors/invalid.jsonl on the firmware's link layer.

Invalid frames are dropped and the receiver resyncs; invalid CBOR and envelopes raise the named
error, with the id and op that can be echoed. The same records also go through the running
dispatcher in fw_stack_vectors.py.
"""

import json

from link.jsonl import feed_all, records
from reader.errors import ReaderFault
from reader.link import codes, envelope
from reader.link.framing import Encoder, Receiver

VECTORS = "../../protocol/vectors/"


class Sink:
    def __init__(self):
        self.data = bytearray()

    def write(self, buf):
        self.data.extend(buf)

BUILT_IN = {"hello": 1, "ping": 1, "cancel": 1, "diag": 1}


def test_invalid_vectors():
    marker = Sink()
    Encoder().write_frame(marker, b"\xa0marker")
    rx = Receiver()
    counts = {}
    for text, hexes, _ in records(VECTORS + "invalid.jsonl"):
        rec = json.loads(text)
        layer = rec["layer"]
        data = hexes["bytes_hex"]
        counts[layer] = counts.get(layer, 0) + 1
        if layer == "frame":
            # Dropped without a payload; the next frame is received intact (SPEC.md §2).
            assert feed_all(rx, data), rec["id"]
            assert feed_all(rx, marker.data, [b"\xa0marker"]), rec["id"]
            continue
        # Body records name ops; with every op known, parsing stops only at the body checks.
        ops = BUILT_IN if layer != "body" else {rec["reply_op"]: 1}
        try:
            envelope.parse(data, ops)
        except ReaderFault as exc:
            if layer != "body" or exc.code != codes.E_SCHEMA or rec["error"] == "E_SCHEMA":
                assert exc.code == getattr(codes, rec["error"]), (rec["id"], exc.code)
            if "reply_id" in rec:
                assert envelope.echo == [rec["reply_id"], rec["reply_op"]], rec["id"]
        else:
            # Only body records get past the envelope: the op's handler rejects them.
            assert layer == "body", rec["id"]
    print("invalid.jsonl by layer:", sorted(counts.items()))
    assert counts["frame"] >= 10 and counts["cbor"] >= 30 and counts["envelope"] >= 20
