"""The sender against real HTTP peers on 127.0.0.1: the receiver, a scripted HTTP server, a dead port."""

from __future__ import annotations

import email.utils
import random
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from partycard.backend.server import ReceiverServer
from partycard.errors import ConfigError
from partycard.forward.outbox import Outbox
from partycard.forward.sender import Sender, SenderConfig, backoff_delay_s, classify, parse_retry_after

from .conftest import make_record, received


class Scripted(ThreadingHTTPServer):
    """A real HTTP server answering POSTs from a script of (status, headers); logs arrival times and keys."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script = list(script)
        self.arrivals: list[tuple[float, str]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.arrivals.append((time.monotonic(), self.headers.get("Idempotency-Key", "")))
        status, headers = self.server.script.pop(0) if self.server.script else (201, {})
        body = b'{"ok": true}' if status < 300 else b'{"error": {"code": "x", "message": "scripted"}}'
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    servers: list[Scripted] = []

    def make(script: list[tuple[int, dict[str, str]]]) -> Scripted:
        srv = Scripted(script)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield make  # type: ignore[misc]
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _config(url: str, **kw: object) -> SenderConfig:
    defaults: dict[str, object] = {
        "backoff_base_s": 0.1,
        "backoff_cap_s": 0.5,
        "min_retry_interval_s": 0.05,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 5.0,
    }
    defaults.update(kw)
    return SenderConfig(url, **defaults)  # type: ignore[arg-type]


def test_pending_records_are_delivered_with_their_key(tmp_path: Path, receiver: ReceiverServer) -> None:
    with Outbox(tmp_path / "ob.sqlite3") as ob, Sender(ob, _config(receiver.url)) as sender:
        ids = [ob.enqueue(make_record("A", i)) for i in range(5)]
        result = sender.drain(until_empty=True, deadline_s=10)
        assert (result.sent, result.pending_left, result.dead) == (5, 0, 0)
        assert all(ob.state_of(r) == "sent" for r in ids)
    got = received(receiver.url)
    assert [g["record_id"] for g in got] == ids
    assert all(g["deliveries"] == 1 for g in got)


def test_a_4xx_refusal_becomes_a_dead_letter_with_the_reason(
    tmp_path: Path, receiver: ReceiverServer
) -> None:
    rec = make_record("A", 1)
    clash = dict(rec, verdict="valid")  # same record id, other content: the receiver answers 409
    with Outbox(tmp_path / "one.sqlite3") as ob, Sender(ob, _config(receiver.url)) as sender:
        ob.enqueue(rec)
        assert sender.drain(until_empty=True, deadline_s=10).sent == 1
    with Outbox(tmp_path / "two.sqlite3") as ob, Sender(ob, _config(receiver.url)) as sender:
        ob.enqueue(clash)
        follower = ob.enqueue(make_record("A", 2))
        result = sender.drain(until_empty=True, deadline_s=10)
        assert (result.dead, result.sent) == (1, 1)
        [dead] = ob.dead_letters()
        assert (
            dead.record_id == rec["record_id"]
            and "HTTP 409" in dead.reason
            and "idempotency_conflict" in dead.reason
        )
        assert ob.state_of(follower) == "sent"


@pytest.mark.parametrize("status", [503, 429, 408, 500])
def test_retryable_status_is_retried_and_retry_after_seconds_is_honoured(
    tmp_path: Path, scripted: object, status: int
) -> None:
    srv = scripted([(status, {"Retry-After": "1"})])  # type: ignore[operator]
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    with Outbox(tmp_path / "ob.sqlite3") as ob, Sender(ob, _config(url)) as sender:
        rid = ob.enqueue(make_record())
        result = sender.drain(until_empty=True, deadline_s=10)
        assert (result.sent, result.retried) == (1, 1)
    (t0, k0), (t1, k1) = srv.arrivals
    assert k0 == k1 == rid
    assert t1 - t0 >= 0.95  # Retry-After: 1 beats the 0.1 s backoff


def test_retry_after_http_date_over_the_wire(tmp_path: Path, scripted: object) -> None:
    when = email.utils.formatdate(time.time() + 2, usegmt=True)  # IMF-fixdate, RFC 9110 §5.6.7
    srv = scripted([(503, {"Retry-After": when})])  # type: ignore[operator]
    with (
        Outbox(tmp_path / "ob.sqlite3") as ob,
        Sender(ob, _config(f"http://127.0.0.1:{srv.server_address[1]}")) as s,
    ):
        ob.enqueue(make_record())
        assert s.drain(until_empty=True, deadline_s=10).sent == 1
    (t0, _), (t1, _) = srv.arrivals
    assert t1 - t0 >= 0.9  # at least the whole seconds left until that date


def test_parse_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == pytest.approx(30, abs=1)
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 0.0  # the RFC 9110 example, in the past
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None
    assert parse_retry_after("999999", now) == 3600.0  # capped


def test_classification_table() -> None:
    assert classify(201, "", None).kind == "sent" and classify(200, "", None).kind == "sent"
    for status in (400, 401, 403, 404, 409, 413, 415, 422):
        assert classify(status, "no", None).kind == "dead"
    for status in (408, 429, 500, 502, 503, 504, 301):
        assert classify(status, "", None).kind == "retry"


def test_backoff_is_full_jitter_under_a_growing_capped_ceiling() -> None:
    cfg = SenderConfig("http://x", backoff_base_s=0.5, backoff_cap_s=8.0, min_retry_interval_s=0.2)
    rng = random.Random(1)
    for failures, ceiling in [(1, 0.5), (2, 1.0), (4, 4.0), (10, 8.0), (60, 8.0)]:
        samples = [backoff_delay_s(failures, cfg, rng) for _ in range(400)]
        assert min(samples) >= 0.2 and max(samples) <= ceiling
        assert max(samples) > 0.8 * ceiling  # jitter spans the whole range, not a fixed delay


def test_backend_down_then_back_delivers_everything_in_order_with_a_bounded_retry_rate(
    tmp_path: Path,
) -> None:
    # "Down" is a real listener that accepts and drops every connection, counting them.
    down = socket.socket()
    down.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    down.bind(("127.0.0.1", 0))
    down.listen(64)
    port = down.getsockname()[1]
    accepted: list[float] = []
    stop = threading.Event()

    def drop_all() -> None:
        down.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = down.accept()
            except TimeoutError:
                continue
            accepted.append(time.monotonic())
            conn.close()

    dropper = threading.Thread(target=drop_all, daemon=True)
    dropper.start()

    cfg = _config(f"http://127.0.0.1:{port}", backoff_base_s=0.2, backoff_cap_s=1.0, min_retry_interval_s=0.1)
    ob = Outbox(tmp_path / "ob.sqlite3")
    sender = Sender(ob, cfg)
    order = {r: [ob.enqueue(make_record(r, i)) for i in range(4)] for r in ("A", "B", "C")}
    sender.start(idle_poll_s=0.2)
    down_s = 3.0
    time.sleep(down_s)
    stop.set()
    dropper.join()
    down.close()
    rate = len(accepted) / down_s
    print(f"\nbackend down {down_s:.0f} s: {len(accepted)} connection attempts = {rate:.1f}/s")
    assert ob.status().pending == 12
    assert 1 <= len(accepted) and rate <= 10.0  # backoff 0.2..1 s with full jitter: a few per second

    with ReceiverServer(f"sqlite:///{tmp_path / 'received.sqlite3'}", port=port) as receiver:
        end = time.monotonic() + 15
        while ob.status().pending and time.monotonic() < end:
            time.sleep(0.05)
        sender.stop()
        assert ob.status().pending == 0
        for reader, ids in order.items():
            assert [g["record_id"] for g in received(receiver.url, reader)] == ids
    sender.close()
    ob.close()


def test_background_thread_delivers_after_notify(tmp_path: Path, receiver: ReceiverServer) -> None:
    with Outbox(tmp_path / "ob.sqlite3") as ob, Sender(ob, _config(receiver.url)) as sender:
        sender.start(idle_poll_s=30.0)  # long idle poll: only notify() can make this quick
        time.sleep(0.1)
        rid = ob.enqueue(make_record())
        t0 = time.monotonic()
        sender.notify()
        while ob.state_of(rid) != "sent" and time.monotonic() - t0 < 5:
            time.sleep(0.01)
        assert ob.state_of(rid) == "sent" and time.monotonic() - t0 < 2
        sender.stop()
    assert [g["record_id"] for g in received(receiver.url)] == [rid]


def test_bad_configuration_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="http"):
        SenderConfig("ftp://results.example")
    with pytest.raises(ConfigError, match="client key needs"):
        SenderConfig("https://x", client_key=tmp_path / "k.pem")
    with Outbox(tmp_path / "ob.sqlite3") as ob, pytest.raises(ConfigError, match="TLS"):
        Sender(ob, SenderConfig("https://x", ca_bundle=tmp_path / "missing.pem"))


def test_connection_refused_keeps_the_record_pending_with_the_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    with Outbox(tmp_path / "ob.sqlite3") as ob, Sender(ob, _config(f"http://127.0.0.1:{port}")) as sender:
        rid = ob.enqueue(make_record())
        result = sender.drain(until_empty=True, deadline_s=0.6)
        assert result.sent == 0 and result.pending_left == 1 and ob.state_of(rid) == "pending"
        assert 2 <= result.attempts <= 12  # backoff 0.1..0.5 s over 0.6 s: a handful, not a busy loop
        assert "ConnectError" in result.errors[-1]
        assert ob.due(time.time() + 1)[0].attempts == result.attempts
