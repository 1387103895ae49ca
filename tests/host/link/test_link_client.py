"""ReaderClient against a scripted reader on a real pty (SPEC.md §4–§6): replies, errors, timeouts,
keepalives, late replies, event gaps, noise, cancel from another thread, hang-up, start-up."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from partycard.errors import (
    CardRemoved,
    DeviceError,
    NoCard,
    ReaderDisconnected,
    ReaderNotFound,
    ReaderTimeout,
    VersionMismatch,
)
from partycard.link.client import ReaderClient, open_reader
from partycard.link.codes import ErrorCode
from partycard.transport.serial import SerialTransport
from tests.host.link.peer import HELLO_BODY, Handler, Peer, error, event, hello_then, response

pytestmark = pytest.mark.timeout(30)


def _silent(peer: Peer, req: dict[int, Any]) -> None:
    pass


class Rig:
    def __init__(self, handler: Handler) -> None:
        self.peer = Peer(handler)
        self.client = ReaderClient(SerialTransport(self.peer.port), first_id=100)

    def close(self) -> None:
        self.client.close()
        self.peer.close()


@pytest.fixture
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    r = Rig(request.param)
    yield r
    r.close()


def _echo(peer: Peer, req: dict[int, Any]) -> None:
    peer.send(response(req, req[4]))


@pytest.mark.parametrize("rig", [hello_then(_echo)], indirect=True)
def test_hello_ping_and_ids_increase(rig: Rig) -> None:
    info = rig.client.hello()
    assert (info.serial, info.max_payload, info.boot_id, info.frontend) == ("PEER-1", 2048, b"\x01" * 8, None)
    assert rig.client.ping(b"\x00\xff" * 100) == b"\x00\xff" * 100
    assert [r[2] for r in rig.peer.requests] == [100, 101]
    assert rig.peer.requests[1][4] == {"data": b"\x00\xff" * 100}


def _hello_with_extras(peer: Peer, req: dict[int, Any]) -> None:
    peer.send(response(req, {**HELLO_BODY, "future": {"x": 1}, "ops": ["hello", "teleport"]}))


@pytest.mark.parametrize("rig", [_hello_with_extras], indirect=True)
def test_unknown_response_keys_are_ignored(rig: Rig) -> None:
    info = rig.client.hello()
    assert info.ops == ("hello", "teleport")
    assert info.raw["future"] == {"x": 1}


def _hello_v2(peer: Peer, req: dict[int, Any]) -> None:
    peer.send(response(req, {**HELLO_BODY, "protocol": 2}))


@pytest.mark.parametrize("rig", [_hello_v2], indirect=True)
def test_hello_of_another_protocol_is_refused(rig: Rig) -> None:
    with pytest.raises(VersionMismatch):
        rig.client.hello()


@pytest.mark.parametrize("rig", [_silent], indirect=True)
def test_idempotent_op_is_sent_twice_then_times_out(rig: Rig) -> None:
    start = time.monotonic()
    with pytest.raises(ReaderTimeout):
        rig.client.request("ping", {"data": b"x"}, timeout_s=0.3)
    assert 0.55 < time.monotonic() - start < 2.0
    assert [(r[2], r[3]) for r in rig.peer.requests] == [(100, "ping"), (101, "ping")]


@pytest.mark.parametrize("rig", [_silent], indirect=True)
def test_apdu_is_never_resent(rig: Rig) -> None:
    with pytest.raises(ReaderTimeout):
        rig.client.request("apdu", {"apdu": b"\x00\xa4\x04\x00"}, timeout_s=0.3)
    time.sleep(0.1)
    assert [r[3] for r in rig.peer.requests] == ["apdu"]


def _slow_with_keepalives(peer: Peer, req: dict[int, Any]) -> None:
    def work() -> None:
        for seq in range(6):  # 0.6 s of work, a keepalive every 0.1 s
            time.sleep(0.1)
            peer.send(event(seq, "keepalive", {"request": req[2]}))
        peer.send(response(req, {"response": b"\x90\x00"}))

    threading.Thread(target=work, daemon=True).start()


@pytest.mark.parametrize("rig", [_slow_with_keepalives], indirect=True)
def test_keepalives_restart_the_budget(rig: Rig) -> None:
    body = rig.client.request("apdu", {"apdu": b"\x00\xb0\x00\x00\x00"}, timeout_s=0.3)
    assert body == {"response": b"\x90\x00"}
    assert rig.client.next_event(0.05) is None  # keepalives are not queued as events
    assert rig.client.events_lost == 0


def _stale_then_right(peer: Peer, req: dict[int, Any]) -> None:
    stale = dict(req)
    stale[2] = req[2] - 1  # the late reply of an earlier request
    peer.send(response(stale, {"data": b"old"}))
    peer.send(response(req, {"data": req[4]["data"]}))


@pytest.mark.parametrize("rig", [_stale_then_right], indirect=True)
def test_replies_with_other_ids_are_ignored(rig: Rig) -> None:
    assert rig.client.ping(b"new") == b"new"
    assert rig.client.late_replies == 1


def _events_with_gap(peer: Peer, req: dict[int, Any]) -> None:
    for seq in (0, 1, 3):
        peer.send(event(seq, "log", {"level": "info", "text": str(seq)}))
    peer.send(response(req, {"data": b""}))


@pytest.mark.parametrize("rig", [_events_with_gap], indirect=True)
def test_event_queue_and_sequence_gap(rig: Rig) -> None:
    rig.client.ping()
    seqs = []
    while (ev := rig.client.next_event(0.2)) is not None:
        seqs.append(ev.seq)
    assert seqs == [0, 1, 3]
    assert rig.client.events_lost == 1


def _card_errors(peer: Peer, req: dict[int, Any]) -> None:
    codes = {"card.wait": ErrorCode.E_NO_CARD, "apdu": ErrorCode.E_CARD_REMOVED, "ui": 0x5E}
    peer.send(error(req, codes[req[3]], "scripted", index=2))


@pytest.mark.parametrize("rig", [_card_errors], indirect=True)
def test_reader_errors_become_typed_exceptions(rig: Rig) -> None:
    with pytest.raises(NoCard):
        rig.client.wait_card(0.1)
    assert rig.peer.requests[0][4] == {"timeout_ms": 100}
    with pytest.raises(CardRemoved):
        rig.client.transmit(b"\x00\xb0\x00\x00\x00")
    with pytest.raises(DeviceError) as info:
        rig.client.request("ui", {"pattern": "ok"})
    assert info.value.code == 0x5E and info.value.code_name == "UNKNOWN"
    assert info.value.detail == {"index": 2}


def _noisy(peer: Peer, req: dict[int, Any]) -> None:
    peer.send(b"I (1234) boot: ESP-IDF v5.2\r\n\x00\xff\xfe\x00" + bytes(range(1, 200)))
    peer.send(b"\x00" + response(req, {"data": req[4]["data"]}))


@pytest.mark.parametrize("rig", [_noisy], indirect=True)
def test_garbage_between_frames_is_dropped_and_counted(rig: Rig) -> None:
    assert rig.client.ping(b"abc") == b"abc"
    assert rig.client.frames_dropped == 3


def _error_without_id(peer: Peer, req: dict[int, Any]) -> None:
    peer.send(error(None, ErrorCode.E_CBOR, "unreadable"))


@pytest.mark.parametrize("rig", [_error_without_id], indirect=True)
def test_error_without_id_answers_the_outstanding_request(rig: Rig) -> None:
    with pytest.raises(DeviceError) as info:
        rig.client.request("diag", {})
    assert info.value.code == ErrorCode.E_CBOR


_waiting: dict[str, dict[int, Any]] = {}


def _cancellable(peer: Peer, req: dict[int, Any]) -> None:
    if req[3] == "card.wait":
        _waiting["req"] = req
    elif req[3] == "cancel":
        peer.send(response(req, {"cancelled": True}))
        peer.send(error(_waiting["req"], ErrorCode.E_CANCELLED, "cancelled"))


@pytest.mark.parametrize("rig", [_cancellable], indirect=True)
def test_cancel_from_another_thread(rig: Rig) -> None:
    results: list[object] = []

    def canceller() -> None:
        while rig.client.current_request_id is None:
            time.sleep(0.01)
        results.append(rig.client.cancel(rig.client.current_request_id))

    thread = threading.Thread(target=canceller)
    thread.start()
    with pytest.raises(DeviceError) as info:
        rig.client.wait_card(10.0)
    thread.join(5)
    assert info.value.code == ErrorCode.E_CANCELLED
    assert results == [True]
    assert rig.peer.requests[1][4] == {"request": rig.peer.requests[0][2]}


def _batch(peer: Peer, req: dict[int, Any]) -> None:
    apdus = req[4]["apdus"]
    out = []
    for apdu in apdus:
        sw = b"\x6a\x82" if apdu[1] == 0xEE else b"\x90\x00"
        out.append(apdu[:1] + sw)
        if sw not in (b"\x90\x00",):
            break
    peer.send(response(req, {"responses": out}))


@pytest.mark.parametrize("rig", [_batch], indirect=True)
def test_batch_is_split_at_max_batch_and_stops_at_a_bad_status(rig: Rig) -> None:
    apdus = [bytes([i, 0xB0, 0, 0]) for i in range(40)]
    assert len(rig.client.transmit_batch(apdus)) == 40
    assert [len(r[4]["apdus"]) for r in rig.peer.requests] == [32, 8]
    assert "continue" not in rig.peer.requests[0][4]
    apdus[5] = bytes([5, 0xEE, 0, 0])
    got = rig.client.transmit_batch(apdus)
    assert len(got) == 6 and got[-1] == b"\x05\x6a\x82"
    assert len(rig.peer.requests) == 3  # the second half was not sent
    rig.client.transmit_batch(apdus[:2], continue_sw=(0x9000, 0x6282))
    assert rig.peer.requests[-1][4]["continue"] == [0x9000, 0x6282]


def _hang_up_on_request(peer: Peer, req: dict[int, Any]) -> None:
    threading.Thread(target=peer.hang_up, daemon=True).start()


@pytest.mark.parametrize("rig", [_hang_up_on_request], indirect=True)
def test_reader_gone_is_reader_disconnected(rig: Rig) -> None:
    with pytest.raises(ReaderDisconnected):
        rig.client.request("diag", {}, timeout_s=3.0)


def test_open_reader_waits_through_a_reset() -> None:
    # The reader ignores the first two hellos (it is still booting), prints its banner, then answers.
    def booting(peer: Peer, req: dict[int, Any]) -> None:
        if len(peer.requests) == 2:
            peer.send(b"partycard-reader 9.9 serial=PEER-1 protocol=1\n\x00")
        elif len(peer.requests) > 2:
            peer.send(response(req, HELLO_BODY))

    peer = Peer(booting)
    try:
        start = time.monotonic()
        with open_reader(peer.port, timeout_s=5.0) as client:
            assert client.info is not None and client.info.serial == "PEER-1"
            assert client.banner == "partycard-reader 9.9 serial=PEER-1 protocol=1"
        assert time.monotonic() - start < 3.0
        assert [r[3] for r in peer.requests] == ["hello"] * 3
    finally:
        peer.close()


def test_open_reader_times_out_on_a_silent_port() -> None:
    peer = Peer(_silent)
    try:
        start = time.monotonic()
        with pytest.raises(ReaderTimeout):
            open_reader(peer.port, timeout_s=1.0)
        assert time.monotonic() - start < 2.0
    finally:
        peer.close()


def test_open_reader_of_a_missing_port() -> None:
    with pytest.raises(ReaderNotFound):
        open_reader("/dev/partycard-no-such-port")


def test_port_is_opened_exclusively() -> None:
    peer = Peer(_silent)
    try:
        first = SerialTransport(peer.port)
        try:
            with pytest.raises(ReaderNotFound):
                SerialTransport(peer.port)
        finally:
            first.close()
    finally:
        peer.close()


def _no_card_quickly(peer: Peer, req: dict[int, Any]) -> None:
    # A reader that answers every card.wait at once with E_NO_CARD, as if its slice had run out.
    peer.send(error(req, ErrorCode.E_NO_CARD, "no card"))


@pytest.mark.parametrize("rig", [_no_card_quickly], indirect=True)
def test_a_wait_longer_than_max_wait_ms_is_a_run_of_card_waits(rig: Rig) -> None:
    """FOUND: read --wait 60 sent timeout_ms 60000, above MAX_WAIT_MS: E_BAD_ARGUMENT."""
    with pytest.raises(NoCard):
        rig.client.wait_card(75.0)
    assert [r[4]["timeout_ms"] for r in rig.peer.requests] == [30_000, 30_000, 15_000]
