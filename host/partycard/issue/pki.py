"""Issuance layer: a test PKI (root CA, document signers, CRL) on disk; must not be a production CA.

A test PKI — root CA (CSCA-like), document signers, CRL — on disk.

Must not be used as a production CA: keys are written unencrypted for demos and tests. Certificate
profiles follow ICAO 9303-12 §7.1 (key usage, private key usage period, validity = key usage
period + lifetime of what was signed). Files are PEM plus a ``pki.json`` index.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from partycard.errors import ConfigError

PKI_FORMAT = "partycard-test-pki"
PKI_VERSION = 1
ALGORITHMS = ("ecdsa-p256", "ecdsa-brainpoolP256r1", "ecdsa-brainpoolP384r1", "rsa-pss")
ROOT_NAME = "Ban Cơ yếu Chính phủ"
#: Default document signers: (short name used on the command line, issuing body).
DEFAULT_SIGNERS = (("btctw", "Ban Tổ chức Trung ương"), ("dubng", "Đảng ủy Bộ Ngoại giao"))
CRL_URL = "http://pki.partycard.invalid/crl/root-ca.crl"

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class SignerPaths:
    name: str
    issuer: str  # the issuing body, as in the certificate's O attribute
    cert: Path
    key: Path


@dataclass(frozen=True)
class PKIPaths:
    """Where a test PKI lives; ``load_pki(dir)`` returns the same for an existing one."""

    directory: Path
    algorithm: str
    root_cert: Path
    root_key: Path
    crl: Path
    signers: dict[str, SignerPaths]

    def signer(self, name: str | None) -> SignerPaths:
        """A signer by short name or issuing-body name; the first one when ``name`` is None."""
        if name is None:
            return next(iter(self.signers.values()))
        for s in self.signers.values():
            if name in (s.name, s.issuer):
                return s
        raise ConfigError(f"no document signer {name!r}; known: {', '.join(self.signers)}")


@dataclass(frozen=True)
class Signer:
    """A loaded document signer: certificate and private key."""

    name: str
    issuer: str
    cert: x509.Certificate
    key: SigningKey


def _new_key(algorithm: str, *, root: bool) -> SigningKey:
    if algorithm == "rsa-pss":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072 if root else 2048)
    curve: ec.EllipticCurve = {
        "ecdsa-p256": ec.SECP256R1(),
        "ecdsa-brainpoolP256r1": ec.BrainpoolP256R1(),
        "ecdsa-brainpoolP384r1": ec.BrainpoolP384R1(),
    }[algorithm]
    return ec.generate_private_key(curve)


def _hash_for(key: SigningKey) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def pss_padding() -> padding.PSS:
    """RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32 (9303-12 §4.1.6.1 recommends these)."""
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def _name(org: str, cn: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """CSCA: keyCertSign and cRLSign; document signer: digitalSignature (9303-12 §7.1.1)."""
    return x509.KeyUsage(
        digital_signature=not cert_sign, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
        encipher_only=False, decipher_only=False,
    )


def _years(now: dt.datetime, years: int, months: int = 0) -> dt.datetime:
    return now + dt.timedelta(days=365 * years + 31 * months)


def _sign_builder(builder: x509.CertificateBuilder, key: SigningKey) -> x509.Certificate:
    if isinstance(key, rsa.RSAPrivateKey):
        return builder.sign(key, hashes.SHA256(), rsa_padding=pss_padding())
    return builder.sign(key, _hash_for(key))


def _root_cert(key: SigningKey, now: dt.datetime) -> x509.Certificate:
    name = _name(ROOT_NAME, "Partycard TEST Root CA")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    b = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # CSCA: key used to sign for 5 years, certificate valid 15 (5 + 10-year document life).
        .not_valid_before(now).not_valid_after(_years(now, 15))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.PrivateKeyUsagePeriod(now, _years(now, 5)), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .add_extension(_crl_dp(), critical=False)
    )
    return _sign_builder(b, key)


def _crl_dp() -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_URL)], None, None, None)]
    )


def _signer_cert(key: SigningKey, issuer: str, root: x509.Certificate, root_key: SigningKey,
                 now: dt.datetime) -> x509.Certificate:
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    b = (
        x509.CertificateBuilder().subject_name(_name(issuer, f"{issuer} Document Signer 01"))
        .issuer_name(root.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Document signer: signs for 3 months, certificate valid 10 years + 3 months (9303-12 §7.1).
        .not_valid_before(now).not_valid_after(_years(now, 10, 3))
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.PrivateKeyUsagePeriod(now, now + dt.timedelta(days=92)), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_crl_dp(), critical=False)
    )
    return _sign_builder(b, root_key)


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _key_pem(key: SigningKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_crl(pki_dir: Path, root: tuple[x509.Certificate, SigningKey], revoked: list[int],
               number: int, now: dt.datetime) -> None:
    root_cert, root_key = root
    ski = root_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    b = (
        x509.CertificateRevocationListBuilder().issuer_name(root_cert.subject)
        .last_update(now).next_update(now + dt.timedelta(days=90))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    )
    for serial in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
    if isinstance(root_key, rsa.RSAPrivateKey):
        crl = b.sign(root_key, hashes.SHA256(), rsa_padding=pss_padding())
    else:
        crl = b.sign(root_key, _hash_for(root_key))
    _write(pki_dir / "root-ca.crl.pem", crl.public_bytes(serialization.Encoding.PEM))


def init_pki(directory: str | Path, *, now: dt.datetime, algorithm: str = "ecdsa-p256",
             signers: tuple[tuple[str, str], ...] = DEFAULT_SIGNERS) -> PKIPaths:
    """Create a root CA, one document signer per ``signers`` entry and an empty CRL in ``directory``."""
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown PKI algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}")
    if now.tzinfo is None:
        raise ConfigError("init_pki needs a timezone-aware 'now'")
    pki_dir = Path(directory)
    try:
        pki_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the PKI directory {pki_dir}: {exc}") from exc
    if (pki_dir / "pki.json").exists():
        raise ConfigError(f"{pki_dir} already holds a PKI (pki.json exists); refusing to overwrite it")
    root_key = _new_key(algorithm, root=True)
    root = _root_cert(root_key, now)
    _write(pki_dir / "root-ca.key.pem", _key_pem(root_key), secret=True)
    _write(pki_dir / "root-ca.pem", _cert_pem(root))
    index_signers = []
    for short, issuer in signers:
        key = _new_key(algorithm, root=False)
        cert = _signer_cert(key, issuer, root, root_key, now)
        _write(pki_dir / f"ds-{short}.key.pem", _key_pem(key), secret=True)
        _write(pki_dir / f"ds-{short}.pem", _cert_pem(cert))
        index_signers.append({"name": short, "issuer": issuer, "cert": f"ds-{short}.pem",
                              "key": f"ds-{short}.key.pem", "serial": cert.serial_number})
    _write_crl(pki_dir, (root, root_key), [], 1, now)
    index = {"format": PKI_FORMAT, "version": PKI_VERSION, "algorithm": algorithm,
             "root": {"cert": "root-ca.pem", "key": "root-ca.key.pem"}, "crl": "root-ca.crl.pem",
             "crl_number": 1, "revoked": [], "signers": index_signers}
    _write(pki_dir / "pki.json", json.dumps(index, ensure_ascii=False, indent=2).encode("utf-8"))
    return load_pki(pki_dir)


def _index(pki_dir: Path) -> dict[str, object]:
    try:
        index = json.loads((pki_dir / "pki.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{pki_dir} is not a partycard PKI directory: {exc}") from exc
    expected = (PKI_FORMAT, PKI_VERSION)
    if not isinstance(index, dict) or (index.get("format"), index.get("version")) != expected:
        raise ConfigError(f"{pki_dir}/pki.json is not a version-{PKI_VERSION} {PKI_FORMAT} index")
    return index


def load_pki(directory: str | Path) -> PKIPaths:
    """The paths of an existing PKI directory (made by ``init_pki``)."""
    pki_dir = Path(directory)
    index = _index(pki_dir)
    try:
        root = index["root"]
        signer_list = index["signers"]
        if not isinstance(root, dict) or not isinstance(signer_list, list):
            raise TypeError("root must be an object and signers a list")
        signers = {
            s["name"]: SignerPaths(s["name"], s["issuer"], pki_dir / s["cert"], pki_dir / s["key"])
            for s in signer_list
        }
        return PKIPaths(pki_dir, str(index["algorithm"]), pki_dir / root["cert"], pki_dir / root["key"],
                        pki_dir / str(index["crl"]), signers)
    except (KeyError, TypeError, AssertionError) as exc:
        raise ConfigError(f"{pki_dir}/pki.json is incomplete: {exc}") from exc


def load_signer(pki: PKIPaths, name: str | None = None) -> Signer:
    """Load a document signer's certificate and private key."""
    paths = pki.signer(name)
    try:
        cert = x509.load_pem_x509_certificate(paths.cert.read_bytes())
        key = serialization.load_pem_private_key(paths.key.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load document signer {paths.name}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ConfigError(f"document signer {paths.name} has an unsupported key type")
    return Signer(paths.name, paths.issuer, cert, key)


def revoke_signer(pki: PKIPaths, name: str, *, now: dt.datetime) -> None:
    """Put a document signer's certificate on the CRL (a new CRL with the next CRL number)."""
    signer = load_signer(pki, name)
    index = _index(pki.directory)
    revoked = [int(s) for s in index.get("revoked", []) or []]  # type: ignore[attr-defined]
    if signer.cert.serial_number not in revoked:
        revoked.append(signer.cert.serial_number)
    number = int(index.get("crl_number", 1)) + 1  # type: ignore[call-overload]
    root = x509.load_pem_x509_certificate(pki.root_cert.read_bytes())
    root_key = serialization.load_pem_private_key(pki.root_key.read_bytes(), password=None)
    if not isinstance(root_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ConfigError("root CA key has an unsupported type")
    _write_crl(pki.directory, (root, root_key), revoked, number, now)
    index["revoked"] = revoked
    index["crl_number"] = number
    _write(pki.directory / "pki.json", json.dumps(index, ensure_ascii=False, indent=2).encode("utf-8"))
