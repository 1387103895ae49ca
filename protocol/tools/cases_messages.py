"""Protocol tools: the valid messages of vectors/messages.jsonl, as Python items. Pure data, no I/O."""

from __future__ import annotations

from typing import Any

from protocol.tools.wire import CODES

ERR: dict[str, int] = CODES["error"]
MAX_REQUEST_ID: int = CODES["limit"]["MAX_REQUEST_ID"]
MAX_PAYLOAD: int = CODES["limit"]["MAX_PAYLOAD"]
MAX_DEPTH: int = CODES["limit"]["MAX_DEPTH"]
MAX_ITEMS: int = CODES["limit"]["MAX_ITEMS"]
MAX_ENTRIES: int = CODES["limit"]["MAX_ENTRIES"]
MAX_MESSAGE_LEN: int = CODES["limit"]["MAX_MESSAGE_LEN"]
REQUEST, RESPONSE, EVENT, ERROR = 0, 1, 2, 3
TYPE_NAMES = {REQUEST: "request", RESPONSE: "response", EVENT: "event", ERROR: "error"}

# One record: (id, item, note). Direction, type and op follow from the item.
Case = tuple[str, dict[int, Any], str]

# ICAO 9303-10 §3.11.4.1: SELECT of the eMRTD application (AID A0 00 00 02 47 10 01), no response data.
SELECT_EMRTD = bytes.fromhex("00a4040c07a0000002471001")
GET_CHALLENGE = bytes.fromhex("0084000008")  # ICAO 9303-11 §4.3.4.1 (BAC): 8-byte challenge
SW_OK = bytes.fromhex("9000")
UID_A = bytes.fromhex("08a1b2c3")  # ISO 14443-3 §6.5.4: a random single-size UID starts with 0x08
ATS_A = bytes.fromhex("0578807002")
UID_B = bytes.fromhex("a1b2c3d4")
ATQB_B = bytes.fromhex("50a1b2c3d400000000718571")
BOOT_ID = bytes.fromhex("5f1e0c2a9d734b80")


def req(rid: int, op: str, body: dict[str, Any]) -> dict[int, Any]:
    return {0: 1, 1: REQUEST, 2: rid, 3: op, 4: body}


def resp(rid: int, op: str, body: dict[str, Any]) -> dict[int, Any]:
    return {0: 1, 1: RESPONSE, 2: rid, 3: op, 4: body}


def event(seq: int, op: str, body: dict[str, Any]) -> dict[int, Any]:
    return {0: 1, 1: EVENT, 2: seq, 3: op, 4: body}


def error(
    code: str, message: str, rid: int | None = None, op: str | None = None, **extra: Any
) -> dict[int, Any]:
    item: dict[int, Any] = {0: 1, 1: ERROR, 5: {"code": ERR[code], "message": message, **extra}}
    if rid is not None:
        item[2] = rid
    if op is not None:
        item[3] = op
    return item


def _hello_body(frontend: str | None, **extra: Any) -> dict[str, Any]:
    ops = [v for k, v in CODES["op"].items() if not k.startswith("EV_")]
    return {
        "protocol": 1,
        "firmware": "0.1.0",
        "serial": "SIM-0001",
        "max_payload": MAX_PAYLOAD,
        "frontend": frontend,
        "ops": ops,
        "boot_id": BOOT_ID,
        "board": "esp32-devkitc",
        **extra,
    }


def _nested(depth: int) -> list[Any]:
    """An array nested so that its innermost array sits at depth (the array itself at depth 1)."""
    item: list[Any] = []
    for _ in range(depth - 1):
        item = [item]
    return item


def config_at_depth(depth: int) -> dict[str, Any]:
    """A config map whose innermost array is at the given envelope depth (envelope 1, body 2, config 3)."""
    return {"nest": _nested(depth - 3)}


def card_a() -> dict[str, Any]:
    return {"type": "A", "uid": UID_A, "ats": ATS_A, "atqb": None}


def card_b() -> dict[str, Any]:
    return {"type": "B", "uid": UID_B, "ats": None, "atqb": ATQB_B}


def requests() -> list[Case]:
    data_2048 = bytes(i % 251 + 1 for i in range(MAX_PAYLOAD - 23))
    return [
        ("hello-request", req(1, "hello", {}), "the first request of every session"),
        ("ping-request-empty", req(2, "ping", {}), "data is optional"),
        ("ping-request-data", req(3, "ping", {"data": b"\x00\x01\xfe\xff"}), "bytes including 0x00"),
        ("ping-request-id-0", req(0, "ping", {}), "smallest request id"),
        ("ping-request-id-23", req(23, "ping", {}), "largest id in the initial byte"),
        ("ping-request-id-24", req(24, "ping", {}), "smallest id needing one argument byte"),
        ("ping-request-id-255", req(255, "ping", {}), "largest one-byte argument"),
        ("ping-request-id-256", req(256, "ping", {}), "smallest two-byte argument"),
        ("ping-request-id-65535", req(65535, "ping", {}), "largest two-byte argument"),
        ("ping-request-id-65536", req(65536, "ping", {}), "smallest four-byte argument"),
        ("ping-request-id-max", req(MAX_REQUEST_ID, "ping", {}), "MAX_REQUEST_ID; the next id wraps to 0"),
        (
            "ping-request-max-payload",
            req(4, "ping", {"data": data_2048}),
            "payload of exactly MAX_PAYLOAD bytes",
        ),
        ("cancel-request", req(5, "cancel", {"request": 4}), "cancel may overtake the running request"),
        ("card-wait-request", req(6, "card.wait", {"timeout_ms": 5000}), "wait up to 5 s for a card"),
        ("card-wait-request-zero", req(7, "card.wait", {"timeout_ms": 0}), "poll once"),
        ("apdu-request", req(8, "apdu", {"apdu": SELECT_EMRTD}), "SELECT eMRTD application"),
        (
            "apdu-batch-request",
            req(9, "apdu.batch", {"apdus": [SELECT_EMRTD, GET_CHALLENGE]}),
            "continue defaults to [0x9000]",
        ),
        (
            "apdu-batch-request-continue",
            req(10, "apdu.batch", {"apdus": [SELECT_EMRTD, GET_CHALLENGE], "continue": [0x9000, 0x6282]}),
            "keys sorted length-first: apdus before continue",
        ),
        ("card-release-request", req(11, "card.release", {}), "deselect the card and switch the field off"),
        ("config-get-request", req(12, "config.get", {}), "read the stored settings"),
        (
            "config-set-request",
            req(13, "config.set", {"config": {"led": True, "name": "door-1"}}),
            "store settings",
        ),
        (
            "config-set-request-depth-max",
            req(14, "config.set", {"config": config_at_depth(MAX_DEPTH)}),
            "an empty array at depth MAX_DEPTH (envelope 1, body 2, config 3) is allowed",
        ),
        (
            "config-set-request-items-max",
            req(15, "config.set", {"config": {f"k{i:02d}": i for i in range(MAX_ITEMS)}}),
            "a map of exactly MAX_ITEMS entries is allowed",
        ),
        (
            "config-set-request-entries-max",
            req(15, "config.set", {"config": {f"k{i:02d}": [0] * 24 for i in range(10)}}),
            "exactly MAX_ENTRIES entries in all: envelope 5, body 1, config 10, ten arrays of 24",
        ),
        ("selftest-request", req(16, "selftest", {}), "check front-end and RF"),
        ("reboot-request", req(17, "reboot", {}), "restart the reader"),
        (
            "reboot-maintenance-request",
            req(17, "reboot", {"maintenance": True}),
            "restart to the MicroPython prompt once (a deployment)",
        ),
        ("ui-request", req(18, "ui", {"pattern": "ok"}), "show a LED/buzzer pattern"),
        ("diag-request", req(19, "diag", {}), "read the counters"),
    ]


def responses() -> list[Case]:
    return [
        ("hello-response", resp(1, "hello", _hello_body("PN532 v1.6")), "a reader with its front-end"),
        ("hello-response-no-frontend", resp(1, "hello", _hello_body(None)), "no front-end answered"),
        (
            "hello-response-extra-key",
            resp(1, "hello", _hello_body("PN532 v1.6", flash="4MB")),
            "the host ignores keys it does not know",
        ),
        (
            "ping-response-empty",
            resp(2, "ping", {"data": b""}),
            "answer to a ping without data, or with empty data",
        ),
        ("ping-response-data", resp(3, "ping", {"data": b"\x00\x01\xfe\xff"}), "the same bytes"),
        ("ping-response-id-max", resp(MAX_REQUEST_ID, "ping", {"data": b""}), "the id MAX_REQUEST_ID echoed"),
        (
            "cancel-response-true",
            resp(5, "cancel", {"cancelled": True}),
            "the running request was cancelled (it ends with E_CANCELLED)",
        ),
        ("cancel-response-false", resp(5, "cancel", {"cancelled": False}), "that request was not running"),
        ("card-wait-response-a", resp(6, "card.wait", card_a()), "ISO 14443-4 type A"),
        ("card-wait-response-b", resp(6, "card.wait", card_b()), "ISO 14443-4 type B"),
        ("apdu-response", resp(8, "apdu", {"response": SW_OK}), "no data, SW 9000"),
        (
            "apdu-response-data",
            resp(8, "apdu", {"response": bytes.fromhex("4608b9c5e2a1f1d0379000")}),
            "data then SW",
        ),
        (
            "apdu-batch-response",
            resp(9, "apdu.batch", {"responses": [SW_OK, bytes.fromhex("4608b9c5e2a1f1d0379000")]}),
            "both APDUs ran",
        ),
        (
            "apdu-batch-response-stopped",
            resp(10, "apdu.batch", {"responses": [bytes.fromhex("6a82")]}),
            "stopped after a status word not in continue",
        ),
        ("card-release-response", resp(11, "card.release", {}), "empty body"),
        (
            "config-get-response",
            resp(12, "config.get", {"config": {"led": True, "name": "door-1"}}),
            "the stored settings",
        ),
        (
            "config-set-response",
            resp(13, "config.set", {"config": {"led": True, "name": "door-1"}}),
            "the stored result",
        ),
        (
            "selftest-response",
            resp(16, "selftest", {"frontend": "PN532", "firmware": "1.6", "rf": True, "ok": True}),
            "all good",
        ),
        (
            "selftest-response-no-frontend",
            resp(16, "selftest", {"frontend": None, "firmware": None, "rf": False, "ok": False}),
            "no front-end: nothing to test, not ok",
        ),
        ("reboot-response", resp(17, "reboot", {}), "sent before the reader restarts"),
        ("ui-response", resp(18, "ui", {}), "empty body"),
        (
            "diag-response",
            resp(
                19,
                "diag",
                {
                    "frames_dropped": 3,
                    "errors": 1,
                    "uptime_ms": 123456,
                    "heap_free": 61440,
                    "events_dropped": 0,
                },
            ),
            "more counters than the four named ones",
        ),
    ]


def events() -> list[Case]:
    return [
        (
            "card-present-event-a",
            event(0, "card.present", card_a()),
            "the first event after start has sequence 0",
        ),
        ("card-present-event-b", event(1, "card.present", card_b()), "type B card"),
        ("card-removed-event", event(2, "card.removed", {"uid": UID_A}), "only the uid"),
        ("card-removed-event-full", event(3, "card.removed", card_a()), "the whole card body"),
        ("keepalive-event", event(4, "keepalive", {"request": 6}), "while request 6 runs"),
        (
            "log-event",
            event(5, "log", {"level": "info", "text": "front-end ready"}),
            "a log line routed to the host",
        ),
        (
            "log-event-seq-large",
            event(70000, "log", {"level": "warning", "text": "rf field error"}),
            "a four-byte sequence",
        ),
    ]


def errors() -> list[Case]:
    return [
        ("error-no-card", error("E_NO_CARD", "no card within 5000 ms", 6, "card.wait"), "with id and op"),
        (
            "error-unknown-op",
            error("E_UNKNOWN_OP", "unknown op", 7, "format"),
            "op echoed even though unknown",
        ),
        (
            "error-version",
            error("E_VERSION", "version 2 not supported", 7, "hello", supported=[1]),
            "lists the supported versions",
        ),
        (
            "error-version-no-id",
            error("E_VERSION", "version 2 not supported", supported=[1]),
            "request without a readable id",
        ),
        ("error-cbor", error("E_CBOR", "indefinite length"), "no id and no op"),
        ("error-schema-id-only", error("E_SCHEMA", "op missing", 7), "id readable, op not"),
        ("error-schema-op-only", error("E_SCHEMA", "id missing", op="ping"), "op readable, id not"),
        (
            "error-pn532-status",
            error("E_PN532_STATUS", "front-end status", 8, "apdu", status=0x01),
            "PN532 status byte",
        ),
        (
            "error-batch-index",
            error("E_CARD_REMOVED", "card removed", 9, "apdu.batch", index=1),
            "the failing APDU",
        ),
        ("error-busy", error("E_BUSY", "busy", 20, "ping"), "a request arrived while another was running"),
        (
            "error-cancelled",
            error("E_CANCELLED", "cancelled", 6, "card.wait"),
            "the answer to a cancelled request",
        ),
        ("error-internal", error("E_INTERNAL", "ZeroDivisionError", 19, "diag"), "the reader keeps serving"),
        (
            "error-message-max",
            error("E_INTERNAL", "x" * MAX_MESSAGE_LEN, 19, "diag"),
            "message of MAX_MESSAGE_LEN bytes",
        ),
        (
            "error-unknown-code",
            {0: 1, 1: ERROR, 2: 19, 3: "diag", 5: {"code": 0x9F, "message": "from a newer reader"}},
            "a code this host does not know: kept as unknown with its number",
        ),
        (
            "error-extra-key",
            error("E_NO_CARD", "no card", 6, "card.wait", field="off"),
            "the host ignores keys it does not know",
        ),
    ]


def all_cases() -> list[Case]:
    return requests() + responses() + events() + errors()
