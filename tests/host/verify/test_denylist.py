"""Denylist format (docs/denylist-format.md): strict loading and atomic replacement."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from partycard.errors import ConfigError
from partycard.verify.denylist import (
    FUTURE_SKEW,
    REASONS,
    DenyEntry,
    Denylist,
    DenylistError,
    load_denylist,
    parse_denylist,
    write_denylist,
)

GOOD = {
    "format": "partycard-denylist",
    "version": 1,
    "generated_at": "2026-06-01T08:00:00Z",
    "entries": [
        {"card_number": "PC-0000001", "reason": "lost_or_missing", "since": "2026-05-30"},
        {"card_number": "PC-0000002", "reason": "deceased"},
    ],
}


def _bytes(doc: object) -> bytes:
    return json.dumps(doc).encode()


def test_parse_good() -> None:
    dl = parse_denylist(_bytes(GOOD))
    assert dl.generated_at == datetime(2026, 6, 1, 8, tzinfo=UTC)
    assert dl.lookup("PC-0000001") == DenyEntry("PC-0000001", "lost_or_missing", date(2026, 5, 30))
    assert dl.lookup("pc-0000002 ") is not None  # normalised lookup
    assert dl.lookup("PC-0000003") is None
    assert len(REASONS) == 8


def _mutate(path: str, value: object) -> dict[str, object]:
    doc = json.loads(json.dumps(GOOD))
    if path.startswith("entry."):
        key = path[6:]
        if value is KeyError:
            del doc["entries"][0][key]
        else:
            doc["entries"][0][key] = value
    elif value is KeyError:
        del doc[path]
    else:
        doc[path] = value
    return doc


BAD: list[tuple[str, bytes]] = [
    ("not-json", b"{"),
    ("not-utf8", b"\xff\xfe"),
    ("array", b"[]"),
    ("wrong-format", _bytes(_mutate("format", "other"))),
    ("future-version", _bytes(_mutate("version", 2))),
    ("bool-version", _bytes(_mutate("version", True))),
    ("extra-key", _bytes(_mutate("comment", "x"))),
    ("missing-generated", _bytes(_mutate("generated_at", KeyError))),
    ("local-time", _bytes(_mutate("generated_at", "2026-06-01T08:00:00"))),
    # fromisoformat alone takes this and drops the offset: 12 hours off.
    ("offset-and-z", _bytes(_mutate("generated_at", "2026-06-01T23:00:00+12:00Z"))),
    ("offset-only", _bytes(_mutate("generated_at", "2026-06-01T08:00:00+00:00"))),
    ("date-only", _bytes(_mutate("generated_at", "2026-06-01Z"))),
    ("far-future", _bytes(_mutate("generated_at", "2099-01-01T00:00:00Z"))),
    ("entries-not-list", _bytes(_mutate("entries", {}))),
    ("unknown-reason", _bytes(_mutate("entry.reason", "stolen"))),
    ("lowercase-number", _bytes(_mutate("entry.card_number", "pc-1"))),
    ("number-not-string", _bytes(_mutate("entry.card_number", 12))),
    ("bad-since", _bytes(_mutate("entry.since", "30/05/2026"))),
    ("entry-extra-key", _bytes(_mutate("entry.name", "someone"))),
    ("entry-missing-reason", _bytes(_mutate("entry.reason", KeyError))),
    (
        "duplicate-key",
        b'{"format": "partycard-denylist", "format": "partycard-denylist", "version": 1,'
        b' "generated_at": "2026-06-01T08:00:00Z", "entries": []}',
    ),
    ("duplicate-card", _bytes({**GOOD, "entries": [GOOD["entries"][0], GOOD["entries"][0]]})),  # type: ignore[index]
]


@pytest.mark.parametrize(("data"), [d for _, d in BAD], ids=[i for i, _ in BAD])
def test_strict_rejects(data: bytes) -> None:
    with pytest.raises(DenylistError) as info:
        parse_denylist(data)
    assert isinstance(info.value, ConfigError)


def test_round_trip_and_missing_file(tmp_path: Path) -> None:
    dl = parse_denylist(_bytes(GOOD))
    path = tmp_path / "deny.json"
    write_denylist(path, dl)
    assert load_denylist(path) == dl
    assert [p.name for p in tmp_path.iterdir()] == ["deny.json"]  # no temp file left behind
    with pytest.raises(DenylistError):
        load_denylist(tmp_path / "absent.json")


@pytest.mark.timeout(60)
def test_concurrent_reader_never_sees_half_a_file(tmp_path: Path) -> None:
    """A writer replaces a large list again and again; a reader in another thread must always load a
    complete list (one of the two versions), never a truncated one."""
    path = tmp_path / "deny.json"
    lists = [
        Denylist(
            datetime(2026, 6, 1, tzinfo=UTC),
            {f"PC-{i:07d}": DenyEntry(f"PC-{i:07d}", REASONS[i % 8]) for i in range(size)},
        )
        for size in (3_000, 500)
    ]
    write_denylist(path, lists[0])
    stop = threading.Event()
    errors: list[Exception] = []
    seen: set[int] = set()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.add(len(load_denylist(path).entries))
            except Exception as exc:
                errors.append(exc)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(20):
            write_denylist(path, lists[i % 2])
    finally:
        stop.set()
        thread.join(timeout=30)
    assert errors == []
    assert seen <= {3_000, 500} and seen


def test_a_list_dated_ahead_of_the_clock_is_refused_beyond_the_skew() -> None:
    """FOUND: a list dated 2099 never became stale (status.list_stale compares with its date)."""
    now = datetime(2026, 6, 1, 8, tzinfo=UTC)
    assert parse_denylist(_bytes(GOOD), now=now).generated_at == now
    assert parse_denylist(_bytes(GOOD), now=now - FUTURE_SKEW).generated_at == now  # clocks differ a little
    with pytest.raises(DenylistError, match="later than this machine's clock"):
        parse_denylist(_bytes(GOOD), now=now - FUTURE_SKEW - timedelta(seconds=1))
    frac = _bytes(_mutate("generated_at", "2026-06-01T08:00:00.25Z"))
    assert parse_denylist(frac, now=now).generated_at == datetime(2026, 6, 1, 8, 0, 0, 250000, tzinfo=UTC)
