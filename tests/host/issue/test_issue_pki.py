"""The test PKI: certificate profiles of ICAO 9303-12 §7.1, the CRL, revocation, algorithms."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from partycard.errors import ConfigError
from partycard.issue import init_pki, load_pki, load_signer, revoke_signer

NOW = dt.datetime(2025, 8, 1, 8, 0, tzinfo=dt.UTC)


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ecdsa-brainpoolP256r1", "ecdsa-brainpoolP384r1",
                                       "rsa-pss"])
def test_root_and_signers_follow_the_icao_profiles(tmp_path: Path, algorithm: str) -> None:
    pki = init_pki(tmp_path, now=NOW, algorithm=algorithm)
    root = cert(pki.root_cert)
    assert root.subject == root.issuer
    bc = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = root.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign and not ku.value.digital_signature
    assert root.not_valid_before_utc == NOW and root.not_valid_after_utc > NOW + dt.timedelta(days=365 * 14)
    root.verify_directly_issued_by(root)
    issuers = set()
    for paths in pki.signers.values():
        ds = cert(paths.cert)
        ds.verify_directly_issued_by(root)
        ku = ds.extensions.get_extension_for_class(x509.KeyUsage)
        assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
        with pytest.raises(x509.ExtensionNotFound):
            ds.extensions.get_extension_for_class(x509.BasicConstraints)
        period = ds.extensions.get_extension_for_class(x509.PrivateKeyUsagePeriod).value
        assert period.not_after is not None
        assert period.not_after - NOW.replace(tzinfo=None) <= dt.timedelta(days=93)
        aki = ds.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert aki.key_identifier == ski.digest
        country = ds.subject.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)
        assert [a.value for a in country] == ["VN"]
        issuers.add(ds.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value)
        assert stat.S_IMODE(paths.key.stat().st_mode) == 0o600
    assert issuers == {"Ban Tổ chức Trung ương", "Đảng ủy Bộ Ngoại giao"}
    key = load_signer(pki, "dubng").key
    assert isinstance(key, rsa.RSAPrivateKey if algorithm == "rsa-pss" else ec.EllipticCurvePrivateKey)


def test_crl_is_signed_by_the_root_and_revocation_lists_the_signer(tmp_path: Path) -> None:
    pki = init_pki(tmp_path, now=NOW)
    root = cert(pki.root_cert)
    crl = x509.load_pem_x509_crl(pki.crl.read_bytes())
    assert crl.is_signature_valid(root.public_key()) and len(crl) == 0
    revoke_signer(pki, "Đảng ủy Bộ Ngoại giao", now=NOW + dt.timedelta(days=3))
    crl = x509.load_pem_x509_crl(pki.crl.read_bytes())
    assert crl.is_signature_valid(root.public_key())
    serial = cert(pki.signers["dubng"].cert).serial_number
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert crl.get_revoked_certificate_by_serial_number(cert(pki.signers["btctw"].cert).serial_number) is None
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    index = json.loads((tmp_path / "pki.json").read_text("utf-8"))
    assert index["revoked"] == [serial]


def test_pki_directory_errors(tmp_path: Path) -> None:
    init_pki(tmp_path, now=NOW)
    with pytest.raises(ConfigError, match="already holds"):
        init_pki(tmp_path, now=NOW)
    with pytest.raises(ConfigError, match="not a partycard PKI"):
        load_pki(tmp_path / "missing")
    with pytest.raises(ConfigError, match="no document signer"):
        load_pki(tmp_path).signer("nobody")
    with pytest.raises(ConfigError, match="timezone"):
        init_pki(tmp_path / "x", now=dt.datetime(2025, 1, 1))
    with pytest.raises(ConfigError, match="unknown PKI algorithm"):
        init_pki(tmp_path / "y", now=NOW, algorithm="dsa")
