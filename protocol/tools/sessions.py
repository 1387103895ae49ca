"""Protocol tools: replay of vectors/sessions/*.jsonl against a reader. No I/O of its own.

The caller supplies ``transact(payload) -> reply payload``: it frames and sends one request and
returns the payload of the next reply that is not an event. Events are the caller's to skip
(vectors/README.md "Sessions").
"""

from __future__ import annotations

from collections.abc import Callable

import cbor2
from protocol.tools import strict_cbor
from protocol.tools.vectorlib import Json, encode, from_json, match

Transact = Callable[[bytes], bytes]


def request_payload(line: dict[str, Json]) -> bytes:
    """The payload a host>reader line sends."""
    if "payload_hex" in line:
        return bytes.fromhex(line["payload_hex"])
    return encode(from_json(line["value"]))


def replay(name: str, lines: list[dict[str, Json]], transact: Transact) -> list[str]:
    """Run one session; return its mismatches (empty when the reader satisfied every line)."""
    problems: list[str] = []
    reply: bytes | None = None
    for number, line in enumerate(lines, start=1):
        where = f"{name}:{number}"
        if line["dir"] == "host>reader":
            reply = transact(request_payload(line))
            continue
        if reply is None:
            problems.append(f"{where}: a reply is expected, but no request precedes it")
            continue
        try:
            strict_cbor.check(reply)
        except strict_cbor.CborReject as exc:
            problems.append(f"{where}: the reply is not strict CBOR: {exc}")
        else:
            problems += [f"{where}: {p}" for p in match(line["match"], cbor2.loads(reply))]
        reply = None
    return problems
