"""``partycard outbox …`` and ``partycard backend serve`` as an operator runs them (real processes)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from partycard.backend.server import ReceiverServer
from partycard.cli import main
from partycard.forward.outbox import Outbox

from .conftest import make_record, received


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in this process (starting a new interpreter per call would only add import time)."""
    code = main(list(args))
    out = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out.out, out.err)


def test_outbox_status_drain_and_dead_letters(
    tmp_path: Path, receiver: ReceiverServer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ob.sqlite3"
    first = make_record("A", 1)
    with Outbox(path) as ob:
        ids = [ob.enqueue(make_record("A", i)) for i in range(2, 5)]
        ob.enqueue(first)
    # The receiver already holds `first` with other content: draining it must dead-letter with 409.
    clash = dict(first, verdict="valid")
    httpx.post(
        f"{receiver.url}/v1/results",
        content=json.dumps(clash).encode(),
        timeout=10,
        headers={"Content-Type": "application/json", "Idempotency-Key": first["record_id"]},
    )

    status = _cli(capsys, "outbox", "status", "--outbox", str(path), "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["pending"] == 4

    drained = _cli(capsys, "outbox", "drain", "--outbox", str(path), "--backend", receiver.url, "--json")
    assert drained.returncode == 0, drained.stderr
    assert json.loads(drained.stdout) == {
        "attempts": 4,
        "sent": 3,
        "dead": 1,
        "retried": 0,
        "pending_left": 0,
    }
    assert [g["record_id"] for g in received(receiver.url)][1:] == ids

    dead = _cli(capsys, "outbox", "dead-letters", "--outbox", str(path))
    assert dead.returncode == 0 and first["record_id"] in dead.stdout and "HTTP 409" in dead.stdout
    assert "1 dead letter(s)" in dead.stdout


def test_outbox_drain_without_backend_and_unreachable_backend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ob.sqlite3"
    with Outbox(path) as ob:
        ob.enqueue(make_record())
    missing = _cli(capsys, "outbox", "drain", "--outbox", str(path))
    assert missing.returncode == 2 and "--backend" in missing.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    down = _cli(
        capsys,
        "outbox",
        "drain",
        "--outbox",
        str(path),
        "--backend",
        f"http://127.0.0.1:{port}",
        "--deadline",
        "1",
        "--json",
    )
    assert down.returncode == 1 and json.loads(down.stdout.splitlines()[-1])["pending_left"] == 1


def test_backend_serve_command(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path / "served.sqlite3"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "partycard",
            "backend",
            "serve",
            "--db",
            f"sqlite:///{db}",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        end = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > end or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        rec = make_record()
        resp = httpx.post(
            f"{url}/v1/results",
            content=json.dumps(rec).encode(),
            timeout=10,
            headers={"Content-Type": "application/json", "Idempotency-Key": rec["record_id"]},
        )
        assert resp.status_code == 201
        assert httpx.get(f"{url}/openapi.json", timeout=10).json()["openapi"] == "3.1.0"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert f"receiver: http://127.0.0.1:{port}/v1/results, store sqlite:///{db}" in err.decode()
    with ReceiverServer(f"sqlite:///{db}") as again:  # the record survived the server's exit
        assert [g["record_id"] for g in received(again.url)] == [rec["record_id"]]


def test_outbox_commands_never_create_an_outbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """FOUND: status on a mistyped path made the folder and an empty database, and called it fine."""
    path = tmp_path / "no" / "such" / "outbox.sqlite3"
    for action in (["status"], ["dead-letters"], ["drain", "--backend", "http://127.0.0.1:9"]):
        r = _cli(capsys, "outbox", *action, "--outbox", str(path))
        assert r.returncode == 2 and f"no outbox at {path}" in r.stderr, (action, r)
    assert not (tmp_path / "no").exists()
