"""Forwarding processes for the crash test, forked from a pre-imported parent so each starts in ~10 ms.

Usage: crash_worker.py OUTBOX BACKEND_URL. The parent imports partycard and warms its caches, prints
``zygote ready``, then for every ``go`` line on stdin forks a child and waits for it. A child opens
the outbox and a sender afresh, prints ``ready <pid>``, then forever: enqueues a record, prints
``committed <id>`` (after the commit has returned), and makes one drain pass. The test SIGKILLs the
child at a random moment; the parent then prints ``exit <pid> <wait status>``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from itertools import count
from pathlib import Path

from partycard.forward.outbox import Outbox
from partycard.forward.record import build_record
from partycard.forward.sender import Sender, SenderConfig

VERDICT = {
    "verdict": "valid",
    "policy_version": "p1",
    "issuer": "Central Organization Commission",
    "checks": [{"name": "passive_authentication", "status": "passed", "reason": None}],
}


def _config(url: str) -> SenderConfig:
    return SenderConfig(url, backoff_base_s=0.05, backoff_cap_s=0.2, min_retry_interval_s=0.02)


def _record(n: int) -> dict[str, object]:
    return build_record(
        VERDICT,
        reader_serial="CRASH-A" if n % 3 else "CRASH-B",
        site_id="SITE-1",
        card_number=f"{n:012d}",
        member_id=f"M{n:08d}",
        firmware_version="0.1.0",
    )


def child(outbox_path: str, url: str) -> None:
    outbox = Outbox(outbox_path, keep_sent=10**9)
    sender = Sender(outbox, _config(url))
    os.write(1, f"ready {os.getpid()}\n".encode())
    for n in count():
        record = _record(n)
        outbox.enqueue(record)
        os.write(1, f"committed {record['record_id']}\n".encode())  # one write: atomic on a pipe
        sender.drain()


def main() -> None:
    outbox_path, url = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as warm:  # warm import-time and first-use caches once
        with Outbox(Path(warm) / "warm.sqlite3") as ob, Sender(ob, _config(url)):
            ob.enqueue(_record(0))
    sys.stdout.write("zygote ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if line.strip() != "go":
            break
        pid = os.fork()
        if pid == 0:
            try:
                child(outbox_path, url)
            finally:
                os._exit(70)
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(f"exit {pid} {status}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
