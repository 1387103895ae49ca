"""Fixtures for the forwarding tests: records, a real receiver on loopback, throwaway TLS material."""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from partycard.backend.server import ReceiverServer
from partycard.forward.record import build_record

VERDICT: dict[str, Any] = {
    "verdict": "invalid",
    "policy_version": "policy-2025.1",
    "issuer": "Central Organization Commission",
    "checks": [
        {"name": "passive_authentication.sod_signature", "status": "passed", "reason": None},
        {"name": "passive_authentication.dg_hashes", "status": "failed", "reason": "dg13_hash_mismatch"},
        {"name": "active_authentication", "status": "not_performed", "reason": "no_dg15"},
    ],
}


def make_record(reader: str = "RDR-0001", n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A schema-valid record for ``reader``; ``n`` goes into the member id to tell records apart."""
    kwargs: dict[str, Any] = {
        "reader_serial": reader,
        "site_id": "HN-BADINH-01",
        "card_number": f"{n:012d}",
        "member_id": f"M{n:08d}",
        "firmware_version": "0.1.0",
    }
    kwargs.update(overrides)
    return build_record(VERDICT, **kwargs)


def received(base_url: str, reader: str | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    """Every record the receiver stored (for ``reader``), in arrival order, via its GET endpoint."""
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        params: dict[str, Any] = {"after": after, "limit": 1000}
        if reader is not None:
            params["reader"] = reader
        page = httpx.get(f"{base_url}/v1/results", params=params, timeout=10, **kwargs).json()["results"]
        if not page:
            return items
        items.extend(page)
        after = page[-1]["seq"]


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverServer]:
    server = ReceiverServer(f"sqlite:///{tmp_path / 'received.sqlite3'}").start()
    yield server
    server.stop()


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_cert: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(
    ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, cn: str, server: bool
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, True, False, False, False, False), critical=True
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(ca_key, hashes.SHA256()), key


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throwaway CA with a server certificate for 127.0.0.1, a client certificate, and a stranger CA."""
    d = tmp_path_factory.mktemp("pki")
    ca, ca_key = _ca("partycard test CA")
    server, server_key = _leaf(ca, ca_key, "127.0.0.1", server=True)
    client, client_key = _leaf(ca, ca_key, f"reader-site-{uuid.uuid4().hex[:8]}", server=False)
    other, _ = _ca("some other CA")
    _write(d / "ca.pem", ca)
    _write(d / "server.pem", server, server_key)
    _write(d / "client.pem", client, client_key)
    _write(d / "other-ca.pem", other)
    return Pki(
        d / "ca.pem",
        d / "server.pem",
        d / "server.key",
        d / "client.pem",
        d / "client.key",
        d / "other-ca.pem",
    )
