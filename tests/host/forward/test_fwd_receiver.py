"""The reference receiver over real HTTP on 127.0.0.1: validation, size limit, deduplication, GET, OpenAPI."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from partycard.backend.server import ReceiverServer
from partycard.forward.record import canonical_json, record_schema

from .conftest import make_record, received


def _post(
    server: ReceiverServer, body: bytes, key: str | None, ctype: str = "application/json"
) -> httpx.Response:
    headers = {"Content-Type": ctype}
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx.post(f"{server.url}/v1/results", content=body, headers=headers, timeout=10)


def _error(resp: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = resp.json()["error"]
    assert body["code"] and body["message"]
    return body


def test_first_delivery_201_then_same_body_200_with_the_original_receipt(receiver: ReceiverServer) -> None:
    rec = make_record()
    first = _post(receiver, canonical_json(rec), rec["record_id"])
    assert first.status_code == 201
    receipt = first.json()
    assert receipt["record_id"] == rec["record_id"]
    # Same record, different key order and whitespace: the same body for deduplication.
    again = _post(receiver, json.dumps(rec, indent=2).encode(), rec["record_id"])
    assert again.status_code == 200 and again.json() == receipt
    [item] = received(receiver.url)
    assert item["record"] == rec and item["deliveries"] == 2


def test_same_key_with_another_body_is_409_and_the_original_is_kept(receiver: ReceiverServer) -> None:
    rec = make_record()
    assert _post(receiver, canonical_json(rec), rec["record_id"]).status_code == 201
    other = dict(rec, verdict="valid")
    resp = _post(receiver, canonical_json(other), rec["record_id"])
    assert resp.status_code == 409 and _error(resp)["code"] == "idempotency_conflict"
    [item] = received(receiver.url)
    assert item["record"]["verdict"] == "invalid" and item["deliveries"] == 1


@pytest.mark.parametrize(
    ("build", "status", "code"),
    [
        (lambda r: (b"x" * (64 * 1024 + 1), r["record_id"], "application/json"), 413, "payload_too_large"),
        (
            lambda r: (canonical_json(dict(r, site_id="S" * 70_000)), r["record_id"], "application/json"),
            413,
            "payload_too_large",
        ),
        (lambda r: (b'{"record_id": ', r["record_id"], "application/json"), 400, "malformed_json"),
        (lambda r: (b"\xff\xfe{}", r["record_id"], "application/json"), 400, "malformed_json"),
        # FOUND: these three were HTTP 500 with a traceback (RecursionError, int digit limit).
        (lambda r: (b"[" * 32_000 + b"]" * 32_000, r["record_id"], "application/json"), 400, "malformed_json"),
        (lambda r: (b"1" * 5000, r["record_id"], "application/json"), 400, "malformed_json"),
        (lambda r: (b'{"n": ' + b"9" * 5000 + b"}", r["record_id"], "application/json"), 400, "malformed_json"),
        (lambda r: (canonical_json(r), None, "application/json"), 400, "missing_idempotency_key"),
        (lambda r: (canonical_json(r), str(uuid.uuid4()), "application/json"), 422, "key_mismatch"),
        (
            lambda r: (canonical_json(dict(r, photo="/9j/4AAQ")), r["record_id"], "application/json"),
            422,
            "schema_violation",
        ),
        (
            lambda r: (
                canonical_json({k: v for k, v in r.items() if k != "checks"}),
                r["record_id"],
                "application/json",
            ),
            422,
            "schema_violation",
        ),
        (lambda r: (b"[]", r["record_id"], "application/json"), 422, "schema_violation"),
        (lambda r: (canonical_json(r), r["record_id"], "text/plain"), 415, "unsupported_media_type"),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_are_never_stored(
    receiver: ReceiverServer, build: Any, status: int, code: str
) -> None:
    body, key, ctype = build(make_record())
    resp = _post(receiver, body, key, ctype)
    assert resp.status_code == status, resp.text
    assert _error(resp)["code"] == code
    assert received(receiver.url) == []


def test_schema_violation_names_the_path_but_not_the_value(receiver: ReceiverServer) -> None:
    rec = make_record()
    rec["personal"] = {"full_name": "Lê Văn Cường", "photo": "AA=="}
    resp = _post(receiver, canonical_json(rec), rec["record_id"])
    assert resp.status_code == 422
    details = _error(resp)["details"]
    assert any(d.startswith("$.personal:") for d in details)
    assert "Cường" not in resp.text


def test_oversized_body_without_content_length_is_refused_while_streaming(receiver: ReceiverServer) -> None:
    rec = make_record()

    def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1024  # 100 KiB of JSON whitespace, sent chunked

    resp = httpx.post(
        f"{receiver.url}/v1/results",
        content=chunks(),
        timeout=10,
        headers={"Content-Type": "application/json", "Idempotency-Key": rec["record_id"]},
    )
    assert resp.status_code == 413


def test_get_filters_by_reader_in_arrival_order(receiver: ReceiverServer) -> None:
    recs = [make_record("A", 0), make_record("B", 1), make_record("A", 2)]
    for r in recs:
        assert _post(receiver, canonical_json(r), r["record_id"]).status_code == 201
    assert [i["record_id"] for i in received(receiver.url, "A")] == [
        recs[0]["record_id"],
        recs[2]["record_id"],
    ]
    assert len(received(receiver.url)) == 3
    for query in ({"limit": "lots"}, {"after": "9" * 23}, {"after": "-1"}, {"after": "1_0"}, {"limit": "0"},
                  {"after": "\u0661"}):  # the last: ARABIC-INDIC DIGIT ONE, which int() takes
        bad = httpx.get(f"{receiver.url}/v1/results", params=query, timeout=10)
        assert bad.status_code == 400 and _error(bad)["code"] == "bad_query", (query, bad.text)
    assert received(receiver.url, "A") and httpx.get(
        f"{receiver.url}/v1/results", params={"after": "9" * 18}, timeout=10
    ).json() == {"results": []}


def test_openapi_31_document_embeds_the_record_schema(receiver: ReceiverServer) -> None:
    doc = httpx.get(f"{receiver.url}/openapi.json", timeout=10).json()
    assert doc["openapi"].startswith("3.1.")
    post = doc["paths"]["/v1/results"]["post"]
    assert {"201", "200", "400", "409", "413", "422"} <= set(post["responses"])
    embedded = doc["components"]["schemas"]["ResultRecord"]
    assert embedded == {k: v for k, v in record_schema().items() if k != "$schema"}
    # The embedded schema still validates records on its own (its $id scopes its $refs).
    Draft202012Validator(embedded).validate(make_record())


def test_healthz(receiver: ReceiverServer) -> None:
    resp = httpx.get(f"{receiver.url}/healthz", timeout=10)
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}
