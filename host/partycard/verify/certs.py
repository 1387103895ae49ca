"""Verify layer: Document Signer certificate profile (9303-12 §7.1.1); must not build paths.

Must not build paths (trust.py does). pyhanko-certvalidator leaves critical extensions of the
end-entity certificate to the application, so the DS-specific rules live here: validity at the
verification time, keyUsage = digitalSignature, no unknown critical extension, acceptable key.
"""

from __future__ import annotations

from datetime import datetime

from asn1crypto import x509

from partycard.errors import CertificateInvalid, VerificationError
from partycard.verify.cms import certificate_key
from partycard.verify.policy import AlgorithmPolicy

#: Extensions a DS certificate may carry, critical or not (9303-12 §7.1.1 table; RFC 5280 §4.2.1).
KNOWN_EXTENSIONS = frozenset(
    {
        "authority_key_identifier",
        "key_identifier",
        "key_usage",
        "private_key_usage_period",
        "certificate_policies",
        "subject_alt_name",
        "issuer_alt_name",
        "basic_constraints",
        "crl_distribution_points",
        "extended_key_usage",
        "authority_information_access",
        "2.23.136.1.1.6.2",  # ICAO document type list (9303-12 §7.1.1.3)
    }
)


def organisation(cert: x509.Certificate) -> str | None:
    """The subject's O (or CN when there is no O): how the verdict names the issuing body."""
    subject = cert.subject.native
    value = subject.get("organization_name") or subject.get("common_name")
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


def check_ds_certificate(cert: x509.Certificate, *, at: datetime, algorithms: AlgorithmPolicy) -> None:
    """Raise CertificateInvalid with a ds.* reason when the DS certificate breaks its profile."""
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    if at < not_before:
        raise CertificateInvalid("ds.not_yet_valid", f"DS certificate valid from {not_before:%Y-%m-%d}")
    if at > not_after:
        raise CertificateInvalid("ds.expired", f"DS certificate expired {not_after:%Y-%m-%d}")
    for ext in cert["tbs_certificate"]["extensions"] or []:
        name = ext["extn_id"].native
        if ext["critical"].native and name not in KNOWN_EXTENSIONS:
            raise CertificateInvalid("ds.unknown_critical_extension", f"critical extension {ext['extn_id'].dotted}")
    usage = cert.key_usage_value
    if usage is None or "digital_signature" not in usage.native:
        raise CertificateInvalid("ds.key_usage", "keyUsage lacks digitalSignature")
    if "key_cert_sign" in usage.native or (cert.ca is True):
        raise CertificateInvalid("ds.key_usage", "a CA certificate is not a document signer")
    try:
        algorithms.check_key(certificate_key(cert), "sod_signature")
    except VerificationError as exc:
        raise CertificateInvalid("alg.disallowed", str(exc)) from exc
