"""The firmware on MicroPython behind a noisy line (1 % of bytes corrupted, dropped or inserted,
each way, seeded): no damaged message is ever accepted, and every request ends in a reply or a
typed timeout."""

from __future__ import annotations

import random

import pytest

from partycard.errors import DeviceError, ReaderTimeout
from partycard.link.client import ReaderClient
from partycard.sim.bridge import NoisyBridge
from partycard.sim.runner import SimulatedReader
from partycard.transport.serial import SerialTransport
from tests.integration.test_link_sim import micropython_or_skip

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

REQUESTS = 100
SEED = 20251203


def test_link_noisy_line_never_accepts_a_damaged_message() -> None:
    micropython_or_skip()
    rng = random.Random(SEED)
    with SimulatedReader(runtime="micropython") as sim:
        with NoisyBridge(sim.port, error_rate=0.01, seed=SEED) as line:
            client = ReaderClient(SerialTransport(line.port))
            try:
                counts = _run_pings(client, rng)
            finally:
                client.close()
        print(
            f"noisy line (to reader {line.to_reader}; to host {line.to_host}): "
            f"{counts['ok']} replies ok, {counts['timeouts']} timeouts, {counts['errors']} reader errors, "
            f"{client.frames_dropped} frames dropped by the host, {client.late_replies} late replies"
        )
        assert counts["ok"] + counts["timeouts"] + counts["errors"] == REQUESTS
        assert counts["ok"] >= REQUESTS // 10  # the line is noisy, not dead (about a third get through)
        assert counts["timeouts"] > 0 and client.frames_dropped > 0  # the noise did reach the link
        assert client.rejected == 0  # nothing that passed the CRC failed to parse
        # The reader is still serving after all that noise, on a clean line.
        clean = ReaderClient(SerialTransport(sim.port))
        try:
            clean.connect(5.0)
            assert clean.ping(b"still here") == b"still here"
            print(f"reader counted {clean.request('diag', {})['frames_dropped']} dropped frames")
        finally:
            clean.close()


def _run_pings(client: ReaderClient, rng: random.Random) -> dict[str, int]:
    counts = {"ok": 0, "timeouts": 0, "errors": 0}
    client.connect(20.0)
    for _ in range(REQUESTS):
        data = rng.randbytes(rng.randrange(1, 48))
        try:
            body = client.request("ping", {"data": data}, timeout_s=0.15, retries=0)
        except ReaderTimeout:
            counts["timeouts"] += 1
            continue
        except DeviceError:
            counts["errors"] += 1  # a typed answer; it cannot stem from a damaged frame
            continue
        assert body == {"data": data}  # a damaged message accepted would show here
        counts["ok"] += 1
    return counts
