"""Every vector against reader.cddl and the strict CBOR rules, positive and negative (SPEC.md §3)."""

from __future__ import annotations

import copy
import re

import pytest
from protocol.tools import check_vectors, strict_cbor
from protocol.tools.check_vectors import Schema, check_invalid, check_messages, check_session
from protocol.tools.vectorlib import Json, encode, from_json
from protocol.tools.wire import CODES

from tests.protocol.conftest import records

MESSAGES = records("messages.jsonl")
INVALID = records("invalid.jsonl")
READER_CHECKS = [r for r in INVALID if r["layer"] in ("envelope", "body")]


def test_whole_suite_has_no_problems() -> None:
    assert check_vectors.check_all() == []


@pytest.mark.parametrize("record", MESSAGES, ids=[r["id"] for r in MESSAGES])
def test_message_fits_cddl(record: dict[str, Json], schema: Schema) -> None:
    payload = bytes.fromhex(record["cbor_hex"])
    assert schema.validate(payload) is None
    strict_cbor.check(payload)


@pytest.mark.parametrize("record", READER_CHECKS, ids=[r["id"] for r in READER_CHECKS])
def test_refused_request_against_cddl(record: dict[str, Json], schema: Schema) -> None:
    complaint = schema.validate(bytes.fromhex(record["bytes_hex"]), request=True)
    if record["error"] == "E_BAD_ARGUMENT":
        assert complaint is None, "value-range errors must pass the schema (reader.cddl header)"
    else:
        assert complaint is not None, f"{record['error']} expected, but reader.cddl accepts it"


# The checks themselves must be able to fail: each mutation below breaks one rule.


def _mutated(record_id: str, source: list[dict[str, Json]]) -> dict[str, Json]:
    return copy.deepcopy(next(r for r in source if r["id"] == record_id))


def test_unknown_request_body_key_is_caught(schema: Schema) -> None:
    record = _mutated("ping-request-data", MESSAGES)
    record["value"]["$map"][-1][1]["$map"].append(["x", 1])
    record["cbor_hex"] = encode(from_json(record["value"])).hex()
    problems = check_messages([record], schema)
    assert any("fails reader.cddl" in p for p in problems)


def test_non_deterministic_cbor_hex_is_caught(schema: Schema) -> None:
    record = _mutated("ping-request-id-24", MESSAGES)
    record["cbor_hex"] = record["cbor_hex"].replace("021818", "02190018")
    problems = check_messages([record], schema)
    assert any("not the deterministic encoding" in p for p in problems)
    assert any("strict CBOR check fails" in p for p in problems)


def test_wrong_diag_is_caught(schema: Schema) -> None:
    record = _mutated("hello-request", MESSAGES)
    record["diag"] = record["diag"].replace('"hello"', '"helo"')
    assert any("diag" in p for p in check_messages([record], schema))


def test_missing_coverage_is_caught(schema: Schema) -> None:
    without_diag = [r for r in MESSAGES if r["op"] != "diag"]
    problems = check_messages(without_diag, schema)
    assert "messages: no request for diag" in problems
    assert "messages: no response for diag" in problems


def test_wrong_cbor_error_is_caught(schema: Schema) -> None:
    record = _mutated("cbor-depth-over", INVALID)
    record["error"] = "E_CBOR"
    assert check_invalid([record], schema) != []


def test_wrong_reply_echo_is_caught(schema: Schema) -> None:
    record = _mutated("envelope-id-text", INVALID)
    record["reply_id"] = 7
    assert any("§3.2 order" in p for p in check_invalid([record], schema))


def test_valid_request_in_invalid_is_caught(schema: Schema) -> None:
    record = _mutated("body-ping-extra-key", INVALID)
    record["bytes_hex"] = bytes.fromhex(
        next(r for r in MESSAGES if r["id"] == "ping-request-data")["cbor_hex"]
    ).hex()
    assert check_invalid([record], schema) != []


def test_session_matcher_outside_cddl_is_caught(schema: Schema) -> None:
    lines: list[dict[str, Json]] = [
        {
            "dir": "host>reader",
            "value": {"$map": [[0, 1], [1, 0], [2, 1], [3, "diag"], [4, {"$map": []}]]},
            "note": "diag",
        },
        {
            "dir": "reader>host",
            "note": "a reply with a text id",
            "match": {"$map": [[0, 1], [1, 1], [2, "1"], [3, "diag"], [4, {"$any": "map"}]]},
        },
    ]
    assert any("no CDDL-valid reply" in p for p in check_session("t", lines, schema))


def test_refused_request_must_get_an_error(schema: Schema) -> None:
    lines: list[dict[str, Json]] = [
        {
            "dir": "host>reader",
            "value": {"$map": [[0, 1], [1, 0], [2, 1], [3, "nope"], [4, {"$map": []}]]},
            "note": "unknown op",
        },
        {
            "dir": "reader>host",
            "note": "but a response is expected",
            "match": {
                "$map": [[0, 1], [1, 1], [2, 1], [3, "ping"], [4, {"$map_with": [["data", {"$bytes": ""}]]}]]
            },
        },
    ]
    assert any("must be refused" in p for p in check_session("t", lines, schema))


# reader.cddl repeats a few numbers and every op name of codes.toml; they must agree.

CDDL_TEXT = check_vectors.CDDL.read_text(encoding="utf-8")


def _cddl_number(pattern: str) -> int:
    found = re.search(pattern, CDDL_TEXT, re.M)
    assert found is not None, pattern
    return int(found[1])


def test_cddl_numbers_match_codes() -> None:
    limits = CODES["limit"]
    assert _cddl_number(r"^version = (\d+)") == CODES["protocol"]["version"]
    assert _cddl_number(r"^request-id = 0\.\.(\d+)") == limits["MAX_REQUEST_ID"]
    assert _cddl_number(r'"message" => tstr \.size \(0\.\.(\d+)\)') == limits["MAX_MESSAGE_LEN"]


def test_cddl_has_a_rule_per_op_and_event() -> None:
    rules = set(re.findall(r"^([a-z][a-z0-9-]*) =", CDDL_TEXT, re.M))
    for op in check_vectors.OPS:
        assert {f"{op.replace('.', '-')}-req", f"{op.replace('.', '-')}-resp"} <= rules, op
    for event in check_vectors.EVENTS:
        assert f"{event.replace('.', '-')}-ev" in rules, event
    named = set(re.findall(r'3 => "([a-z.]+)"', CDDL_TEXT))
    assert named == set(check_vectors.OPS) | set(check_vectors.EVENTS)
