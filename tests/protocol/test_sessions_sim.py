"""The session vectors against the real reader firmware on the simulator's pty (SPEC.md §1, §2).

The firmware runs unmodified without a front-end, as `partycard.sim.runner.SimulatedReader` starts
it; this test talks to it with the vectors' own framing (protocol/tools/wire.py), not the host's.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cbor2
import pytest
from protocol.tools.check_vectors import VECTORS, load_jsonl
from protocol.tools.sessions import replay
from protocol.tools.wire import FrameDrop, decode_run, encode_frame

from partycard.sim.runner import SimulatedReader, micropython_executable

SESSIONS = sorted((VECTORS / "sessions").glob("*.jsonl"))
REPLY_TIMEOUT_S = 5.0
BANNER_TIMEOUT_S = 10.0

NO_MICROPYTHON = "MicroPython unix port not installed"
pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class PtyLink:
    """Frames over the reader's pty: write requests, collect replies, skip events."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        self.pending = b""
        self.text = b""  # bytes outside valid frames: the banner, tracebacks

    def close(self) -> None:
        os.close(self.fd)

    def _fill(self, deadline: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, min(0.05, deadline - time.monotonic())))
        if ready:
            self.pending += os.read(self.fd, 4096)
        return time.monotonic() < deadline

    def payloads(self, timeout_s: float) -> Iterator[bytes]:
        deadline = time.monotonic() + timeout_s
        while True:
            while b"\x00" in self.pending:
                run, self.pending = self.pending.split(b"\x00", 1)
                try:
                    yield decode_run(run) if run else b""
                except FrameDrop:
                    self.text += run
            if not self._fill(deadline):
                return

    def wait_banner(self, alive: Callable[[], bool]) -> None:
        deadline = time.monotonic() + BANNER_TIMEOUT_S
        while b"partycard-reader" not in self.text + self.pending:
            if not self._fill(deadline) or not alive():
                raise TimeoutError(f"no banner; the reader wrote {(self.text + self.pending)[-400:]!r}")

    def transact(self, payload: bytes) -> bytes:
        os.write(self.fd, encode_frame(payload))
        for reply in self.payloads(REPLY_TIMEOUT_S):
            if not reply:
                continue
            item = cbor2.loads(reply) if reply[:1] and reply[0] >> 5 == 5 else None
            if isinstance(item, dict) and item.get(1) == 2:
                continue  # events the script does not list are skipped (vectors/README.md)
            return reply
        raise TimeoutError(f"no reply within {REPLY_TIMEOUT_S} s")


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(
            "micropython",
            marks=pytest.mark.skipif(
                micropython_executable() is None, reason="MicroPython unix port not installed"
            ),
        ),
        "cpython",
    ],
)
def reader(request: pytest.FixtureRequest) -> Iterator[tuple[SimulatedReader, PtyLink]]:
    """One simulated reader per runtime; the sessions run one after another on it."""
    with SimulatedReader(runtime=request.param) as sim:
        link = PtyLink(sim.port)
        try:
            link.wait_banner(lambda: sim.running)
        except TimeoutError as exc:
            link.close()
            pytest.fail(f"{exc}\n{sim.read_log()[-2000:]}")
        yield sim, link
        link.close()


@pytest.mark.parametrize("session", SESSIONS, ids=[p.stem for p in SESSIONS])
def test_session_on_simulated_reader(reader: tuple[SimulatedReader, PtyLink], session: Path) -> None:
    sim, link = reader
    problems = replay(session.stem, load_jsonl(session), link.transact)
    assert problems == [], sim.read_log()[-2000:]
