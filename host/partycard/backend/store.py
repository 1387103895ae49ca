"""Backend layer: where the reference receiver keeps records (SQLite or PostgreSQL); no HTTP here.

Deduplication is by record id (= Idempotency-Key): the first delivery is stored with a receipt;
a later one with the same canonical body gets the original receipt and bumps ``deliveries``; one
with another body is a conflict. ``INSERT … ON CONFLICT DO NOTHING`` makes this race-free on
both engines.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from partycard.errors import BackendError, ConfigError
from partycard.forward.outbox import open_durable

_SQLITE_DDL = """
CREATE TABLE IF NOT EXISTS results (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id     TEXT NOT NULL UNIQUE,
    reader_serial TEXT NOT NULL,
    body          TEXT NOT NULL,
    digest        TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    deliveries    INTEGER NOT NULL DEFAULT 1
)
"""
_PG_DDL = _SQLITE_DDL.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
_INDEX = "CREATE INDEX IF NOT EXISTS results_reader ON results (reader_serial, seq)"

_INSERT = (
    "INSERT INTO results (record_id, reader_serial, body, digest, received_at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (record_id) DO NOTHING"
)
_SELECT_ONE = "SELECT seq, digest, received_at FROM results WHERE record_id = ?"
_BUMP = "UPDATE results SET deliveries = deliveries + 1 WHERE record_id = ?"
_LIST = (
    "SELECT seq, record_id, body, received_at, deliveries FROM results "
    "WHERE (? IS NULL OR reader_serial = ?) AND seq > ? ORDER BY seq LIMIT ?"
)


@dataclass(frozen=True)
class PutResult:
    """What storing one delivery did, with the record's (original) receipt."""

    kind: Literal["created", "duplicate", "conflict"]
    receipt: dict[str, Any]


class ResultStore(Protocol):
    """Storage of received records."""

    def put(self, record_id: str, reader_serial: str, body: str, digest: str) -> PutResult: ...

    def list(self, reader: str | None, after_seq: int, limit: int) -> list[dict[str, Any]]: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


def _receipt(record_id: str, seq: int, received_at: str) -> dict[str, Any]:
    return {"record_id": record_id, "seq": seq, "received_at": received_at}


def _now() -> str:
    now = _dt.datetime.now(_dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _row_item(row: tuple[Any, ...]) -> dict[str, Any]:
    seq, record_id, body, received_at, deliveries = row
    return {
        "seq": int(seq),
        "record_id": str(record_id),
        "received_at": str(received_at),
        "deliveries": int(deliveries),
        "record": json.loads(body),
    }


class SQLiteStore:
    """Records in one SQLite file (WAL, synchronous=FULL), one connection behind a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn = open_durable(path)
        with self._lock:
            self._conn.execute(_SQLITE_DDL)
            self._conn.execute(_INDEX)

    def put(self, record_id: str, reader_serial: str, body: str, digest: str) -> PutResult:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute(_INSERT, (record_id, reader_serial, body, digest, _now()))
                created = cur.rowcount == 1
                seq, stored_digest, received_at = conn.execute(_SELECT_ONE, (record_id,)).fetchone()
                if not created and stored_digest == digest:
                    conn.execute(_BUMP, (record_id,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return _put_result(created, stored_digest == digest, record_id, int(seq), str(received_at))

    def list(self, reader: str | None, after_seq: int, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(_LIST, (reader, reader, after_seq, limit)).fetchall()
        return [_row_item(r) for r in rows]

    def ping(self) -> None:
        with self._lock:
            self._conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _put_result(created: bool, same_body: bool, record_id: str, seq: int, received_at: str) -> PutResult:
    receipt = _receipt(record_id, seq, received_at)
    if created:
        return PutResult("created", receipt)
    return PutResult("duplicate" if same_body else "conflict", receipt)


class PostgresStore:
    """Records in PostgreSQL via psycopg 3 (one connection behind a lock; fine for a reference receiver)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self._lock = threading.Lock()
        try:
            self._conn = psycopg.connect(url, autocommit=False)
            with self._conn.transaction():
                self._conn.execute(_PG_DDL)
                self._conn.execute(_INDEX)
        except psycopg.Error as exc:
            raise BackendError(f"cannot use PostgreSQL at {_redact(url)}: {exc}") from exc

    @staticmethod
    def _sql(statement: str) -> str:
        return statement.replace("?", "%s")

    def put(self, record_id: str, reader_serial: str, body: str, digest: str) -> PutResult:
        with self._lock, self._conn.transaction():
            cur = self._conn.execute(self._sql(_INSERT), (record_id, reader_serial, body, digest, _now()))
            created = cur.rowcount == 1
            row = self._conn.execute(self._sql(_SELECT_ONE), (record_id,)).fetchone()
            if row is None:  # cannot happen inside this transaction: inserted or already there
                raise BackendError(f"record {record_id} vanished during its own insert")
            seq, stored_digest, received_at = row
            if not created and stored_digest == digest:
                self._conn.execute(self._sql(_BUMP), (record_id,))
        return _put_result(created, stored_digest == digest, record_id, int(seq), str(received_at))

    def list(self, reader: str | None, after_seq: int, limit: int) -> list[dict[str, Any]]:
        # PostgreSQL cannot infer the type of "? IS NULL" for an untyped NULL parameter.
        sql = self._sql(_LIST).replace("(%s IS NULL", "(%s::text IS NULL")
        with self._lock, self._conn.transaction():
            rows = self._conn.execute(sql, (reader, reader, after_seq, limit)).fetchall()
        return [_row_item(tuple(r)) for r in rows]

    def ping(self) -> None:
        with self._lock, self._conn.transaction():
            self._conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _redact(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(parts.password, "***") if parts.password else url


def open_store(db_url: str) -> ResultStore:
    """``sqlite:///path`` (relative) or ``sqlite:////abs/path`` → SQLite; ``postgresql://…`` → PostgreSQL."""
    if db_url.startswith("sqlite:///"):
        path = db_url[len("sqlite:///"):]
        if not path:
            raise ConfigError("sqlite URL needs a file path: sqlite:///results.sqlite3")
        return SQLiteStore(Path(path))
    if db_url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(db_url)
    raise ConfigError(f"unsupported --db URL {db_url!r}: use sqlite:///PATH or postgresql://…")


def db_error_types() -> tuple[type[BaseException], ...]:
    """Database exceptions the app translates into a 503 (kept here so the app imports no driver)."""
    types: list[type[BaseException]] = [sqlite3.Error]
    try:
        import psycopg
    except ImportError:  # psycopg is optional when only SQLite is used
        return tuple(types)
    types.append(psycopg.Error)
    return tuple(types)
