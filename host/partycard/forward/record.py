"""Forward layer: the result record (schema v1), its builder and validator; no I/O besides reading the schema.

A record is what a reader site tells the backend about one card check. It carries the verdict with
every check's outcome, the card number and member id, and nothing else personal unless the
deployment opts in explicitly (``include_personal=True``); a photo never goes in a record.
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from partycard.errors import RecordInvalid

SCHEMA_VERSION = 1
SCHEMA_RESOURCE = "schema/result-record-v1.json"

_VERDICT_KEYS = frozenset({"verdict", "policy_version", "issuer", "checks"})


@dataclass(frozen=True)
class PersonalFields:
    """The opt-in personal field set (never the photo)."""

    full_name: str | None = None
    citizen_id_number: str | None = None
    date_of_birth: str | None = None  # ISO 8601 "YYYY-MM-DD"; DG13 may use 00 for an unknown part

    def as_dict(self) -> dict[str, str]:
        """The fields that are set, with the record's key names."""
        raw = {
            "full_name": self.full_name,
            "citizen_id_number": self.citizen_id_number,
            "date_of_birth": self.date_of_birth,
        }
        return {k: v for k, v in raw.items() if v is not None}


@cache
def record_schema() -> dict[str, Any]:
    """The result-record JSON Schema (draft 2020-12), parsed from the package data."""
    text = resources.files("partycard.forward").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(record_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(record: object) -> list[str]:
    """Every schema violation of ``record`` as ``"<json path>: <message>"`` lines (empty when valid).

    Messages name the offending path and rule but not the offending value, so personal data that
    was put in the wrong place does not end up in logs or error replies.
    """
    errors = sorted(_validator().iter_errors(record), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{e.json_path}: {e.validator} rule failed ({_rule_text(e.validator, e.validator_value)})"
            for e in errors]


def _rule_text(keyword: object, value: object) -> str:
    if keyword == "additionalProperties":
        return "unexpected property"
    if keyword in {"required", "enum", "const", "type", "maxLength", "minLength", "maxItems", "pattern"}:
        return f"{keyword}={json.dumps(value)[:120]}"
    return str(keyword)


def validate_record(record: object) -> None:
    """Raise ``RecordInvalid`` (listing every violation) unless ``record`` matches the schema."""
    errors = schema_errors(record)
    if errors:
        raise RecordInvalid("result record does not match result-record-v1", errors)


def utc_now_rfc3339() -> str:
    """The current UTC time as RFC 3339 §5.6 with millisecond precision and a 'Z' offset."""
    return rfc3339(_dt.datetime.now(_dt.UTC))


def rfc3339(when: _dt.datetime) -> str:
    """``when`` (timezone-aware) converted to UTC and formatted as RFC 3339 with a 'Z' offset."""
    if when.tzinfo is None:
        raise RecordInvalid("record time must be timezone-aware")
    utc = when.astimezone(_dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def build_record(
    verdict: Mapping[str, Any],
    *,
    reader_serial: str,
    site_id: str,
    card_number: str | None,
    member_id: str | None,
    firmware_version: str,
    personal: PersonalFields | None = None,
    include_personal: bool = False,
    time: _dt.datetime | None = None,
    record_id: str | None = None,
) -> dict[str, Any]:
    """Build and validate a result record from a serialised verdict.

    ``verdict`` is the verification layer's serialised form: ``{"verdict", "policy_version",
    "issuer", "checks": [{"name", "status", "reason"}, ...]}``. ``personal`` is copied into the
    record only when ``include_personal`` is true (the deployment's explicit opt-in); otherwise it
    is ignored. A fresh random UUID becomes the record id unless one is given.
    Raises ``RecordInvalid`` when the verdict or any field breaks the schema.
    """
    unknown = set(verdict) - _VERDICT_KEYS
    missing = _VERDICT_KEYS - set(verdict)
    if unknown or missing:
        raise RecordInvalid(
            "verdict dict has the wrong keys",
            [f"unexpected keys: {sorted(unknown)}"] * bool(unknown)
            + [f"missing keys: {sorted(missing)}"] * bool(missing),
        )
    checks = verdict["checks"]
    if not isinstance(checks, list):
        raise RecordInvalid("verdict checks must be a list")
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "record_id": record_id if record_id is not None else str(uuid.uuid4()),
        "reader_serial": reader_serial,
        "site_id": site_id,
        "time": rfc3339(time) if time is not None else utc_now_rfc3339(),
        "card_number": card_number,
        "member_id": member_id,
        "verdict": verdict["verdict"],
        "checks": [dict(c) if isinstance(c, Mapping) else c for c in checks],
        "policy_version": verdict["policy_version"],
        "firmware_version": firmware_version,
        "issuer": verdict["issuer"],
    }
    if include_personal and personal is not None and personal.as_dict():
        record["personal"] = personal.as_dict()
    validate_record(record)
    return record


def canonical_json(record: Mapping[str, Any]) -> bytes:
    """The one byte form of a record that is stored and sent (sorted keys, no spaces, UTF-8).

    The same record always yields the same bytes, so a re-send after a crash is byte-identical and
    the receiver can tell a retry (same key, same body) from a conflict (same key, other body).
    """
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
