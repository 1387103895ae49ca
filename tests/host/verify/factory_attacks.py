"""Attack builders on top of factory.py: hand-assembled EF.SOD (RFC 5652 §5; ICAO 9303-10 §4.6.2),
CRLs with chosen extensions (RFC 5280 §5), and ISO/IEC 9796-2 representatives chosen by the test.

Everything is built from the specs with asn1crypto and cryptography, like factory.py, so the crafted
cards do not depend on the code under test. Each builder does one wrong thing on purpose.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import cms, core, crl, x509

from . import factory as F

LDS_OID = "2.23.136.1.1.1"
ID_DATA = "1.2.840.113549.1.7.1"


def groups(card_number: str = "PC-0000001", aa_kind: str | None = "p256") -> tuple[dict[int, bytes], Any]:
    """The data groups of a genuine party card (DG1, DG13, DG14, DG15) and its AA private key."""
    aa_key = F.new_key(aa_kind) if aa_kind else None
    out: dict[int, bytes] = {1: F.dg1(), 13: F.dg13(card_number), 14: F.dg14("sha256")}
    if aa_key is not None:
        out[15] = F.dg15(aa_key)
    return out, aa_key


def lso(
    entries: list[tuple[int, bytes]], hash_name: str = "sha256", *, algorithm: str | None = None
) -> bytes:
    """LDSSecurityObject v0 with the entries as given (duplicates and odd numbers allowed)."""
    return bytes(
        F._LSO(
            {
                "version": 0,
                "hash_algorithm": {"algorithm": algorithm or hash_name},
                "hashes": [{"number": n, "value": v} for n, v in entries],
            }
        ).dump()
    )


def hashes_of(dgs: dict[int, bytes], hash_name: str = "sha256") -> list[tuple[int, bytes]]:
    return [(n, hashlib.new(hash_name, d).digest()) for n, d in sorted(dgs.items())]


def attribute(kind: str, values: list[Any]) -> dict[str, Any]:
    return {"type": kind, "values": values}


def correct_attrs(content: bytes, ctype: str = LDS_OID, hash_name: str = "sha256") -> list[dict[str, Any]]:
    return [
        attribute("content_type", [ctype]),
        attribute("message_digest", [hashlib.new(hash_name, content).digest()]),
    ]


def der_set_of(attrs: list[dict[str, Any]]) -> bytes:
    """The DER encoding of SignedAttributes (X.690 §11.6: SET OF elements sorted by their encoding)."""
    encoded = sorted(cms.CMSAttribute(a).dump() for a in attrs)
    return F.tlv(b"\x31", b"".join(encoded))


@dataclass
class Signer:
    """One SignerInfo to assemble. ``signed`` are the attribute encodings placed in the SignerInfo;
    ``to_sign`` what the key actually signs (default: the DER of ``attrs``, or ``content`` when
    ``attrs`` is None, i.e. no signed attributes)."""

    party: F.Party
    attrs: list[dict[str, Any]] | None
    hash_name: str = "sha256"
    sid: str = "issuer_serial"  # or "ski"
    sid_of: F.Party | None = None  # identify another certificate than the signing one
    key: Any = None  # sign with another key than party's
    wire_attrs: bytes | None = None  # SET OF bytes to ship instead of the DER (BER re-encoding)
    to_sign: bytes | None = None

    def build(self, content: bytes) -> cms.SignerInfo:
        key = self.key or self.party.key
        who = self.sid_of or self.party
        if self.sid == "ski":
            sid = cms.SignerIdentifier(name="subject_key_identifier", value=who.ski)
        else:
            sid = cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": who.cert.issuer, "serial_number": who.cert.serial_number},
            )
        fields: dict[str, Any] = {
            "version": "v3" if self.sid == "ski" else "v1",
            "sid": sid,
            "digest_algorithm": {"algorithm": self.hash_name},
            "signature_algorithm": F.sig_alg(key, self.hash_name),
        }
        if self.attrs is None:
            message = self.to_sign if self.to_sign is not None else content
        else:
            der = der_set_of(self.attrs)
            message = self.to_sign if self.to_sign is not None else der
            shipped = self.wire_attrs if self.wire_attrs is not None else der
            fields["signed_attrs"] = cms.CMSAttributes.load(shipped)
        fields["signature"] = F.sign(key, message, self.hash_name)
        return cms.SignerInfo(fields)


@dataclass
class Sod:
    content: bytes
    signers: list[Signer]
    certificates: list[x509.Certificate] = field(default_factory=list)
    econtent_oid: str = LDS_OID
    detached: bool = False  # eContent left out (RFC 5652 §5.2: external content)

    def build(self) -> bytes:
        sd = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [{"algorithm": s.hash_name} for s in self.signers[:1]],
                "encap_content_info": {"content_type": self.econtent_oid}
                | ({} if self.detached else {"content": self.content}),
                "certificates": self.certificates or None,
                "signer_infos": [s.build(self.content) for s in self.signers],
            }
        )
        return F.tlv(b"\x77", cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())


def card(dgs: dict[int, bytes], sod: bytes, aa_key: Any, card_number: str = "PC-0000001") -> F.Card:
    files = {f"DG{n}": d for n, d in dgs.items()}
    files["EF.SOD"] = sod
    return F.Card(files, card_number, aa_key)


def crl_with(
    issuer: F.Party,
    *,
    crl_extensions: list[dict[str, Any]] = (),  # type: ignore[assignment]
    revoked: list[tuple[int, list[dict[str, Any]]]] = (),  # type: ignore[assignment]
    this_update: datetime = F.AT - timedelta(days=1),
    next_update: datetime | None = F.AT + timedelta(days=6),
) -> crl.CertificateList:
    """A v2 CRL from ``issuer`` with extra CRL extensions, entries with entry extensions, and the
    given times (``next_update`` None: the optional field left out, RFC 5280 §5.1.2.5)."""
    alg = F.sig_alg(issuer.key)
    times = {"this_update": F._time(this_update)}
    if next_update is not None:
        times["next_update"] = F._time(next_update)
    tbs = crl.TbsCertList(
        {
            "version": "v2",
            "signature": alg,
            "issuer": issuer.cert.subject,
            **times,
            "revoked_certificates": [
                {
                    "user_certificate": serial,
                    "revocation_date": F._time(this_update - timedelta(days=1)),
                    "crl_entry_extensions": exts or None,
                }
                for serial, exts in revoked
            ]
            or None,
            "crl_extensions": [
                {"extn_id": "crl_number", "critical": False, "extn_value": 99},
                {
                    "extn_id": "authority_key_identifier",
                    "critical": False,
                    "extn_value": {"key_identifier": issuer.ski},
                },
                *crl_extensions,
            ],
        }
    )
    out = crl.CertificateList(
        {"tbs_cert_list": tbs, "signature_algorithm": alg, "signature": F.sign(issuer.key, tbs.dump())}
    )
    return crl.CertificateList.load(out.dump())


def unknown_critical_extension() -> dict[str, Any]:
    return {"extn_id": "1.3.6.1.4.1.99999.7", "critical": True, "extn_value": core.OctetString(b"?").dump()}


def rsa_sign_representative(key: Any, representative: bytes) -> bytes:
    """The raw RSA signature (RSASP1, RFC 8017 §5.2.1) of a chosen ISO 9796-2 representative."""
    priv = key.private_numbers()
    n = priv.public_numbers.n
    k = (n.bit_length() + 7) // 8
    return pow(int.from_bytes(representative, "big"), priv.d, n).to_bytes(k, "big")
