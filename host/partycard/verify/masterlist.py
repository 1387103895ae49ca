"""Verify layer: ICAO CSCA master lists (9303-12 §9); must not decide which CSCAs to trust.

Must not decide which CSCAs to trust beyond "this file's signature is intact": a master list is
trusted because the operator placed it in the trust configuration, like a PEM bundle. We verify its
CMS signature and that the master-list signer was issued by a CSCA inside the list (9303-12 §9.1).
"""

from __future__ import annotations

from asn1crypto import core, x509

from partycard.errors import SignatureInvalid, VerificationError
from partycard.verify.cms import verify_signed_data
from partycard.verify.policy import AlgorithmPolicy
from partycard.verify.signatures import load_public_key, scheme_from_algorithm, verify_signature

ID_ICAO_CSCA_MASTER_LIST = "2.23.136.1.1.2"
#: Master lists in circulation are signed with SHA-1..SHA-512 and RSA-1024 and up; this only
#: guards the bundle's integrity, each CSCA is then judged by the path policy.
_ML_ALGORITHMS = AlgorithmPolicy(sha1_uses=frozenset({"certificate", "sod_signature"}), min_rsa_bits=1024)


class CertificateSet(core.SetOf):  # type: ignore[misc]
    _child_spec = x509.Certificate


class CscaMasterList(core.Sequence):  # type: ignore[misc]
    """CscaMasterList ::= SEQUENCE { version INTEGER (v0), certList SET OF Certificate }."""

    _fields = [("version", core.Integer), ("cert_list", CertificateSet)]  # noqa: RUF012 - asn1crypto schema


def parse_master_list(der: bytes) -> list[x509.Certificate]:
    """The CSCA certificates of a signed master list; raise VerificationError("ml.*") if damaged."""
    signed = verify_signed_data(
        der,
        prefix="ml",
        content_types=(ID_ICAO_CSCA_MASTER_LIST,),
        algorithms=_ML_ALGORITHMS,
        use="sod_signature",
    )
    try:
        body = CscaMasterList.load(signed.content)
        body.native  # noqa: B018 - full parse
        certs = list(body["cert_list"])
    except (ValueError, TypeError, KeyError) as exc:
        raise VerificationError("ml.malformed", f"CscaMasterList: {exc}") from exc
    if body["version"].native != 0:
        raise VerificationError("ml.malformed", "CscaMasterList version is not v0")
    signer = signed.signer
    for csca in certs:
        if csca.subject != signer.issuer:
            continue
        try:
            key = load_public_key(csca.public_key)
            scheme = scheme_from_algorithm(signer["signature_algorithm"])
            verify_signature(key, scheme, signer["tbs_certificate"].dump(), signer["signature_value"].native)
        except (SignatureInvalid, VerificationError):
            continue
        return certs
    raise VerificationError(
        "ml.signer_not_trusted", "master-list signer was not issued by a CSCA in the list"
    )
