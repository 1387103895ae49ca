"""The SQLite outbox: durability pragmas, migrations, commit-before-return, order, bounded size."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from partycard.errors import OutboxError, RecordInvalid
from partycard.forward.outbox import MIGRATIONS, Outbox, default_outbox_path

from .conftest import make_record


def test_every_connection_is_wal_and_synchronous_full(tmp_path: Path) -> None:
    path = tmp_path / "ob.sqlite3"
    with Outbox(path) as ob:
        conn = ob._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL (sqlite.org/pragma.html)
    # WAL is persistent in the file itself: a fresh, independent connection sees it.
    plain = sqlite3.connect(path)
    assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert plain.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    plain.close()


def test_a_database_that_cannot_do_wal_is_refused() -> None:
    # An in-memory database answers journal_mode=memory: not durable, so the outbox must refuse it.
    with pytest.raises(OutboxError, match="not durable"):
        Outbox(":memory:")


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ob.sqlite3"
    Outbox(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(OutboxError, match="newer"):
        Outbox(path)


def test_default_location_is_the_user_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_outbox_path() == tmp_path / "xdg" / "partycard" / "outbox.sqlite3"


def test_enqueue_is_committed_before_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "ob.sqlite3"
    ob = Outbox(path)
    rid = ob.enqueue(make_record())
    # Another process, with the outbox still open here, must already see the row.
    code = (
        "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
        "'SELECT state FROM records WHERE record_id = ?', (sys.argv[2],)).fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), rid], capture_output=True, text=True, check=True, timeout=30
    )
    assert out.stdout.strip() == "pending"
    ob.close()


def test_enqueue_refuses_invalid_records_and_conflicting_ids(tmp_path: Path) -> None:
    with Outbox(tmp_path / "ob.sqlite3") as ob:
        rec = make_record()
        bad = dict(rec, photo="AA==")
        with pytest.raises(RecordInvalid):
            ob.enqueue(bad)
        assert ob.enqueue(rec) == rec["record_id"]
        assert ob.enqueue(dict(rec)) == rec["record_id"]  # same record again: a no-op
        with pytest.raises(OutboxError, match="another body"):
            ob.enqueue(dict(rec, member_id="M99999999"))
        assert ob.status().pending == 1


def test_only_the_oldest_pending_record_of_each_reader_is_due(tmp_path: Path) -> None:
    with Outbox(tmp_path / "ob.sqlite3") as ob:
        a = [ob.enqueue(make_record("A", i)) for i in range(3)]
        b = [ob.enqueue(make_record("B", i)) for i in range(2)]
        assert [e.record_id for e in ob.due()] == [a[0], b[0]]
        # A's head waits for a retry: A's next record must NOT overtake it.
        ob.mark_retry(a[0], next_attempt_at=time.time() + 60, error="HTTP 503")
        assert [e.record_id for e in ob.due()] == [b[0]]
        ob.mark_sent(b[0])
        assert [e.record_id for e in ob.due()] == [b[1]]
        # A dead letter no longer blocks its reader.
        ob.mark_dead(a[0], "HTTP 409: conflict")
        assert [e.record_id for e in ob.due()] == [a[1], b[1]]
        st = ob.status()
        assert (st.pending, st.sent, st.dead) == (3, 1, 1)
        [dead] = ob.dead_letters()
        assert (dead.record_id, dead.reason, dead.attempts) == (a[0], "HTTP 409: conflict", 2)
        assert ob.requeue_dead(a[0]) and ob.state_of(a[0]) == "pending"
        assert ob.due()[0].record_id == a[0]


def test_bounded_size_warns_at_80_percent_and_refuses_when_full(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Outbox(tmp_path / "ob.sqlite3", max_rows=10) as ob:
        with caplog.at_level(logging.WARNING, logger="partycard.forward.outbox"):
            for i in range(7):
                ob.enqueue(make_record("A", i))
            assert not caplog.records and not ob.status().near_full
            ob.enqueue(make_record("A", 7))
            assert any("80% full" in r.getMessage() for r in caplog.records)
            assert ob.status().near_full and not ob.status().full
            ob.enqueue(make_record("A", 8))
            ob.enqueue(make_record("A", 9))
        assert ob.status().full
        extra = make_record("A", 10)
        with pytest.raises(OutboxError, match="full"):
            ob.enqueue(extra)
        assert ob.state_of(extra["record_id"]) is None
        assert ob.status().pending == 10  # nothing dropped to make room
        # Delivering frees room; sent rows do not count against the bound.
        ob.mark_sent(ob.due()[0].record_id)
        ob.enqueue(extra)
        assert ob.status().pending == 10


def test_sent_rows_are_pruned_to_keep_sent(tmp_path: Path) -> None:
    with Outbox(tmp_path / "ob.sqlite3", keep_sent=2) as ob:
        ids = [ob.enqueue(make_record("A", i)) for i in range(4)]
        for rid in ids:
            ob.mark_sent(rid)
        assert ob.status().sent == 2
        assert [ob.state_of(r) for r in ids] == [None, None, "sent", "sent"]


def test_a_wall_clock_stepped_back_does_not_hold_a_retry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FOUND: after one 503, setting the clock back an hour left the record (and every later one
    of its reader) unsent for that hour, the backend healthy all along."""
    from partycard.forward.outbox import MAX_RETRY_DELAY_S

    with Outbox(tmp_path / "ob.sqlite3") as ob:
        rid = ob.enqueue(make_record("R-1", 0))
        now = time.time()
        ob.mark_retry(rid, next_attempt_at=now + 5 * 86400, error="503")  # asked for too much
        [entry] = [e for e in ob.due(now + MAX_RETRY_DELAY_S + 1)]
        assert entry.next_attempt_at <= now + MAX_RETRY_DELAY_S + 1, "clamped when scheduled"
        ob.mark_retry(rid, next_attempt_at=now + 30, error="503")
        assert ob.due(now) == []  # not yet due: the backoff holds
        stepped_back = now - 3600 - 60  # the clock goes back an hour after the retry was scheduled
        assert [e.record_id for e in ob.due(stepped_back)] == [rid]
        monkeypatch.setattr(time, "time", lambda: stepped_back)
        assert ob.next_attempt_at() == stepped_back
