"""Backend layer: the receiver's ASGI app (Starlette); HTTP handling only, storage via a ResultStore.

``POST /v1/results`` checks, in order: Content-Type (415), size ≤ 64 KiB (413), Idempotency-Key
present (400), JSON well-formed (400), schema (422), key = record_id (422); then stores with
deduplication (201 new, 200 same key+body with the original receipt, 409 same key+other body).
Nothing that fails a check is stored. Error bodies are ``{"error": {"code", "message", "details"}}``
and never echo record contents (they may hold personal data).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from partycard.backend.openapi import MAX_BODY_BYTES, openapi_document
from partycard.backend.store import ResultStore, db_error_types
from partycard.forward.record import canonical_json, schema_errors

log = logging.getLogger(__name__)


class _Refusal(Exception):
    """A request the receiver refuses; turned into a JSON error response."""

    def __init__(self, status: int, code: str, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return JSONResponse({"error": body}, status_code=self.status)


async def _read_body(request: Request) -> bytes:
    """The request body, refusing (413) as soon as it exceeds MAX_BODY_BYTES — before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _Refusal(413, "payload_too_large", f"body is larger than {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _Refusal(413, "payload_too_large", f"body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_record(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    # ValueError also covers an integer of more digits than int() converts; RecursionError, arrays
    # nested deeper than the parser's stack: hostile bodies get the same 400 as malformed ones.
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Refusal(400, "malformed_json", f"body is not UTF-8 JSON: {exc.__class__.__name__}") from exc
    errors = schema_errors(value)
    if errors:
        raise _Refusal(422, "schema_violation", "record does not match result-record-v1", errors[:20])
    record: dict[str, Any] = value
    return record


async def _checked_request(request: Request) -> tuple[str, dict[str, Any]]:
    """The Idempotency-Key and the record of a POST, or a ``_Refusal`` naming the first problem."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise _Refusal(415, "unsupported_media_type", "Content-Type must be application/json")
    raw = await _read_body(request)
    key = request.headers.get("idempotency-key")
    if not key:
        raise _Refusal(400, "missing_idempotency_key", "the Idempotency-Key header is required")
    record = _parse_record(raw)
    if key != record["record_id"]:
        raise _Refusal(422, "key_mismatch", "Idempotency-Key must equal the record's record_id")
    return key, record


def create_app(store: ResultStore) -> Starlette:
    """The receiver app over ``store`` (the caller owns and closes the store)."""
    db_errors = db_error_types()

    async def post_result(request: Request) -> Response:
        try:
            key, record = await _checked_request(request)
            body = canonical_json(record).decode("utf-8")
            digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
            result = await run_in_threadpool(store.put, key, record["reader_serial"], body, digest)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is listening; nothing was stored
        except _Refusal as refusal:
            log.info("refused a record: HTTP %d %s", refusal.status, refusal.code)
            return refusal.response()
        except db_errors as exc:
            log.error("storage failed: %s", exc)
            return _Refusal(503, "storage_unavailable", "storage failed; retry later").response()
        log.info("record %s from reader %s: %s", key, record["reader_serial"], result.kind)
        if result.kind == "conflict":
            return _Refusal(409, "idempotency_conflict",
                            "this Idempotency-Key was already used with a different body").response()
        return JSONResponse(result.receipt, status_code=201 if result.kind == "created" else 200)

    async def list_results(request: Request) -> Response:
        after_text = request.query_params.get("after", "0")
        limit_text = request.query_params.get("limit", "100")
        # Plain ASCII digits that fit SQLite's 64-bit integers (int() would also take "1_0", "+1",
        # other scripts' digits, and numbers SQLite cannot bind).
        if not all(t.isascii() and t.isdigit() and len(t) <= 18 for t in (after_text, limit_text)):
            return _Refusal(400, "bad_query", "after and limit must be integers of at most 18 digits").response()
        after, limit = int(after_text), int(limit_text)
        if not 1 <= limit <= 1000:
            return _Refusal(400, "bad_query", "need after >= 0 and 1 <= limit <= 1000").response()
        reader = request.query_params.get("reader")
        items = await run_in_threadpool(store.list, reader, after, limit)
        return JSONResponse({"results": items})

    async def healthz(request: Request) -> Response:
        try:
            await run_in_threadpool(store.ping)
        except db_errors:
            return _Refusal(503, "storage_unavailable", "storage does not answer").response()
        return JSONResponse({"status": "ok"})

    document = openapi_document()

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    return Starlette(routes=[
        Route("/v1/results", post_result, methods=["POST"]),
        Route("/v1/results", list_results, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ])
