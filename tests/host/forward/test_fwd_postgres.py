"""The receiver on PostgreSQL (psycopg 3): a throwaway server started with the Debian binaries, if present."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from partycard.backend.server import ReceiverServer
from partycard.forward.outbox import Outbox
from partycard.forward.record import canonical_json
from partycard.forward.sender import Sender, SenderConfig

from .conftest import make_record, received


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root and runuser is missing: cannot start PostgreSQL")
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a 'postgres' user: cannot start PostgreSQL")
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="partycard-pg-"))
    data = base / "data"
    if as_user:
        os.chown(base, pw.pw_uid, pw.pw_gid)
    port = _free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    try:
        subprocess.run(
            [
                *as_user,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "partycard",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            **run,
        )  # type: ignore[call-overload]
        subprocess.run(
            [
                *as_user,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-t",
                "60",
                "-l",
                str(base / "log"),
                "-o",
                f"-p {port} -h 127.0.0.1 -k {base}",
                "start",
            ],
            **run,
        )  # type: ignore[call-overload]
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {exc.stderr!r}")
    try:
        yield f"postgresql://partycard@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


def test_receiver_on_postgresql_stores_deduplicates_and_refuses(tmp_path: Path, postgres_url: str) -> None:
    with ReceiverServer(postgres_url) as srv:
        assert httpx.get(f"{srv.url}/healthz", timeout=10).json() == {"status": "ok"}
        with Outbox(tmp_path / "ob.sqlite3") as ob, Sender(ob, SenderConfig(srv.url)) as sender:
            ids = [ob.enqueue(make_record(r, i)) for i in range(3) for r in ("PG-A", "PG-B")]
            assert sender.drain(until_empty=True, deadline_s=20).sent == 6
        rec = make_record("PG-A", 9)
        headers = {"Content-Type": "application/json", "Idempotency-Key": rec["record_id"]}
        url = f"{srv.url}/v1/results"
        first = httpx.post(url, content=canonical_json(rec), headers=headers, timeout=10)
        again = httpx.post(url, content=canonical_json(rec), headers=headers, timeout=10)
        clash = httpx.post(
            url, content=canonical_json(dict(rec, verdict="valid")), headers=headers, timeout=10
        )
        bad = httpx.post(url, content=canonical_json(dict(rec, photo="x")), headers=headers, timeout=10)
        assert (first.status_code, again.status_code, clash.status_code, bad.status_code) == (
            201,
            200,
            409,
            422,
        )
        assert again.json() == first.json()
        got = received(srv.url)
        assert [g["record_id"] for g in got] == [*ids, rec["record_id"]]
        assert [g["record_id"] for g in received(srv.url, "PG-B")] == ids[1::2]
        assert got[-1]["deliveries"] == 2 and got[-1]["record"] == rec
