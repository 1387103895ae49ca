"""Forward layer: the durable SQLite outbox of result records; must not do any network I/O.

A record is committed here (WAL, ``synchronous=FULL``, both read back on every connection) before
anything is sent, so "recorded" on the kiosk means "on disk". States: ``pending`` → ``sent`` (only
after the backend's 2xx) or ``dead`` (refused for good, with the reason). Per reader, records go
out in the order they were enqueued: only the oldest pending record of a reader is ever due.
The outbox is bounded: a WARNING (and ``status().near_full``) from 80 % of ``max_rows`` unsent
records, and ``OutboxError`` when full — a record is never dropped silently.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from partycard.errors import OutboxError
from partycard.forward.record import canonical_json, validate_record

#: No retry is scheduled further ahead than this. A record due later than now + this was scheduled
#: before the wall clock stepped back, so it is due now: otherwise one 503 followed by a clock
#: correction of an hour would hold a reader's records (and, behind them, its order) for that hour.
MAX_RETRY_DELAY_S = 3600.0

log = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 10_000
DEFAULT_KEEP_SENT = 1_000
WARN_FRACTION = 0.8
_BUSY_TIMEOUT_S = 10.0

# Each entry moves the database from user_version i to i+1; never edit a shipped entry, append one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE records (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        record_id       TEXT NOT NULL UNIQUE,
        reader_serial   TEXT NOT NULL,
        body            BLOB NOT NULL,
        state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        last_error      TEXT,
        dead_reason     TEXT,
        created_at      REAL NOT NULL,
        done_at         REAL
    );
    CREATE INDEX records_pending ON records (state, reader_serial, seq);
    """,
)


def default_outbox_path() -> Path:
    """``outbox.sqlite3`` in the user's data directory (platformdirs), e.g. ~/.local/share/partycard."""
    return platformdirs.user_data_path("partycard", appauthor=False) / "outbox.sqlite3"


@dataclass(frozen=True)
class OutboxEntry:
    """One stored record as the sender sees it."""

    seq: int
    record_id: str
    reader_serial: str
    body: bytes
    attempts: int
    next_attempt_at: float


@dataclass(frozen=True)
class DeadLetter:
    """A record the backend refused for good, with the reason."""

    seq: int
    record_id: str
    reader_serial: str
    attempts: int
    reason: str
    dead_at: float


@dataclass(frozen=True)
class OutboxStatus:
    """Counts and the capacity flags of an outbox."""

    path: str
    pending: int
    sent: int
    dead: int
    max_rows: int
    near_full: bool
    full: bool
    oldest_pending_age_s: float | None
    next_attempt_in_s: float | None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return dict(self.__dict__)


def open_durable(path: Path) -> sqlite3.Connection:
    """Open ``path`` with WAL and ``synchronous=FULL``, reading both back; ``OutboxError`` otherwise."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(path), timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except (OSError, sqlite3.Error) as exc:
        raise OutboxError(f"cannot open outbox {path}: {exc}") from exc
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous=FULL")
        sync = conn.execute("PRAGMA synchronous").fetchone()[0]
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        conn.close()
        raise OutboxError(f"outbox {path} is not usable: {exc}") from exc
    # https://sqlite.org/pragma.html#pragma_synchronous: FULL = 2. A file system that cannot do
    # WAL (some network mounts) answers with another mode instead of failing; refuse it.
    if str(mode).lower() != "wal" or int(sync) != 2:
        conn.close()
        raise OutboxError(f"outbox {path} is not durable: journal_mode={mode}, synchronous={sync}")
    return conn


class Outbox:
    """The durable queue of result records. Thread-safe: one connection guarded by a lock."""

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        keep_sent: int = DEFAULT_KEEP_SENT,
    ) -> None:
        if max_rows < 1:
            raise OutboxError(f"max_rows must be at least 1, not {max_rows}")
        self.path = Path(path) if path is not None else default_outbox_path()
        self.max_rows = max_rows
        self.keep_sent = keep_sent
        self._lock = threading.Lock()
        self._conn = open_durable(self.path)
        self._migrate()

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection; the outbox object is unusable afterwards."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self._tx() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > len(MIGRATIONS):
                raise OutboxError(
                    f"outbox {self.path} has schema version {version}, newer than this partycard "
                    f"({len(MIGRATIONS)})"
                )
            for target, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
                # PRAGMA takes no bound parameters; target is an int from enumerate.
                conn.execute(f"PRAGMA user_version = {int(target)}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT), committed before the block's caller returns."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise OutboxError(f"outbox {self.path}: cannot begin a transaction: {exc}") from exc
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise OutboxError(f"outbox {self.path}: commit failed: {exc}") from exc

    # --- writing ---------------------------------------------------------------------------

    def enqueue(self, record: Mapping[str, Any]) -> str:
        """Validate ``record`` and commit it as pending; returns its record id once it is on disk.

        Enqueuing the same record again is a no-op; another record with an id already stored is
        refused. Raises ``RecordInvalid`` for a record that breaks the schema and ``OutboxError``
        when the outbox is full.
        """
        validate_record(record)
        body = canonical_json(record)
        record_id = str(record["record_id"])
        with self._tx() as conn:
            row = conn.execute("SELECT body FROM records WHERE record_id = ?", (record_id,)).fetchone()
            if row is not None:
                if bytes(row[0]) == body:
                    return record_id
                raise OutboxError(f"record id {record_id} is already in the outbox with another body")
            unsent = self._unsent(conn)
            if unsent >= self.max_rows:
                raise OutboxError(
                    f"outbox {self.path} is full ({unsent} unsent records, max {self.max_rows}); "
                    "record NOT stored — deliver or clear dead letters first"
                )
            conn.execute(
                "INSERT INTO records (record_id, reader_serial, body, created_at) VALUES (?, ?, ?, ?)",
                (record_id, str(record["reader_serial"]), body, time.time()),
            )
        if unsent + 1 >= WARN_FRACTION * self.max_rows:
            log.warning(
                "outbox %s is %d%% full (%d of %d unsent records)",
                self.path, (unsent + 1) * 100 // self.max_rows, unsent + 1, self.max_rows,
            )
        return record_id

    def mark_sent(self, record_id: str) -> None:
        """Record that the backend acknowledged ``record_id`` with a 2xx; prunes old sent rows."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE records SET state = 'sent', attempts = attempts + 1, done_at = ?, last_error = NULL "
                "WHERE record_id = ? AND state = 'pending'",
                (time.time(), record_id),
            )
            conn.execute(
                "DELETE FROM records WHERE state = 'sent' AND seq NOT IN "
                "(SELECT seq FROM records WHERE state = 'sent' ORDER BY seq DESC LIMIT ?)",
                (self.keep_sent,),
            )

    def mark_dead(self, record_id: str, reason: str) -> None:
        """Move ``record_id`` to the dead letters with ``reason`` (the backend refused it for good)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE records SET state = 'dead', attempts = attempts + 1, dead_reason = ?, done_at = ? "
                "WHERE record_id = ? AND state = 'pending'",
                (reason, time.time(), record_id),
            )

    def mark_retry(self, record_id: str, *, next_attempt_at: float, error: str) -> None:
        """Count a failed attempt and keep ``record_id`` pending until ``next_attempt_at`` (epoch s,
        at most MAX_RETRY_DELAY_S ahead)."""
        next_attempt_at = min(next_attempt_at, time.time() + MAX_RETRY_DELAY_S)
        with self._tx() as conn:
            conn.execute(
                "UPDATE records SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
                "WHERE record_id = ? AND state = 'pending'",
                (next_attempt_at, error, record_id),
            )

    def requeue_dead(self, record_id: str) -> bool:
        """Put a dead letter back to pending (after the cause was fixed); False if it is not dead."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE records SET state = 'pending', next_attempt_at = 0, dead_reason = NULL, "
                "done_at = NULL WHERE record_id = ? AND state = 'dead'",
                (record_id,),
            )
            return cur.rowcount == 1

    # --- reading ---------------------------------------------------------------------------

    def due(self, now: float | None = None, limit: int = 32) -> list[OutboxEntry]:
        """The records to send now: per reader only its oldest pending one, and only if it is due."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self._conn.execute(
                "SELECT r.seq, r.record_id, r.reader_serial, r.body, r.attempts, r.next_attempt_at "
                "FROM records r WHERE r.state = 'pending' AND r.seq = "
                "(SELECT MIN(h.seq) FROM records h WHERE h.state = 'pending' "
                " AND h.reader_serial = r.reader_serial) "
                "AND (r.next_attempt_at <= ? OR r.next_attempt_at > ?) ORDER BY r.seq LIMIT ?",
                (now, now + MAX_RETRY_DELAY_S, limit),
            ).fetchall()
        return [OutboxEntry(int(a), str(b), str(c), bytes(d), int(e), float(f)) for a, b, c, d, e, f in rows]

    def next_attempt_at(self) -> float | None:
        """The earliest time any reader's head record becomes due, or None when nothing is pending
        (a time beyond MAX_RETRY_DELAY_S counts as now: see there)."""
        now = time.time()
        with self._lock:
            row = self._conn.execute(
                "SELECT MIN(CASE WHEN r.next_attempt_at > ? THEN ? ELSE r.next_attempt_at END) "
                "FROM records r WHERE r.state = 'pending' AND r.seq = "
                "(SELECT MIN(h.seq) FROM records h WHERE h.state = 'pending' "
                " AND h.reader_serial = r.reader_serial)",
                (now + MAX_RETRY_DELAY_S, now),
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def status(self) -> OutboxStatus:
        """Counts per state, capacity flags and the age of the oldest pending record."""
        with self._lock:
            counts = dict(self._conn.execute("SELECT state, COUNT(*) FROM records GROUP BY state").fetchall())
            oldest = self._conn.execute(
                "SELECT MIN(created_at) FROM records WHERE state = 'pending'"
            ).fetchone()
        nxt = self.next_attempt_at()
        now = time.time()
        unsent = int(counts.get("pending", 0)) + int(counts.get("dead", 0))
        return OutboxStatus(
            path=str(self.path),
            pending=int(counts.get("pending", 0)),
            sent=int(counts.get("sent", 0)),
            dead=int(counts.get("dead", 0)),
            max_rows=self.max_rows,
            near_full=unsent >= WARN_FRACTION * self.max_rows,
            full=unsent >= self.max_rows,
            oldest_pending_age_s=None if oldest[0] is None else max(0.0, now - float(oldest[0])),
            next_attempt_in_s=None if nxt is None else max(0.0, nxt - now),
        )

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The dead letters, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, record_id, reader_serial, attempts, dead_reason, done_at FROM records "
                "WHERE state = 'dead' ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [DeadLetter(int(a), str(b), str(c), int(d), str(e), float(f)) for a, b, c, d, e, f in rows]

    def record(self, record_id: str) -> dict[str, Any] | None:
        """The stored record ``record_id`` (any state), or None."""
        with self._lock:
            row = self._conn.execute("SELECT body FROM records WHERE record_id = ?", (record_id,)).fetchone()
        if row is None:
            return None
        value: dict[str, Any] = json.loads(bytes(row[0]))
        return value

    def state_of(self, record_id: str) -> str | None:
        """``pending``, ``sent``, ``dead`` or None for an id that is not (or no longer) stored."""
        with self._lock:
            row = self._conn.execute("SELECT state FROM records WHERE record_id = ?", (record_id,)).fetchone()
        return None if row is None else str(row[0])

    @staticmethod
    def _unsent(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT COUNT(*) FROM records WHERE state != 'sent'").fetchone()[0])
