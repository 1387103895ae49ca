"""The result record: builder and schema (JSON Schema draft 2020-12, RFC 3339 time, minimal data)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import uuid

import pytest
from jsonschema import Draft202012Validator

from partycard.errors import RecordInvalid
from partycard.forward.record import (
    PersonalFields,
    build_record,
    canonical_json,
    record_schema,
    schema_errors,
    validate_record,
)

from .conftest import VERDICT, make_record

PERSONAL = PersonalFields(
    full_name="Nguyễn Văn An", citizen_id_number="001085012345", date_of_birth="1985-02-14"
)


def test_schema_is_a_valid_draft_2020_12_schema_that_forbids_extra_properties() -> None:
    schema = record_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["check"]["additionalProperties"] is False
    assert schema["$defs"]["personal"]["additionalProperties"] is False
    assert "personal" not in schema["required"]


def test_built_record_carries_every_check_and_the_verdict_fields() -> None:
    when = dt.datetime(2025, 8, 19, 9, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    rec = build_record(
        VERDICT,
        reader_serial="R1",
        site_id="S1",
        card_number="000000000042",
        member_id="M42",
        firmware_version="0.1.0",
        time=when,
    )
    assert rec["schema_version"] == 1
    assert uuid.UUID(rec["record_id"]).version == 4
    assert rec["time"] == "2025-08-19T02:30:05.123Z"  # converted to UTC, RFC 3339 §5.6 with Z
    assert rec["checks"] == VERDICT["checks"]
    assert (rec["verdict"], rec["policy_version"], rec["issuer"]) == (
        "invalid",
        "policy-2025.1",
        "Central Organization Commission",
    )
    assert validate_record(rec) is None


def test_no_personal_data_by_default_even_when_supplied() -> None:
    rec = make_record(personal=PERSONAL)
    assert "personal" not in rec
    text = canonical_json(rec).decode()
    for value in ("Nguyễn", "001085012345", "1985-02-14"):
        assert value not in text


def test_personal_fields_only_with_explicit_opt_in() -> None:
    rec = make_record(personal=PERSONAL, include_personal=True)
    assert rec["personal"] == {
        "full_name": "Nguyễn Văn An",
        "citizen_id_number": "001085012345",
        "date_of_birth": "1985-02-14",
    }


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda r: r.__setitem__("photo", "/9j/4AAQ"), "$"),
        (lambda r: r.__setitem__("full_name", "X"), "$"),
        (lambda r: r.setdefault("personal", {}).__setitem__("photo", "AA=="), "$.personal"),
        (lambda r: r.__setitem__("time", "2025-08-19 02:30:05"), "$.time"),
        (lambda r: r.__setitem__("time", "2025-08-19T09:30:05+07:00"), "$.time"),
        (lambda r: r.__setitem__("record_id", "not-a-uuid"), "$.record_id"),
        (lambda r: r.__setitem__("verdict", "ok"), "$.verdict"),
        (lambda r: r["checks"][1].__setitem__("reason", None), "$.checks[1].reason"),
        (lambda r: r["checks"][0].__setitem__("status", "skipped"), "$.checks[0].status"),
        (lambda r: r.pop("policy_version"), "$"),
        (lambda r: r.__setitem__("schema_version", 2), "$.schema_version"),
    ],
)
def test_schema_violations_are_named_by_path(mutate: object, path: str) -> None:
    rec = copy.deepcopy(make_record())
    mutate(rec)  # type: ignore[operator]
    errors = schema_errors(rec)
    assert errors and any(e.startswith(path + ":") for e in errors), errors
    with pytest.raises(RecordInvalid):
        validate_record(rec)


def test_schema_errors_do_not_echo_values() -> None:
    rec = make_record()
    rec["full_name"] = "Trần Thị Bình"
    rec["member_id"] = "x" * 40
    assert not any("Trần" in e or "xxxx" in e for e in schema_errors(rec))


def test_verdict_with_wrong_shape_is_refused() -> None:
    bad = dict(VERDICT, extra=1)
    with pytest.raises(RecordInvalid, match="wrong keys"):
        build_record(
            bad, reader_serial="R", site_id="S", card_number=None, member_id=None, firmware_version="1"
        )
    with pytest.raises(RecordInvalid):
        build_record(
            dict(VERDICT, verdict="maybe"),
            reader_serial="R",
            site_id="S",
            card_number=None,
            member_id=None,
            firmware_version="1",
        )


def test_canonical_json_is_stable_and_sorted() -> None:
    rec = make_record()
    shuffled = dict(reversed(list(rec.items())))
    assert canonical_json(rec) == canonical_json(shuffled)
    assert json.loads(canonical_json(rec)) == rec
    assert re.fullmatch(rb'\{"card_number":.*\}', canonical_json(rec))
