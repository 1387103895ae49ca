"""Verify layer: card-status denylist (docs/denylist-format.md); must not fetch lists or log numbers.

Must not fetch lists or log card numbers; it loads a list strictly, answers lookups and replaces the
file atomically (write temp + fsync + rename + fsync dir), so a reader never sees a half-written list.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from partycard.errors import DenylistError

FORMAT = "partycard-denylist"
VERSION = 1
#: The reasons the party's rules name (Regulation 232-QĐ/TW 2025; Guidance 01-HD/TW §7).
REASONS = (
    "lost_or_missing",
    "forged",
    "misused",
    "expelled",
    "struck_off",
    "left_party",
    "deceased",
    "superseded",
)
_CARD_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9-]{0,31}")
_TOP_KEYS = {"format", "version", "generated_at", "entries"}
_UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z", re.ASCII)
#: How far a list's date may run ahead of this machine's clock (clocks of backend and kiosk differ).
FUTURE_SKEW = timedelta(minutes=10)
_ENTRY_KEYS_REQUIRED = {"card_number", "reason"}
_ENTRY_KEYS = _ENTRY_KEYS_REQUIRED | {"since"}

__all__ = [
    "REASONS",
    "DenyEntry",
    "Denylist",
    "DenylistError",
    "load_denylist",
    "parse_denylist",
    "write_denylist",
]


@dataclass(frozen=True)
class DenyEntry:
    card_number: str
    reason: str
    since: date | None = None


@dataclass(frozen=True)
class Denylist:
    generated_at: datetime
    entries: Mapping[str, DenyEntry]

    def lookup(self, card_number: str) -> DenyEntry | None:
        return self.entries.get(card_number.strip().upper())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "generated_at": self.generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "entries": [
                {"card_number": e.card_number, "reason": e.reason}
                | ({"since": e.since.isoformat()} if e.since else {})
                for e in sorted(self.entries.values(), key=lambda e: e.card_number)
            ],
        }


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DenylistError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _timestamp(value: object, now: datetime) -> datetime:
    # RFC 3339 §5.6 date-time in UTC: exactly YYYY-MM-DDTHH:MM:SS[.frac]Z, no offset (fromisoformat
    # alone would take "…+12:00Z" and drop the offset).
    if not isinstance(value, str) or not _UTC_TIME.fullmatch(value):
        raise DenylistError("generated_at must be an RFC 3339 UTC time ending in Z")
    try:
        at = datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise DenylistError(f"generated_at: {exc}") from exc
    if at > now + FUTURE_SKEW:
        # A list dated ahead would stay "fresh" for as long as its date says (status.list_stale
        # never comes): a backend clock gone wrong, or a date set on purpose. Refused whole.
        raise DenylistError(f"generated_at {value} is later than this machine's clock")
    return at


def _entry(index: int, item: object) -> DenyEntry:
    if not isinstance(item, dict) or not _ENTRY_KEYS_REQUIRED <= item.keys() <= _ENTRY_KEYS:
        raise DenylistError(f"entry {index}: needs card_number and reason (and optionally since) only")
    number, reason, since = item["card_number"], item["reason"], item.get("since")
    if not isinstance(number, str) or not _CARD_NUMBER.fullmatch(number):
        raise DenylistError(f"entry {index}: card_number must be 1-32 of A-Z 0-9 -")
    if reason not in REASONS:
        raise DenylistError(f"entry {index}: unknown reason {reason!r}")
    since_date = None
    if since is not None:
        try:
            since_date = date.fromisoformat(since) if isinstance(since, str) and len(since) == 10 else None
        except ValueError:
            since_date = None
        if since_date is None:
            raise DenylistError(f"entry {index}: since must be YYYY-MM-DD")
    return DenyEntry(number, reason, since_date)


def parse_denylist(data: bytes, *, now: datetime | None = None) -> Denylist:
    """Parse strictly: exact keys, known version and reasons, no duplicate keys or card numbers,
    and a ``generated_at`` no later than ``now`` (default: this machine's clock) + FUTURE_SKEW."""
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DenylistError(f"not UTF-8 JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.keys() != _TOP_KEYS:
        raise DenylistError(f"top level must be an object with exactly {sorted(_TOP_KEYS)}")
    if doc["format"] != FORMAT or doc["version"] != VERSION or isinstance(doc["version"], bool):
        raise DenylistError(f"unsupported format/version {doc['format']!r}/{doc['version']!r}")
    if not isinstance(doc["entries"], list):
        raise DenylistError("entries must be a list")
    entries: dict[str, DenyEntry] = {}
    for i, item in enumerate(doc["entries"]):
        entry = _entry(i, item)
        if entry.card_number in entries:
            raise DenylistError(f"entry {i}: card number listed twice")
        entries[entry.card_number] = entry
    return Denylist(_timestamp(doc["generated_at"], now or datetime.now(UTC)), entries)


def load_denylist(path: Path) -> Denylist:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DenylistError(f"cannot read {path}: {exc.strerror}") from exc
    return parse_denylist(data)


def write_denylist(path: Path, denylist: Denylist) -> None:
    """Replace ``path`` atomically: a concurrent reader sees the old list or the new one, whole."""
    data = (json.dumps(denylist.to_json(), ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    parse_denylist(data)  # never publish something our own loader would refuse
    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)
