"""Verify layer: CMS SignedData verification (RFC 5652); must not judge certificate trust.

Must not judge certificate trust; it finds the signer certificate, checks the signed attributes and
the signature, and reports the first failure as a reason code prefixed by the caller ("sod", "ml").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import cms, x509

from partycard.errors import SignatureInvalid, VerificationError
from partycard.verify.der import ASN1_ERRORS
from partycard.verify.memo import Memo
from partycard.verify.policy import AlgorithmPolicy, Use
from partycard.verify.signatures import (
    PublicKey,
    SignatureScheme,
    digest,
    hash_name,
    load_public_key,
    scheme_from_algorithm,
    verify_signature,
)

#: Looks up a signer certificate that the SignedData does not embed: (issuer, serial) or key id.
SignerLookup = Callable[[cms.SignerIdentifier], "x509.Certificate | None"]


@dataclass(frozen=True)
class SignedContent:
    """A SignedData whose signature verified: the content, its signer and the mechanism."""

    content_type: str  # dotted OID
    content: bytes
    signer: x509.Certificate
    signer_embedded: bool
    scheme: SignatureScheme
    certificates: tuple[x509.Certificate, ...]


#: What is derived from the DS certificate, its key and its issuer's name: every card a document
#: signer signed embeds the same bytes, and parsing them costs more than the SOD's own signature check.
CACHE_SIZE = 64
_certs: Memo[x509.Certificate] = Memo(CACHE_SIZE)
_names: Memo[None] = Memo(CACHE_SIZE)
_keys: Memo[PublicKey] = Memo(CACHE_SIZE)


def parsed_certificate(der: bytes) -> x509.Certificate:
    """The certificate encoded in ``der``, parsed in full (damage raises one of ASN1_ERRORS here,
    not later); the same object for the same bytes while it stays in the cache."""

    def parse() -> x509.Certificate:
        cert = x509.Certificate.load(der)
        cert.native  # noqa: B018 - parse fully now
        return cert

    return _certs.get(der, parse)


def _parse_name(name: x509.Name) -> None:
    """Parse ``name`` in full, once per encoding (a SignerInfo names its DS certificate's issuer)."""

    def parse() -> None:
        name.native  # noqa: B018 - parse fully now

    _names.get(name.dump(), parse)


def parse_signed_data(der: bytes, prefix: str) -> tuple[cms.SignedData, tuple[x509.Certificate, ...]]:
    """The SignedData in ``der``, parsed in full so that damage is reported here as malformed, and
    its embedded X.509 certificates (through ``parsed_certificate``)."""
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise VerificationError(f"{prefix}.malformed", "ContentInfo is not signed-data")
        signed = info["content"]
        for field in cms.SignedData._fields:
            if field[0] not in ("certificates", "signer_infos"):
                signed[field[0]].native  # noqa: B018 - parse fully now
        for si in signed["signer_infos"]:
            for field in cms.SignerInfo._fields:
                value = si[field[0]]
                if field[0] == "sid" and value.name == "issuer_and_serial_number":
                    _parse_name(value.chosen["issuer"])
                    value.chosen["serial_number"].native  # noqa: B018 - parse fully now
                else:
                    value.native  # noqa: B018 - parse fully now
        certs: list[x509.Certificate] = []
        for choice in signed["certificates"] or []:
            if choice.name == "certificate":
                certs.append(parsed_certificate(choice.chosen.dump()))
            else:
                choice.native  # noqa: B018 - other kinds are not used, but must parse
        return signed, tuple(certs)
    except ASN1_ERRORS as exc:
        raise VerificationError(f"{prefix}.malformed", f"not CMS SignedData: {exc}") from exc


def certificate_key(cert: x509.Certificate) -> PublicKey:
    """A certificate's public key, loaded once per key (a DS key is on every SOD of its batch, and
    mapping explicit EC parameters onto a named curve costs as much as hashing the SOD)."""
    spki = cert.public_key
    return _keys.get(spki.dump(), lambda: load_public_key(spki))


def _match(sid: cms.SignerIdentifier, cert: x509.Certificate) -> bool:
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        if cert.serial_number != sid.chosen["serial_number"].native:
            return False
        # Equal encodings are equal names; otherwise compare as RFC 5280 §7.1 says (slower).
        return cert.issuer.dump() == issuer.dump() or bool(cert.issuer == issuer)
    return bool(cert.key_identifier == sid.chosen.native)


def verify_signed_data(
    der: bytes,
    *,
    prefix: str,
    content_types: tuple[str, ...],
    algorithms: AlgorithmPolicy,
    use: Use,
    lookup: SignerLookup | None = None,
) -> SignedContent:
    """Verify one-signer SignedData (ICAO 9303-10 §4.6.2.2 allows exactly one SignerInfo)."""
    signed, certs = parse_signed_data(der, prefix)
    try:
        encap = signed["encap_content_info"]
        ctype = encap["content_type"].dotted
        content = encap["content"].native
        signers = list(signed["signer_infos"])
    except ASN1_ERRORS as exc:
        raise VerificationError(f"{prefix}.malformed", f"SignedData structure: {exc}") from exc
    if ctype not in content_types:
        raise VerificationError(f"{prefix}.content_type_unexpected", f"eContentType {ctype}")
    if not isinstance(content, bytes) or len(signers) != 1:
        raise VerificationError(f"{prefix}.malformed", "needs encapsulated content and exactly one signer")
    si = signers[0]
    sid = si["sid"]
    signer = next((c for c in certs if _match(sid, c)), None)
    embedded = signer is not None
    if signer is None and lookup is not None:
        signer = lookup(sid)
    if signer is None:
        raise VerificationError(f"{prefix}.signer_not_found", "signer certificate neither embedded nor in the store")
    digest_name = hash_name(si["digest_algorithm"]["algorithm"].native)
    algorithms.check_hash(digest_name, use)
    attrs = si["signed_attrs"]
    if not attrs:
        # 9303-10 §4.6.2.2 / RFC 5652 §5.3: signed attributes are mandatory when eContentType != id-data.
        raise VerificationError(f"{prefix}.malformed", "signed attributes missing")
    by_type: dict[str, list[object]] = {}
    for attr in attrs:
        by_type.setdefault(attr["type"].native, []).extend(attr["values"])
    ct_values, md_values = by_type.get("content_type", []), by_type.get("message_digest", [])
    if len(ct_values) != 1 or ct_values[0].dotted != ctype:  # type: ignore[attr-defined]
        raise VerificationError(f"{prefix}.content_type_mismatch", "content-type attribute differs from eContentType")
    if len(md_values) != 1 or md_values[0].native != digest(digest_name, content):  # type: ignore[attr-defined]
        raise VerificationError(f"{prefix}.message_digest_mismatch", "message-digest attribute does not match content")
    try:
        scheme = scheme_from_algorithm(si["signature_algorithm"], digest_hint=digest_name)
        key = certificate_key(signer)
    except VerificationError as exc:
        raise VerificationError(f"{prefix}.algorithm_unsupported", str(exc)) from exc
    algorithms.check(scheme, key, use)
    # RFC 5652 §5.4: the signature covers the DER of the attributes with an explicit SET OF tag.
    signed_bytes = b"\x31" + attrs.dump()[1:]
    try:
        verify_signature(key, scheme, signed_bytes, si["signature"].native)
    except SignatureInvalid as exc:
        raise SignatureInvalid(f"{prefix}.signature_invalid", str(exc)) from exc
    return SignedContent(ctype, content, signer, embedded, scheme, certs)
