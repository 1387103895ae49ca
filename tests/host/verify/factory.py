"""A small test PKI and card builder: CSCA → DS → EF.SOD, CRLs, master lists, AA/CA data groups.

Built directly from the specs with cryptography (keys, signing) and asn1crypto (encoding), so the
crafted cards do not depend on the code under test: ICAO 9303-10 §4.6.2 (EF.SOD), 9303-12 §7
(certificate profiles) and §9 (master list), RFC 5652 (CMS), RFC 5280 (certificates, CRLs),
ISO/IEC 9796-2 scheme 1 and BSI TR-03111 plain ECDSA (9303-11 §6.1, Active Authentication).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import ecdsa
from asn1crypto import algos, cms, core, crl, keys, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
_HASH = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_CURVES = {
    "p256": ec.SECP256R1,
    "p384": ec.SECP384R1,
    "bp256": ec.BrainpoolP256R1,
    "bp384": ec.BrainpoolP384R1,
    "bp512": ec.BrainpoolP512R1,
}
_ECDSA_CURVES = {
    "p256": ecdsa.NIST256p,
    "p384": ecdsa.NIST384p,
    "bp256": ecdsa.BRAINPOOLP256r1,
    "bp384": ecdsa.BRAINPOOLP384r1,
    "bp512": ecdsa.BRAINPOOLP512r1,
}
PLAIN_ECDSA_OID = {
    "sha1": "0.4.0.127.0.7.1.1.4.1.1",
    "sha224": "0.4.0.127.0.7.1.1.4.1.2",
    "sha256": "0.4.0.127.0.7.1.1.4.1.3",
    "sha384": "0.4.0.127.0.7.1.1.4.1.4",
    "sha512": "0.4.0.127.0.7.1.1.4.1.5",
}
ISO10118_ID = {"sha1": 0x33, "sha224": 0x38, "sha256": 0x34, "sha384": 0x36, "sha512": 0x35}
_serial = iter(range(0x1000, 0x100000))

Key = Any  # a cryptography private key (RSA or EC)


def new_key(kind: str) -> Key:
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    return ec.generate_private_key(_CURVES[kind]())


def _kind_of(key: Key) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return f"rsa{key.key_size}"
    return next(k for k, c in _CURVES.items() if isinstance(key.curve, c))


def spki(key: Key, *, explicit: bool = False) -> keys.PublicKeyInfo:
    """SubjectPublicKeyInfo; ``explicit`` writes the full ECParameters (ICAO 9303-12 §4.1.6.3)."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    info = keys.PublicKeyInfo.load(der)
    if not explicit or isinstance(key, rsa.RSAPrivateKey):
        return info
    c = _ECDSA_CURVES[_kind_of(key)]
    size = c.baselen
    g = b"\x04" + c.generator.x().to_bytes(size, "big") + c.generator.y().to_bytes(size, "big")
    specified = keys.SpecifiedECDomain(
        {
            "version": "ecdpVer1",
            "field_id": {"field_type": "prime_field", "parameters": c.curve.p()},
            "curve": {
                "a": (c.curve.a() % c.curve.p()).to_bytes(size, "big"),
                "b": c.curve.b().to_bytes(size, "big"),
            },
            "base": g,
            "order": c.order,
            "cofactor": 1,
        }
    )
    return keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": keys.ECDomainParameters(name="specified", value=specified),
            },
            "public_key": info["public_key"].native,
        }
    )


def sig_alg(key: Key, hash_name: str = "sha256", *, pss: bool = False) -> algos.SignedDigestAlgorithm:
    if isinstance(key, rsa.RSAPrivateKey):
        if pss:
            return algos.SignedDigestAlgorithm(
                {
                    "algorithm": "rsassa_pss",
                    "parameters": {
                        "hash_algorithm": {"algorithm": hash_name},
                        "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": hash_name}},
                        "salt_length": _HASH[hash_name].digest_size,
                        "trailer_field": "trailer_field_bc",
                    },
                }
            )
        return algos.SignedDigestAlgorithm({"algorithm": f"{hash_name}_rsa", "parameters": core.Null()})
    return algos.SignedDigestAlgorithm({"algorithm": f"{hash_name}_ecdsa"})


def sign(key: Key, data: bytes, hash_name: str = "sha256", *, pss: bool = False) -> bytes:
    h = _HASH[hash_name]()
    if isinstance(key, rsa.RSAPrivateKey):
        if pss:
            return bytes(key.sign(data, padding.PSS(padding.MGF1(_HASH[hash_name]()), h.digest_size), h))
        return bytes(key.sign(data, padding.PKCS1v15(), h))
    return bytes(key.sign(data, ec.ECDSA(h)))


def name(cn: str, org: str = "Central Organization Commission") -> x509.Name:
    return x509.Name.build({"country_name": "VN", "organization_name": org, "common_name": cn})


@dataclass
class Party:
    """A key and its certificate."""

    key: Key
    cert: x509.Certificate
    explicit: bool = False

    @property
    def ski(self) -> bytes:
        return bytes(self.cert.key_identifier)


def _time(t: datetime) -> x509.Time:
    return x509.Time(name="utc_time" if t.year < 2050 else "general_time", value=t)


def make_cert(
    subject: x509.Name,
    key: Key,
    *,
    issuer: Party | None = None,
    ca: bool,
    not_before: datetime = datetime(2025, 1, 1, tzinfo=UTC),
    not_after: datetime = datetime(2040, 1, 1, tzinfo=UTC),
    key_usage: set[str] | None = None,
    extra_extensions: list[dict[str, Any]] | None = None,
    explicit: bool = False,
    hash_name: str = "sha256",
    pss: bool = False,
    signing_key: Key | None = None,
    serial: int | None = None,
) -> Party:
    """An X.509 v3 certificate per 9303-12 §7.1.1 (CSCA when ``ca``; otherwise DS/ML signer)."""
    pub = spki(key, explicit=explicit)
    ski = hashlib.sha1(pub["public_key"].dump()).digest()  # noqa: S324 - RFC 5280 §4.2.1.2 method 1
    signer_key = signing_key or (issuer.key if issuer else key)
    usage = key_usage if key_usage is not None else ({"key_cert_sign", "crl_sign"} if ca else {"digital_signature"})
    exts: list[dict[str, Any]] = [
        {"extn_id": "key_usage", "critical": True, "extn_value": usage},
        {"extn_id": "key_identifier", "critical": False, "extn_value": ski},
        {
            "extn_id": "authority_key_identifier",
            "critical": False,
            "extn_value": {"key_identifier": issuer.ski if issuer else ski},
        },
    ]
    if ca:
        exts.append(
            {
                "extn_id": "basic_constraints",
                "critical": True,
                "extn_value": {"ca": True, "path_len_constraint": 1},
            }
        )
    exts += extra_extensions or []
    alg = sig_alg(signer_key, hash_name, pss=pss)
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial if serial is not None else next(_serial),
            "signature": alg,
            "issuer": issuer.cert.subject if issuer else subject,
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": subject,
            "subject_public_key_info": pub,
            "extensions": exts,
        }
    )
    sig = sign(signer_key, tbs.dump(), hash_name, pss=pss)
    cert = x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": alg, "signature_value": sig})
    return Party(key, x509.Certificate.load(cert.dump()), explicit)


def make_crl(
    issuer: Party,
    *,
    revoked: tuple[int, ...] = (),
    this_update: datetime = AT - timedelta(days=1),
    next_update: datetime | None = AT + timedelta(days=6),
    signing_key: Key | None = None,
    revocation_date: datetime | None = None,
    entries: list[dict[str, Any]] | None = None,
) -> crl.CertificateList:
    """A v2 CRL (RFC 5280 §5) from ``issuer``; ``next_update`` None leaves it out (§5.1.2.5),
    ``entries`` adds revoked-certificate entries as given (entry extensions included)."""
    key = signing_key or issuer.key
    alg = sig_alg(key)
    listed = [
        {"user_certificate": s, "revocation_date": _time(revocation_date or this_update - timedelta(days=1))}
        for s in revoked
    ] + (entries or [])
    body: dict[str, Any] = {
        "version": "v2",
        "signature": alg,
        "issuer": issuer.cert.subject,
        "this_update": _time(this_update),
        "revoked_certificates": listed or None,
        "crl_extensions": [
            {"extn_id": "crl_number", "critical": False, "extn_value": next(_serial)},
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {"key_identifier": issuer.ski},
            },
        ],
    }
    if next_update is not None:
        body["next_update"] = _time(next_update)
    tbs = crl.TbsCertList(body)
    out = crl.CertificateList({"tbs_cert_list": tbs, "signature_algorithm": alg, "signature": sign(key, tbs.dump())})
    return crl.CertificateList.load(out.dump())


# --- LDS ---------------------------------------------------------------------------------------


def tlv(tag: bytes, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = b"\x81" + bytes([n])
    else:
        length = b"\x82" + n.to_bytes(2, "big")
    return tag + length + value


def _check_digit(field: str) -> str:
    """ICAO 9303-3 §4.9: weights 7, 3, 1; digits as is, A-Z = 10..35, '<' = 0."""
    values = [int(c) if c.isdigit() else 0 if c == "<" else ord(c) - 55 for c in field]
    return str(sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10)


def dg1(document_number: str = "P12345678") -> bytes:
    """DG1 with a TD1 MRZ (9303-10 §4.7.1; 9303-5 §4.2): 3 lines of 30 characters, synthetic data."""
    doc = f"{document_number[:9]:<9}"
    line1 = f"IDVNM{doc}{_check_digit(doc)}" + "<" * 15
    birth, expiry = "700101", "300101"
    line2 = f"{birth}{_check_digit(birth)}M{expiry}{_check_digit(expiry)}VNM" + "<" * 11
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line2 += _check_digit(composite)
    line3 = f"{'NGUYEN<<VAN<THU':<30}".replace(" ", "<")
    return tlv(b"\x61", tlv(b"\x5f\x1f", (line1 + line2 + line3).encode("ascii")))


def dg13(card_number: str) -> bytes:
    """DG13 party member record per the provisional card profile: tag 6D holding primitive TLVs
    80..8B (version, card number, member id, name, dates, ...). Synthetic values only."""
    fields = [
        (0x80, b"\x01"),
        (0x81, card_number.encode("ascii")),
        (0x82, b"000123456"),
        (0x83, "Nguyễn Văn Thử".encode()),
        (0x84, b"19700101"),
        (0x85, b"M"),
        (0x86, b"001070000001"),
        (0x87, b"19950203"),
        (0x88, b"19960203"),
        (0x89, "Chi bộ Thử nghiệm".encode()),
        (0x8A, "Ban Tổ chức Trung ương".encode()),
        (0x8B, b"20250818"),
    ]
    return tlv(b"\x6d", b"".join(tlv(bytes([t]), v) for t, v in fields))


def dg2(size: int = 600) -> bytes:
    return tlv(b"\x75", tlv(b"\x7f\x61", os.urandom(size)))


def dg15(key: Key) -> bytes:
    """DG15 = 0x6F ‖ SubjectPublicKeyInfo of the AA key (9303-10 §4.7.15)."""
    return tlv(b"\x6f", spki(key).dump())


def dg14(aa_hash: str | None = "sha256") -> bytes:
    """DG14 SecurityInfos (9303-11 §9.2): ChipAuthenticationInfo, and ActiveAuthenticationInfo naming
    the ECDSA-AA algorithm when ``aa_hash`` is given."""
    ca_info = tlv(b"\x30", core.ObjectIdentifier("0.4.0.127.0.7.2.2.3.2.2").dump() + core.Integer(1).dump())
    infos = [ca_info]
    if aa_hash:
        infos.append(
            tlv(
                b"\x30",
                core.ObjectIdentifier("2.23.136.1.1.5").dump()
                + core.Integer(1).dump()
                + core.ObjectIdentifier(PLAIN_ECDSA_OID[aa_hash]).dump(),
            )
        )
    return tlv(b"\x6e", tlv(b"\x31", b"".join(sorted(infos))))


class _DGHash(core.Sequence):
    _fields = [("number", core.Integer), ("value", core.OctetString)]  # noqa: RUF012


class _DGHashes(core.SequenceOf):
    _child_spec = _DGHash


class _LSO(core.Sequence):
    _fields = [("version", core.Integer), ("hash_algorithm", algos.DigestAlgorithm), ("hashes", _DGHashes)]  # noqa: RUF012


@dataclass
class SodOptions:
    hash_name: str = "sha256"  # LDS hash and CMS digest
    pss: bool = False
    embed: bool = True
    sid: str = "issuer_serial"  # or "ski"
    content_oid: str = "2.23.136.1.1.1"
    hash_overrides: dict[int, bytes] = field(default_factory=dict)  # DG number -> hash to write instead
    extra_hashes: dict[int, bytes] = field(default_factory=dict)  # hashes for groups not in the card
    omit: tuple[int, ...] = ()  # groups present on the card but not hashed
    bad_message_digest: bool = False
    bad_content_type: bool = False
    sign_other_content: bool = False
    plain_ecdsa: bool = False  # SignerInfo with ecdsa-plain-SHA* (BSI TR-03111 §5.2.1) instead of DER


def make_sod(groups: dict[int, bytes], ds: Party, opt: SodOptions | None = None) -> bytes:
    """EF.SOD = 0x77 ‖ ContentInfo(SignedData(LDSSecurityObject)) (9303-10 §4.6.2)."""
    o = opt or SodOptions()
    entries = {n: hashlib.new(o.hash_name, d).digest() for n, d in groups.items() if n not in o.omit}
    entries |= o.hash_overrides | o.extra_hashes
    lso = _LSO(
        {
            "version": 0,
            "hash_algorithm": {"algorithm": o.hash_name},
            "hashes": [{"number": n, "value": v} for n, v in sorted(entries.items())],
        }
    ).dump()
    md = hashlib.new(o.hash_name, lso + (b"x" if o.bad_message_digest else b"")).digest()
    ctype = "1.2.840.113549.1.7.1" if o.bad_content_type else o.content_oid
    attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": [ctype]},
            {"type": "message_digest", "values": [md]},
        ]
    )
    to_sign = attrs.dump()
    if o.sign_other_content:
        other = cms.CMSAttributes(
            [
                {"type": "content_type", "values": [ctype]},
                {"type": "message_digest", "values": [hashlib.new(o.hash_name, b"other").digest()]},
            ]
        )
        to_sign = other.dump()
    signature = sign(ds.key, to_sign, o.hash_name, pss=o.pss)
    alg = sig_alg(ds.key, o.hash_name, pss=o.pss)
    if o.plain_ecdsa:
        r, s = decode_dss_signature(signature)
        size = (ds.key.curve.key_size + 7) // 8
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        alg = algos.SignedDigestAlgorithm({"algorithm": PLAIN_ECDSA_OID[o.hash_name]})
    if o.sid == "ski":
        sid = cms.SignerIdentifier(name="subject_key_identifier", value=ds.ski)
    else:
        sid = cms.SignerIdentifier(
            name="issuer_and_serial_number",
            value={"issuer": ds.cert.issuer, "serial_number": ds.cert.serial_number},
        )
    si = cms.SignerInfo(
        {
            "version": "v3" if o.sid == "ski" else "v1",
            "sid": sid,
            "digest_algorithm": {"algorithm": o.hash_name},
            "signed_attrs": attrs,
            "signature_algorithm": alg,
            "signature": signature,
        }
    )
    sd = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": o.hash_name}],
            "encap_content_info": {"content_type": o.content_oid, "content": lso},
            "certificates": [ds.cert] if o.embed else None,
            "signer_infos": [si],
        }
    )
    return tlv(b"\x77", cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())


def make_master_list(cscas: list[x509.Certificate], signer: Party) -> bytes:
    """A CSCA master list (9303-12 §9): SignedData over CscaMasterList {v0, SET OF Certificate}."""
    body = tlv(b"\x30", core.Integer(0).dump() + tlv(b"\x31", b"".join(sorted(c.dump() for c in cscas))))
    attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["2.23.136.1.1.2"]},
            {"type": "message_digest", "values": [hashlib.sha256(body).digest()]},
        ]
    )
    si = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": signer.cert.issuer, "serial_number": signer.cert.serial_number},
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": sig_alg(signer.key),
            "signature": sign(signer.key, attrs.dump()),
        }
    )
    sd = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "2.23.136.1.1.2", "content": body},
            "certificates": [signer.cert],
            "signer_infos": [si],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())


# --- Active Authentication (the chip's side) ----------------------------------------------------


def aa_sign_ecdsa(key: Key, challenge: bytes, hash_name: str = "sha256") -> bytes:
    """Plain r‖s (BSI TR-03111 §5.2.1) over the challenge, as INTERNAL AUTHENTICATE returns it."""
    r, s = decode_dss_signature(key.sign(challenge, ec.ECDSA(_HASH[hash_name]())))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def aa_sign_rsa(key: Key, challenge: bytes, hash_name: str = "sha1", *, complement: bool = False) -> bytes:
    """ISO/IEC 9796-2 scheme 1, partial recovery: F = 6A ‖ M1 ‖ H(M1 ‖ challenge) ‖ trailer."""
    k = (key.key_size + 7) // 8
    trailer = b"\xbc" if hash_name == "sha1" else bytes([ISO10118_ID[hash_name], 0xCC])
    hlen = _HASH[hash_name].digest_size
    m1 = os.urandom(k - 1 - hlen - len(trailer))
    f = b"\x6a" + m1 + hashlib.new(hash_name, m1 + challenge).digest() + trailer
    priv = key.private_numbers()
    n = priv.public_numbers.n
    s = pow(int.from_bytes(f, "big"), priv.d, n)
    if complement:
        s = min(s, n - s)
    return s.to_bytes(k, "big")


# --- a whole card ------------------------------------------------------------------------------


@dataclass
class Card:
    files: dict[str, bytes]
    card_number: str
    aa_key: Key | None = None
    aa_hash: str = "sha256"


def build_card(
    ds: Party,
    *,
    card_number: str = "PC-0000001",
    with_dg2: bool = True,
    aa: str | None = "p256",
    ca: bool = True,
    aa_hash: str = "sha256",
    sod: SodOptions | None = None,
    extra_files: dict[str, bytes] | None = None,
) -> Card:
    groups: dict[int, bytes] = {1: dg1(), 13: dg13(card_number)}
    if with_dg2:
        groups[2] = dg2()
    aa_key = new_key(aa) if aa else None
    if aa_key is not None:
        groups[15] = dg15(aa_key)
    if ca or (aa_key is not None and not isinstance(aa_key, rsa.RSAPrivateKey)):
        groups[14] = dg14(aa_hash if aa_key is not None and not isinstance(aa_key, rsa.RSAPrivateKey) else None)
    files = {f"DG{n}": d for n, d in groups.items()}
    files["EF.SOD"] = make_sod(groups, ds, sod)
    files |= extra_files or {}
    return Card(files, card_number, aa_key, aa_hash)


def aa_response(card: Card, challenge: bytes, *, key: Key | None = None, complement: bool = False) -> bytes:
    k = key or card.aa_key
    if isinstance(k, rsa.RSAPrivateKey):
        return aa_sign_rsa(k, challenge, card.aa_hash, complement=complement)
    return aa_sign_ecdsa(k, challenge, card.aa_hash)


@dataclass
class Pki:
    csca: Party
    ds: Party
    crl: crl.CertificateList

    def with_ds(self, ds: Party) -> Pki:
        return replace(self, ds=ds)


def build_pki(
    csca_kind: str = "bp256",
    ds_kind: str = "p256",
    *,
    explicit: bool = True,
    org: str = "Central Organization Commission",
) -> Pki:
    csca = make_cert(name("CSCA Test", org), new_key(csca_kind), ca=True, explicit=explicit)
    ds = make_ds(csca, ds_kind, org=org)
    return Pki(csca, ds, make_crl(csca))


def make_ds(
    csca: Party,
    kind: str = "p256",
    *,
    org: str = "Central Organization Commission",
    explicit: bool = False,
    **kw: Any,
) -> Party:
    return make_cert(
        name("Document Signer", org),
        new_key(kind),
        issuer=csca,
        ca=False,
        not_before=kw.pop("not_before", datetime(2025, 6, 1, tzinfo=UTC)),
        not_after=kw.pop("not_after", datetime(2036, 6, 1, tzinfo=UTC)),
        explicit=explicit,
        **kw,
    )
