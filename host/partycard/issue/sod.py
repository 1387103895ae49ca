"""Issuance layer: EF.SOD as CMS SignedData (9303-10 §4.6.2); must not verify anything.

EF.SOD — the LDS security object as CMS SignedData (ICAO 9303-10 §4.6.2).

Must not verify anything; it signs. SignedData v3, one SignerInfo (issuerAndSerialNumber) with the
signed attributes content-type and message-digest, the document signer certificate embedded
(9303-10 §4.6.2.1; 9303-12 §4). ECDSA or RSASSA-PSS, as the signer's key is.
"""

from __future__ import annotations

import hashlib

from asn1crypto import cms
from asn1crypto import x509 as ax509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from partycard.errors import ConfigError
from partycard.issue import asn1
from partycard.issue.lds import tlv
from partycard.issue.pki import Signer, pss_padding

HASHES = ("sha256", "sha384", "sha512", "sha224", "sha1")
_CRYPTO_HASH: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}


def lds_security_object(dg_files: dict[int, bytes], hash_alg: str) -> bytes:
    """LDSSecurityObject v0 with the hash of every data group file (whole TLV, tag included)."""
    if hash_alg not in HASHES:
        raise ConfigError(f"unsupported SOD hash {hash_alg!r}; use one of {', '.join(HASHES)}")
    values = [
        {"data_group_number": n, "data_group_hash_value": hashlib.new(hash_alg, dg_files[n]).digest()}
        for n in sorted(dg_files)
    ]
    return bytes(asn1.LDSSecurityObject({
        "version": 0,
        "hash_algorithm": {"algorithm": hash_alg},
        "data_group_hash_values": values,
    }).dump())


def _signature(signer: Signer, data: bytes, hash_alg: str) -> tuple[bytes, dict[str, object]]:
    h = _CRYPTO_HASH[hash_alg]()
    if isinstance(signer.key, rsa.RSAPrivateKey):
        sig = signer.key.sign(data, pss_padding(), hashes.SHA256())
        params = {
            "hash_algorithm": {"algorithm": "sha256"},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
            "salt_length": 32,
            "trailer_field": "trailer_field_bc",
        }
        return sig, {"algorithm": "rsassa_pss", "parameters": params}
    if isinstance(signer.key, ec.EllipticCurvePrivateKey):
        return signer.key.sign(data, ec.ECDSA(h)), {"algorithm": f"{hash_alg}_ecdsa"}
    raise ConfigError("document signer key is neither EC nor RSA")


def build_sod(dg_files: dict[int, bytes], signer: Signer, hash_alg: str = "sha256") -> bytes:
    """EF.SOD: 77 { ContentInfo(SignedData) } over the given data group files."""
    econtent = lds_security_object(dg_files, hash_alg)
    digest = hashlib.new(hash_alg, econtent).digest()
    signed_attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": [asn1.ID_LDS_SECURITY_OBJECT]}),
        cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
    ])
    # RFC 5652 §5.4: the signature covers the DER of the attributes with an explicit SET OF tag.
    signature, sig_alg = _signature(signer, signed_attrs.dump(), hash_alg)
    cert = ax509.Certificate.load(signer.cert.public_bytes(serialization.Encoding.DER))
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": cert.issuer, "serial_number": cert.serial_number}}),
        "digest_algorithm": {"algorithm": hash_alg},
        "signed_attrs": signed_attrs,
        "signature_algorithm": sig_alg,
        "signature": signature,
    })
    signed_data = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [{"algorithm": hash_alg}],
        "encap_content_info": {"content_type": asn1.ID_LDS_SECURITY_OBJECT, "content": econtent},
        "certificates": [cert],
        "signer_infos": [signer_info],
    })
    content_info = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return tlv(0x77, content_info.dump())
