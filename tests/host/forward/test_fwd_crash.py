"""Crash test: the forwarding process is SIGKILLed at random instants while enqueuing and sending.

Nothing committed may be lost; the only duplicates allowed at the receiver are re-sends with the
same Idempotency-Key, which it absorbs (``deliveries`` > 1, one stored row).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from partycard.backend.server import ReceiverServer
from partycard.forward.outbox import Outbox
from partycard.forward.sender import Sender, SenderConfig

from .conftest import received

WORKER = Path(__file__).with_name("crash_worker.py")


class Zygote:
    """The worker parent; ``round`` forks one forwarding process and SIGKILLs it after a random delay."""

    def __init__(self, outbox: Path, url: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(outbox), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.out, self.inp = self.proc.stdout, self.proc.stdin
        line = self.out.readline()
        assert line == "zygote ready\n", (line, self.proc.stderr.read() if self.proc.stderr else "")

    def round(self, delay_s: float) -> list[str]:
        self.inp.write("go\n")
        self.inp.flush()
        first = self.out.readline().split()
        assert first[0] == "ready", first
        pid = int(first[1])
        time.sleep(delay_s)
        os.kill(pid, signal.SIGKILL)
        committed = []
        for line in self.out:
            # A line cut off by the kill does not count: only complete ones certainly followed a commit.
            if line.startswith("committed ") and line.endswith("\n"):
                committed.append(line.split()[1])
            elif line.startswith("exit "):
                _, got_pid, status = line.split()
                assert int(got_pid) == pid and os.WIFSIGNALED(int(status))
                assert os.WTERMSIG(int(status)) == signal.SIGKILL
                return committed
        raise AssertionError("worker parent died")

    def close(self) -> None:
        self.inp.close()
        self.proc.wait(timeout=30)


def _run(tmp_path: Path, rounds: int, max_life_s: float, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    outbox = tmp_path / "outbox.sqlite3"
    with ReceiverServer(f"sqlite:///{tmp_path / 'received.sqlite3'}") as srv:
        printed: list[str] = []
        zygote = Zygote(outbox, srv.url)
        try:
            for _ in range(rounds):
                printed += zygote.round(rng.uniform(0.0, max_life_s))
        finally:
            zygote.close()
        # Restart once more and deliver everything still pending.
        with Outbox(outbox, keep_sent=10**9) as ob, Sender(ob, SenderConfig(srv.url)) as sender:
            assert sender.drain(until_empty=True, deadline_s=60).pending_left == 0
        db = sqlite3.connect(outbox)
        rows = db.execute("SELECT record_id, reader_serial, state FROM records ORDER BY seq").fetchall()
        db.close()
        got = received(srv.url)
    committed = {r[0] for r in rows}
    at_receiver = {g["record_id"]: g for g in got}
    assert set(printed) <= committed, "a record reported as recorded is missing from the outbox"
    assert {r[2] for r in rows} == {"sent"}, "something dead or pending after the final drain"
    assert set(at_receiver) == committed, "receiver and outbox disagree"
    assert len(got) == len(at_receiver), "a record was stored twice"
    for reader in {r[1] for r in rows}:
        outbox_order = [r[0] for r in rows if r[1] == reader]
        assert [g["record_id"] for g in got if g["record"]["reader_serial"] == reader] == outbox_order
    return {
        "rounds": rounds,
        "committed": len(committed),
        "reported_recorded": len(printed),
        "delivered": len(at_receiver),
        "duplicate_deliveries_absorbed": sum(g["deliveries"] - 1 for g in got),
    }


@pytest.mark.timeout(120)
def test_sigkill_at_random_points_loses_nothing(tmp_path: Path) -> None:
    t0 = time.monotonic()
    stats = _run(tmp_path, rounds=100, max_life_s=0.2, seed=20250819)
    print(f"\ncrash test: {stats}, {time.monotonic() - t0:.1f} s")
    assert stats["committed"] >= stats["rounds"]  # the kills landed while work was going on


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_sigkill_soak(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if "soak" not in str(request.config.getoption("-m") or ""):
        pytest.skip("long soak: opt in with -m soak")
    stats = _run(tmp_path, rounds=1000, max_life_s=0.5, seed=int(time.time()))
    print(f"\ncrash soak: {stats}")
    assert stats["committed"] >= stats["rounds"]
