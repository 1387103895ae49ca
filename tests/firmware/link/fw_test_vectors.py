"""Every record of protocol/vectors/messages.jsonl on the firmware's CBOR codec, byte-exact both
ways. framing.jsonl runs in fw_test_vectors_framing.py, invalid.jsonl in fw_test_vectors_invalid.py
(link layer) and fw_stack_vectors.py (the running dispatcher): one process each keeps every run
inside a 64 KiB heap. fw_stack_vectors.py also serves every request record to the dispatcher.
"""

import gc
import json

from link.jsonl import matches, records, same
from reader.link import cbor

VECTORS = "../../protocol/vectors/"


def test_message_vectors_byte_exact():
    n = 0
    for text, hexes, blobs in records(VECTORS + "messages.jsonl"):
        data = hexes["cbor_hex"]
        gc.collect()
        got = cbor.decode(data)  # before the JSON: the decoded maps need the larger free blocks
        rec = json.loads(text)
        assert matches(got, rec.pop("value"), blobs), rec["id"]
        # ``got`` equals the record's value, so this is the encoding of that value.
        assert same(cbor.encode(got), data), rec["id"]
        got = rec = None  # let the collector between records free this one
        n += 1
    assert n >= 70
