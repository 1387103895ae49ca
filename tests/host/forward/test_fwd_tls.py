"""HTTPS: the sender verifies the receiver's certificate (throwaway CA) and can present a client cert."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from partycard.backend.server import ReceiverServer, TLSFiles
from partycard.forward.outbox import Outbox
from partycard.forward.sender import Sender, SenderConfig

from .conftest import Pki, make_record, received


def _deliver(tmp_path: Path, url: str, **tls: Path) -> tuple[int, int, list[str]]:
    cfg = SenderConfig(url, backoff_base_s=0.05, backoff_cap_s=0.1, min_retry_interval_s=0.05, **tls)  # type: ignore[arg-type]
    with Outbox(tmp_path / f"ob-{len(list(tmp_path.iterdir()))}.sqlite3") as ob, Sender(ob, cfg) as sender:
        ob.enqueue(make_record())
        result = sender.drain(until_empty=True, deadline_s=0.5)
    return result.sent, result.pending_left, result.errors


def _verifying(pki: Pki, client: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    if client:
        ctx.load_cert_chain(str(pki.client_cert), str(pki.client_key))
    return ctx


def test_https_with_the_right_ca_delivers_and_a_stranger_ca_does_not(tmp_path: Path, pki: Pki) -> None:
    tls = TLSFiles(pki.server_cert, pki.server_key)
    with ReceiverServer(f"sqlite:///{tmp_path / 'r.sqlite3'}", tls=tls) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        sent, left, _ = _deliver(tmp_path, srv.url, ca_bundle=pki.ca_cert)
        assert (sent, left) == (1, 0)
        sent, left, errors = _deliver(tmp_path, srv.url, ca_bundle=pki.other_ca_cert)
        assert (sent, left) == (0, 1) and any("CERTIFICATE_VERIFY_FAILED" in e for e in errors)
        # The system trust store does not know the throwaway CA either: verification is on by default.
        sent, left, errors = _deliver(tmp_path, srv.url)
        assert (sent, left) == (0, 1) and any("CERTIFICATE_VERIFY_FAILED" in e for e in errors)
        assert len(received(srv.url, verify=_verifying(pki))) == 1


def test_client_certificate_required_by_the_receiver(tmp_path: Path, pki: Pki) -> None:
    tls = TLSFiles(pki.server_cert, pki.server_key, client_ca=pki.ca_cert)
    with ReceiverServer(f"sqlite:///{tmp_path / 'r.sqlite3'}", tls=tls) as srv:
        sent, left, errors = _deliver(tmp_path, srv.url, ca_bundle=pki.ca_cert)
        assert (sent, left) == (0, 1), errors
        sent, left, _ = _deliver(
            tmp_path, srv.url, ca_bundle=pki.ca_cert, client_cert=pki.client_cert, client_key=pki.client_key
        )
        assert (sent, left) == (1, 0)
        assert len(received(srv.url, verify=_verifying(pki, client=True))) == 1
        # Without a client certificate even a GET is refused at the TLS layer.
        try:
            httpx.get(f"{srv.url}/healthz", verify=_verifying(pki), timeout=5)
        except httpx.HTTPError:
            pass
        else:
            raise AssertionError("receiver answered a client without a certificate")
