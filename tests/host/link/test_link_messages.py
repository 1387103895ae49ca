"""Envelope validation (SPEC.md §3 tables, §3.2 unknown keys, §5 unknown codes).

Payloads are built with cbor2's canonical encoder, independently of the codec under test.
"""

from __future__ import annotations

from typing import Any

import cbor2
import pytest

from partycard.errors import DecodeError
from partycard.link.codes import MAX_KEY_LEN, MAX_MESSAGE_LEN, MAX_REQUEST_ID, ErrorCode
from partycard.link.messages import ErrorMessage, Event, Request, Response, from_payload


def _cbor(value: Any) -> bytes:
    return cbor2.dumps(value, canonical=True)


def test_request_payload_is_the_spec_envelope() -> None:
    payload = Request(1, "hello", {}).to_payload()
    assert payload == bytes.fromhex("a5000101000201036568656c6c6f04a0")  # {0:1,1:0,2:1,3:"hello",4:{}}
    assert from_payload(payload) == Request(1, "hello", {})


@pytest.mark.parametrize(
    "message",
    [
        Response(5, "ping", {"data": b"\x00\x01"}),
        Event(0, "card.removed", {"uid": b"\x04\x11"}),
        ErrorMessage(0x40, "no card", {}, 9, "card.wait"),
        ErrorMessage(0x01, "bad cbor"),  # id and op could not be read
    ],
)
def test_round_trip_of_each_type(message: Response | Event | ErrorMessage) -> None:
    assert from_payload(message.to_payload()) == message
    assert type(message).from_payload(message.to_payload()) == message


def test_from_payload_of_the_wrong_type_is_a_schema_error() -> None:
    with pytest.raises(DecodeError) as info:
        Response.from_payload(Request(1, "hello", {}).to_payload())
    assert info.value.code == ErrorCode.E_SCHEMA


def test_unknown_body_keys_are_kept_for_the_typed_layer_to_ignore() -> None:
    payload = _cbor({0: 1, 1: 1, 2: 3, 3: "hello", 4: {"protocol": 1, "new-field": [1, 2]}})
    message = from_payload(payload)
    assert isinstance(message, Response)
    assert message.body["new-field"] == [1, 2]


def test_unknown_error_code_keeps_its_number_and_unknown_detail_keys_are_kept() -> None:
    payload = _cbor({0: 1, 1: 3, 2: 8, 3: "apdu", 5: {"code": 0x9A, "message": "new", "status": 1, "x": b""}})
    message = from_payload(payload)
    assert isinstance(message, ErrorMessage)
    assert message.code == 0x9A and message.known_code is None
    assert message.detail == {"status": 1, "x": b""}


def test_known_error_code() -> None:
    message = ErrorMessage.from_payload(_cbor({0: 1, 1: 3, 5: {"code": 0x41, "message": "gone"}}))
    assert message.known_code is ErrorCode.E_CARD_REMOVED
    assert message.id is None and message.op is None


def test_other_version_is_e_version() -> None:
    with pytest.raises(DecodeError) as info:
        from_payload(_cbor({0: 2, 1: 1, 2: 1, 3: "hello", 4: {}}))
    assert info.value.code == ErrorCode.E_VERSION


_GOOD_RESPONSE = {0: 1, 1: 1, 2: 1, 3: "ping", 4: {}}


def _without(key: int) -> dict[int, Any]:
    return {k: v for k, v in _GOOD_RESPONSE.items() if k != key}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ([1, 1, 1], "envelope not a map"),
        (_without(0), "no version"),
        ({**_GOOD_RESPONSE, 0: "1"}, "version as text"),
        ({**_GOOD_RESPONSE, 0: True}, "version as bool"),
        (_without(1), "no type"),
        ({**_GOOD_RESPONSE, 1: 4}, "type 4"),
        ({**_GOOD_RESPONSE, 1: False}, "type as bool"),
        (_without(2), "response without id"),
        (_without(3), "response without op"),
        (_without(4), "response without body"),
        ({**_GOOD_RESPONSE, 5: {"code": 1, "message": ""}}, "response with error"),
        ({**_GOOD_RESPONSE, 6: 0}, "unknown envelope key"),
        ({**_GOOD_RESPONSE, "x": 0}, "text envelope key"),
        ({**_GOOD_RESPONSE, 2: -1}, "negative id"),
        ({**_GOOD_RESPONSE, 2: MAX_REQUEST_ID + 1}, "id beyond MAX_REQUEST_ID"),
        ({**_GOOD_RESPONSE, 3: b"ping"}, "op as bytes"),
        ({**_GOOD_RESPONSE, 4: []}, "body as array"),
        ({**_GOOD_RESPONSE, 4: {1: 2}}, "body with an integer key"),
        ({**_GOOD_RESPONSE, 4: {"k" * (MAX_KEY_LEN + 1): 0}}, "body key too long"),
        ({0: 1, 1: 3, 2: 1, 3: "x", 4: {}, 5: {"code": 1, "message": ""}}, "error with body"),
        ({0: 1, 1: 3, 2: 1}, "error without error map"),
        ({0: 1, 1: 3, 5: {"message": "m"}}, "error without code"),
        ({0: 1, 1: 3, 5: {"code": -1, "message": "m"}}, "negative code"),
        ({0: 1, 1: 3, 5: {"code": 1}}, "error without message"),
        ({0: 1, 1: 3, 5: {"code": 1, "message": "m" * (MAX_MESSAGE_LEN + 1)}}, "message too long"),
        ({0: 1, 1: 3, 5: [1, "m"]}, "error map as array"),
        ({0: 1, 1: 2, 2: 0, 3: "log"}, "event without body"),
    ],
)
def test_envelope_shape_errors_are_e_schema(value: Any, why: str) -> None:
    with pytest.raises(DecodeError) as info:
        from_payload(_cbor(value))
    assert info.value.code == ErrorCode.E_SCHEMA, why


def test_limits_at_the_edge_are_accepted() -> None:
    body = {"k" * MAX_KEY_LEN: 0}
    edge = _cbor({0: 1, 1: 1, 2: MAX_REQUEST_ID, 3: "x", 4: body})
    assert from_payload(edge) == Response(MAX_REQUEST_ID, "x", body)
    long_message = "é" * (MAX_MESSAGE_LEN // 2)  # 200 bytes of UTF-8
    error = from_payload(_cbor({0: 1, 1: 3, 5: {"code": 1, "message": long_message}}))
    assert isinstance(error, ErrorMessage) and error.message == long_message


def test_cbor_errors_surface_with_their_codes() -> None:
    with pytest.raises(DecodeError) as info:
        from_payload(_cbor(_GOOD_RESPONSE) + b"\x00")
    assert info.value.code == ErrorCode.E_CBOR
