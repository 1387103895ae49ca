"""Protocol tools: well-formed requests the reader must refuse (vectors/invalid.jsonl, layers envelope
and body), with the error and the id and op it echoes (SPEC.md §3.2). Pure data, no I/O.
"""

from __future__ import annotations

from typing import Any

from protocol.tools.cases_messages import MAX_REQUEST_ID, req
from protocol.tools.vectorlib import encode

# (id, bytes, error, reply_id, reply_op, note): reply_* as SPEC.md §3.2 says the error must echo them.
ReplyCase = tuple[str, bytes, str, int | None, str | None, str]


def _env(**keys: Any) -> dict[Any, Any]:
    """The ping request with envelope keys replaced (value ...) or removed (value DROP)."""
    item: dict[Any, Any] = req(7, "ping", {"data": b"\x01\x02"})
    for name, value in keys.items():
        key: Any = int(name[1:]) if name.startswith("k") else name
        if value is DROP:
            del item[key]
        else:
            item[key] = value
    return item


DROP = object()


def envelopes() -> list[ReplyCase]:
    return [
        (
            "envelope-version-2",
            encode(_env(k0=2)),
            "E_VERSION",
            7,
            "ping",
            "answered in version 1 with supported [1]",
        ),
        ("envelope-version-0", encode(_env(k0=0)), "E_VERSION", 7, "ping", "version 0 was never defined"),
        (
            "envelope-version-2-bad-shape",
            encode(_env(k0=2, k1=1, k4=DROP)),
            "E_VERSION",
            7,
            "ping",
            "the version is checked before the shape",
        ),
        (
            "envelope-version-text",
            encode(_env(k0="1")),
            "E_SCHEMA",
            7,
            "ping",
            "key 0 not an unsigned integer",
        ),
        (
            "envelope-version-missing",
            encode(_env(k0=DROP)),
            "E_SCHEMA",
            7,
            "ping",
            "key 0 absent: the version cannot be read",
        ),
        ("envelope-not-map", encode([1, 0, 7, "ping", {}]), "E_SCHEMA", None, None, "an array"),
        ("envelope-uint", encode(1), "E_SCHEMA", None, None, "a bare integer"),
        ("envelope-empty-map", encode({}), "E_SCHEMA", None, None, "no key at all"),
        (
            "envelope-body-missing",
            encode(_env(k4=DROP)),
            "E_SCHEMA",
            7,
            "ping",
            "key 4 is required in a request",
        ),
        (
            "envelope-id-missing",
            encode(_env(k2=DROP)),
            "E_SCHEMA",
            None,
            "ping",
            "key 2 is required in a request",
        ),
        ("envelope-op-missing", encode(_env(k3=DROP)), "E_SCHEMA", 7, None, "key 3 is required in a request"),
        ("envelope-type-missing", encode(_env(k1=DROP)), "E_SCHEMA", 7, "ping", "key 1 is required"),
        (
            "envelope-error-key",
            encode(_env(k5={"code": 1, "message": ""})),
            "E_SCHEMA",
            7,
            "ping",
            "key 5 is forbidden in a request",
        ),
        ("envelope-unknown-key", encode(_env(k6=0)), "E_SCHEMA", 7, "ping", "key 6 is not defined"),
        (
            "envelope-text-key",
            encode(_env(extra=0)),
            "E_SCHEMA",
            7,
            "ping",
            "envelope keys are unsigned integers",
        ),
        (
            "envelope-type-response",
            encode(_env(k1=1)),
            "E_SCHEMA",
            7,
            "ping",
            "a reader accepts only requests",
        ),
        ("envelope-type-event", encode(_env(k1=2)), "E_SCHEMA", 7, "ping", "a reader accepts only requests"),
        ("envelope-type-9", encode(_env(k1=9)), "E_SCHEMA", 7, "ping", "no such type"),
        (
            "envelope-type-response-unknown-op",
            encode(_env(k1=1, k3="format")),
            "E_SCHEMA",
            7,
            "format",
            "the type is checked before the op",
        ),
        (
            "envelope-id-text",
            encode(_env(k2="7")),
            "E_SCHEMA",
            None,
            "ping",
            "an id of the wrong type is not echoed",
        ),
        (
            "envelope-id-above-max",
            encode(_env(k2=MAX_REQUEST_ID + 1)),
            "E_SCHEMA",
            None,
            "ping",
            "an id above MAX_REQUEST_ID is of the wrong type and not echoed",
        ),
        ("envelope-id-bool", encode(_env(k2=True)), "E_SCHEMA", None, "ping", "true is not an integer"),
        ("envelope-version-bool", encode(_env(k0=True)), "E_SCHEMA", 7, "ping", "true is not version 1"),
        ("envelope-op-empty", encode(_env(k3="", k4={})), "E_UNKNOWN_OP", 7, "", "the empty op is echoed"),
        (
            "envelope-id-negative",
            encode(_env(k2=-7)),
            "E_SCHEMA",
            None,
            "ping",
            "ids are unsigned; not echoed",
        ),
        (
            "envelope-op-uint",
            encode(_env(k3=2)),
            "E_SCHEMA",
            7,
            None,
            "an op of the wrong type is not echoed",
        ),
        ("envelope-body-array", encode(_env(k4=[])), "E_SCHEMA", 7, "ping", "the body is a map"),
        (
            "envelope-body-null",
            encode(_env(k4=None)),
            "E_SCHEMA",
            7,
            "ping",
            "the body is a map, even when empty",
        ),
        (
            "envelope-op-unknown",
            encode(_env(k3="format", k4={})),
            "E_UNKNOWN_OP",
            7,
            "format",
            "no reader implements this op",
        ),
        (
            "envelope-op-unknown-bad-body",
            encode(_env(k3="format", k4={"x": b""})),
            "E_UNKNOWN_OP",
            7,
            "format",
            "the op is checked before the body",
        ),
        (
            "envelope-op-case",
            encode(_env(k3="PING", k4={})),
            "E_UNKNOWN_OP",
            7,
            "PING",
            "op names are case-sensitive",
        ),
        (
            "envelope-op-event-name",
            encode(_env(k3="keepalive", k4={"request": 1})),
            "E_UNKNOWN_OP",
            7,
            "keepalive",
            "event names are not operations",
        ),
    ]


def _body(op: str, body: Any) -> bytes:
    return encode(req(7, op, body))


def bodies() -> list[ReplyCase]:
    sch, bad = "E_SCHEMA", "E_BAD_ARGUMENT"
    return [
        ("body-hello-extra-key", _body("hello", {"x": 1}), sch, 7, "hello", "hello takes {}"),
        ("body-ping-data-text", _body("ping", {"data": "AB"}), sch, 7, "ping", "data must be a byte string"),
        (
            "body-ping-extra-key",
            _body("ping", {"data": b"", "x": 1}),
            sch,
            7,
            "ping",
            "unknown key in a request body",
        ),
        (
            "body-ping-long-key",
            _body("ping", {"k" * 24: 1}),
            sch,
            7,
            "ping",
            "a 24-byte key (above MAX_KEY_LEN)",
        ),
        ("body-ping-int-key", _body("ping", {1: b""}), sch, 7, "ping", "body keys are text"),
        ("body-cancel-missing", _body("cancel", {}), sch, 7, "cancel", "request is required"),
        (
            "body-cancel-negative",
            _body("cancel", {"request": -1}),
            sch,
            7,
            "cancel",
            "not an unsigned integer",
        ),
        (
            "body-card-wait-text",
            _body("card.wait", {"timeout_ms": "5000"}),
            sch,
            7,
            "card.wait",
            "timeout_ms is an unsigned integer",
        ),
        ("body-apdu-missing", _body("apdu", {}), sch, 7, "apdu", "apdu is required"),
        (
            "body-apdu-array",
            _body("apdu", {"apdu": [0, 0xA4, 4, 0]}),
            sch,
            7,
            "apdu",
            "an array of integers is not bytes",
        ),
        (
            "body-apdu-batch-item-text",
            _body("apdu.batch", {"apdus": ["00a4040c"]}),
            sch,
            7,
            "apdu.batch",
            "APDUs are byte strings, not hex text",
        ),
        (
            "body-apdu-batch-continue-uint",
            _body("apdu.batch", {"apdus": [], "continue": 0x9000}),
            sch,
            7,
            "apdu.batch",
            "continue is an array",
        ),
        (
            "body-config-set-not-map",
            _body("config.set", {"config": []}),
            sch,
            7,
            "config.set",
            "config is a map",
        ),
        ("body-ui-pattern-bytes", _body("ui", {"pattern": b"ok"}), sch, 7, "ui", "pattern is text"),
        (
            "body-apdu-too-short",
            _body("apdu", {"apdu": bytes.fromhex("00a404")}),
            bad,
            7,
            "apdu",
            "3 bytes: shorter than the 4-byte command header (ISO 7816-4 §5.1)",
        ),
        ("body-apdu-empty", _body("apdu", {"apdu": b""}), bad, 7, "apdu", "an empty command APDU"),
        (
            "body-apdu-batch-item-short",
            _body("apdu.batch", {"apdus": [b"\x00\x84"]}),
            bad,
            7,
            "apdu.batch",
            "a 2-byte APDU inside a batch",
        ),
        (
            "body-apdu-batch-continue-not-sw",
            _body("apdu.batch", {"apdus": [], "continue": [0x10000]}),
            bad,
            7,
            "apdu.batch",
            "a status word is two bytes",
        ),
        (
            "body-apdu-batch-continue-not-sw-with-apdus",
            _body("apdu.batch", {"apdus": [bytes.fromhex("00a4040c07a0000002471001")], "continue": [0x9000, 0x10000]}),
            bad,
            7,
            "apdu.batch",
            "refused before the first APDU runs, whether a card is active or not",
        ),
        (
            "body-apdu-batch-short-after-good",
            _body("apdu.batch", {"apdus": [bytes.fromhex("00a4040c07a0000002471001"), b"\x00"]}),
            bad,
            7,
            "apdu.batch",
            "every APDU is checked before the first one runs: the SELECT must not reach the card",
        ),
        (
            "body-cancel-above-max-id",
            _body("cancel", {"request": 1 << 32}),
            bad,
            7,
            "cancel",
            "no request can have an id above MAX_REQUEST_ID",
        ),
    ]
