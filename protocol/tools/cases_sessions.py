"""Protocol tools: scripted exchanges for a reader without a front-end (vectors/sessions/). Pure data."""

from __future__ import annotations

from typing import Any

from protocol.tools.cases_invalid import PING
from protocol.tools.cases_messages import ERR, MAX_PAYLOAD, MAX_REQUEST_ID, req
from protocol.tools.vectorlib import Json, to_json

# A session line: {"dir", "value" | "payload_hex" | "match", "note"}.
Line = dict[str, Json]


def send(item: Any, note: str) -> Line:
    return {"dir": "host>reader", "value": to_json(item), "note": note}


def send_raw(payload: bytes, note: str) -> Line:
    return {"dir": "host>reader", "payload_hex": payload.hex(), "note": note}


def expect(matcher: Json, note: str) -> Line:
    return {"dir": "reader>host", "match": matcher, "note": note}


def _t(text: str) -> Json:
    return text


def _map(*pairs: tuple[Json, Json]) -> Json:
    return {"$map": [list(p) for p in pairs]}


def _with(*pairs: tuple[Json, Json]) -> Json:
    return {"$map_with": [list(p) for p in pairs]}


def reply(rid: int, op: str, body: Json) -> Json:
    """A response envelope (closed) around a body matcher."""
    return _map((0, 1), (1, 1), (2, rid), (3, op), (4, body))


def fail(code: str, rid: int | None, op: str | None, **extra: Json) -> Json:
    """An error envelope (closed) whose error map holds at least code, a message and extra."""
    fields: list[tuple[Json, Json]] = [("code", ERR[code]), ("message", {"$any": "tstr", "size": [0, 200]})]
    fields += list(extra.items())
    pairs: list[tuple[Json, Json]] = [(0, 1), (1, 3)]
    if rid is not None:
        pairs.append((2, rid))
    if op is not None:
        pairs.append((3, op))
    pairs.append((5, _with(*fields)))
    return _map(*pairs)


HELLO_NO_FRONTEND = _with(
    ("protocol", 1),
    ("firmware", {"$any": "tstr"}),
    ("serial", {"$any": "tstr"}),
    ("max_payload", {"$any": "uint", "min": 1024}),
    ("frontend", None),
    ("ops", {"$array_with": ["hello", "ping", "cancel", "diag"]}),
    ("boot_id", {"$any": "bstr", "size": 8}),
    ("board", {"$any": "tstr"}),
)


SELFTEST_FAILED = reply(
    3,
    "selftest",
    _with(
        ("frontend", None), ("rf", False), ("ok", False), ("firmware", {"$one_of": [None, {"$any": "tstr"}]})
    ),
)


def sessions() -> dict[str, list[Line]]:
    return {
        "hello": [
            send(req(1, "hello", {}), "first request"),
            expect(
                reply(1, "hello", HELLO_NO_FRONTEND), "frontend is null; serial, firmware and boot_id vary"
            ),
            send(req(2, "hello", {}), "hello may be repeated"),
            expect(reply(2, "hello", HELLO_NO_FRONTEND), "the same shape again"),
        ],
        "ping": [
            send(req(1, "ping", {"data": bytes(range(256))}), "every byte value"),
            expect(reply(1, "ping", _with(("data", {"$bytes": bytes(range(256)).hex()}))), "the same bytes"),
            send(req(3, "ping", {}), "no data"),
            expect(reply(3, "ping", _with(("data", {"$bytes": ""}))), "absent data echoes as empty bytes"),
            send(req(2, "ping", {"data": bytes(MAX_PAYLOAD - 64)}), "a large request"),
            expect(
                reply(2, "ping", _with(("data", {"$bytes": bytes(MAX_PAYLOAD - 64).hex()}))), "the same bytes"
            ),
        ],
        "request-ids": [
            send(req(0, "ping", {"data": b"a"}), "id 0"),
            expect(reply(0, "ping", _with(("data", {"$bytes": "61"}))), "id 0 echoed"),
            send(req(MAX_REQUEST_ID, "ping", {"data": b"b"}), "MAX_REQUEST_ID"),
            expect(reply(MAX_REQUEST_ID, "ping", _with(("data", {"$bytes": "62"}))), "MAX_REQUEST_ID echoed"),
            send(req(0, "ping", {"data": b"c"}), "wrapped to 0"),
            expect(reply(0, "ping", _with(("data", {"$bytes": "63"}))), "a reused id is answered as new"),
        ],
        "errors-keep-serving": [
            send(req(1, "format", {}), "an op no reader has"),
            expect(fail("E_UNKNOWN_OP", 1, "format"), "id and op echoed"),
            send({0: 2, 1: 0, 2: 2, 3: "hello", 4: {}}, "protocol version 2"),
            expect(fail("E_VERSION", 2, "hello", supported=[1]), "in version 1, listing supported"),
            send(req(3, "ping", {"x": 1}), "unknown body key"),
            expect(fail("E_SCHEMA", 3, "ping"), "request bodies are closed"),
            send_raw(b"\xbf" + PING[1:] + b"\xff", "indefinite-length map"),
            expect(
                {
                    "$one_of": [
                        fail("E_CBOR", None, None),
                        fail("E_CBOR", 7, None),
                        fail("E_CBOR", None, "ping"),
                        fail("E_CBOR", 7, "ping"),
                    ]
                },
                "echoing id and op is optional for E_CBOR",
            ),
            send(req(4, "ping", {"data": b"ok"}), "still serving"),
            expect(reply(4, "ping", _with(("data", {"$bytes": "6f6b"}))), "the reader kept serving"),
        ],
        "cancel-idle": [
            send(req(1, "cancel", {"request": 99}), "nothing is running"),
            expect(reply(1, "cancel", _with(("cancelled", False))), "false: that request was not running"),
        ],
        # SPEC.md §4: a reader may leave card ops out of "ops" and answer E_UNKNOWN_OP, or list
        # them and answer E_NO_FRONTEND (apdu also E_NOT_ACTIVE); both are conformant.
        "no-frontend": [
            send(req(1, "card.wait", {"timeout_ms": 100}), "no front-end to wait with"),
            expect(
                {"$one_of": [fail("E_NO_FRONTEND", 1, "card.wait"), fail("E_UNKNOWN_OP", 1, "card.wait")]},
                "at once, not after the timeout",
            ),
            send(
                req(2, "apdu", {"apdu": bytes.fromhex("00a4040c07a0000002471001")}), "no card can be active"
            ),
            expect(
                {
                    "$one_of": [
                        fail(code, 2, "apdu") for code in ("E_NO_FRONTEND", "E_NOT_ACTIVE", "E_UNKNOWN_OP")
                    ]
                },
                "never a response",
            ),
            send(req(3, "selftest", {}), "self-test without front-end"),
            expect(
                {"$one_of": [SELFTEST_FAILED, fail("E_UNKNOWN_OP", 3, "selftest")]},
                "nothing to test: not ok, or no selftest op",
            ),
        ],
        "diag": [
            send(req(1, "diag", {}), "counters"),
            expect(
                reply(
                    1,
                    "diag",
                    _with(
                        ("frames_dropped", {"$any": "uint"}),
                        ("errors", {"$any": "uint"}),
                        ("uptime_ms", {"$any": "uint"}),
                        ("heap_free", {"$any": "uint"}),
                    ),
                ),
                "at least the four named counters",
            ),
        ],
    }
