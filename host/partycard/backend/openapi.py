"""Backend layer: the receiver's OpenAPI 3.1 description, built from the result-record JSON Schema.

Hand-written rather than generated, so the published contract is reviewed like code; it embeds
the very schema the receiver validates with, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from partycard import __version__
from partycard.forward.record import record_schema

MAX_BODY_BYTES = 64 * 1024


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _receipt_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}},
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1.0 document served at ``/openapi.json``."""
    record = {k: v for k, v in record_schema().items() if k != "$schema"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "partycard reference receiver",
            "version": __version__,
            "description": "Accepts result records from reader sites; at-least-once delivery, "
            "deduplicated by Idempotency-Key (= record_id).",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": {
            "/v1/results": {
                "post": {
                    "operationId": "postResult",
                    "summary": "Store one result record (idempotent by key)",
                    "parameters": [{
                        "name": "Idempotency-Key", "in": "header", "required": True,
                        "description": "Must equal the record's record_id.",
                        "schema": {"type": "string", "format": "uuid"},
                    }],
                    "requestBody": {
                        "required": True,
                        "description": f"At most {MAX_BODY_BYTES} bytes.",
                        "content": {"application/json": {"schema": _ref("ResultRecord")}},
                    },
                    "responses": {
                        "201": _receipt_response("Stored for the first time."),
                        "200": _receipt_response("Already stored (same key and body): the original receipt."),
                        "400": _error_response("Missing Idempotency-Key or malformed JSON."),
                        "409": _error_response("This key was already used with a different body."),
                        "413": _error_response(f"Body larger than {MAX_BODY_BYTES} bytes."),
                        "415": _error_response("Content-Type is not application/json."),
                        "422": _error_response("Body breaks the schema, or key ≠ record_id."),
                        "503": _error_response("Storage unavailable; retry later."),
                    },
                },
                "get": {
                    "operationId": "listResults",
                    "summary": "Stored records in arrival order (tests and operations)",
                    "parameters": [
                        {"name": "reader", "in": "query", "required": False, "schema": {"type": "string"}},
                        {"name": "after", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 0, "default": 0}},
                        {"name": "limit", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of stored records.",
                            "content": {"application/json": {"schema": _ref("ResultList")}},
                        },
                        "400": _error_response("Bad query parameter."),
                    },
                },
            },
            "/healthz": {"get": {"operationId": "health", "summary": "Liveness and storage check",
                                 "responses": {"200": {"description": "Healthy."},
                                               "503": _error_response("Storage unavailable.")}}},
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                      "responses": {"200": {"description": "OpenAPI 3.1 document."}}}},
        },
        "components": {"schemas": {
            "ResultRecord": record,
            "Receipt": {
                "type": "object", "additionalProperties": False,
                "required": ["record_id", "seq", "received_at"],
                "properties": {"record_id": {"type": "string", "format": "uuid"},
                               "seq": {"type": "integer"},
                               "received_at": {"type": "string", "format": "date-time"}},
            },
            "ResultList": {
                "type": "object", "required": ["results"],
                "properties": {"results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["seq", "record_id", "received_at", "deliveries", "record"],
                    "properties": {"seq": {"type": "integer"}, "record_id": {"type": "string"},
                                   "received_at": {"type": "string", "format": "date-time"},
                                   "deliveries": {"type": "integer", "minimum": 1},
                                   "record": {"$ref": "#/components/schemas/ResultRecord"}},
                }}},
            },
            "Error": {
                "type": "object", "required": ["error"],
                "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                   "details": {"type": "array", "items": {"type": "string"}}},
                }},
            },
        }},
    }
