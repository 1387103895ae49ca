"""Every record of protocol/vectors/framing.jsonl on the firmware's framing, byte-exact both ways."""

import json

from link.jsonl import Expect, feed_all, records
from reader.link.framing import Encoder, Receiver

VECTORS = "../../protocol/vectors/"


def test_framing_vectors():
    enc = Encoder()
    rx = Receiver()
    n = 0
    for text, hexes, _ in records(VECTORS + "framing.jsonl"):
        rec = json.loads(text)
        payload = hexes["payload_hex"]
        frame = hexes["frame_hex"]
        sink = Expect(frame)
        enc.write_frame(sink, payload)
        assert sink.matched(), rec["id"]
        assert feed_all(rx, frame, [payload]), rec["id"]
        n += 1
    assert n >= 20 and rx.dropped == 0
