"""Issuance layer: LDS ASN.1 types asn1crypto lacks (9303-10/-11); must not sign or read files.

ASN.1 types of the LDS that asn1crypto does not ship (ICAO 9303-10/-11).

Must not sign or read files. SecurityInfos (9303-11 §9.2), LDSSecurityObject (9303-10 §4.6.2.2),
and DER helpers for SET OF, whose elements DER requires in ascending order of their encodings.
"""

from __future__ import annotations

from asn1crypto import algos, core

# Object identifiers (BSI TR-03110-3 / ICAO 9303-11 §9.2; 9303-10 §4.6.2).
ID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
ID_AA = "2.23.136.1.1.5"
ID_PK_ECDH = "0.4.0.127.0.7.2.2.1.2"
ID_CA_ECDH_3DES = "0.4.0.127.0.7.2.2.3.2.1"
ID_CA_ECDH_AES = {bits: f"0.4.0.127.0.7.2.2.3.2.{n}" for bits, n in ((128, 2), (192, 3), (256, 4))}
ID_PACE_ECDH_GM_AES = {bits: f"0.4.0.127.0.7.2.2.4.2.{n}" for bits, n in ((128, 2), (192, 3), (256, 4))}
ECDSA_PLAIN = {  # BSI TR-03111 §5.2.1 ecdsa-plain-signatures
    "sha224": "0.4.0.127.0.7.1.1.4.1.2",
    "sha256": "0.4.0.127.0.7.1.1.4.1.3",
    "sha384": "0.4.0.127.0.7.1.1.4.1.4",
    "sha512": "0.4.0.127.0.7.1.1.4.1.5",
}


class SecurityInfo(core.Sequence):  # type: ignore[misc]
    """SecurityInfo ::= SEQUENCE { protocol OID, requiredData ANY, optionalData ANY OPTIONAL }."""

    _fields = [  # noqa: RUF012 - asn1crypto reads this class attribute
        ("protocol", core.ObjectIdentifier),
        ("required_data", core.Any),
        ("optional_data", core.Any, {"optional": True}),
    ]


class DataGroupHash(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto reads this class attribute
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashes(core.SequenceOf):  # type: ignore[misc]
    _child_spec = DataGroupHash


class LDSSecurityObject(core.Sequence):  # type: ignore[misc]
    """LDSSecurityObject v0 (9303-10 §4.6.2.2)."""

    _fields = [  # noqa: RUF012 - asn1crypto reads this class attribute
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashes),
    ]


def der_set_of(elements: list[bytes]) -> bytes:
    """DER SET OF: the encodings sorted ascending (X.690 §11.6)."""
    return _tlv_raw(0x31, b"".join(sorted(elements)))


def _tlv_raw(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def security_info(protocol: str, required: bytes, optional: bytes | None = None) -> bytes:
    """One SecurityInfo; ``required``/``optional`` are complete DER encodings."""
    value: dict[str, object] = {"protocol": protocol, "required_data": core.Any.load(required)}
    if optional is not None:
        value["optional_data"] = core.Any.load(optional)
    return bytes(SecurityInfo(value).dump())


def der_int(n: int) -> bytes:
    return bytes(core.Integer(n).dump())


def der_oid(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).dump())


def pace_info(protocol: str, parameter_id: int) -> bytes:
    """PACEInfo, version 2, standardized domain parameters (9303-11 §9.2.1)."""
    return security_info(protocol, der_int(2), der_int(parameter_id))


def ca_info(protocol: str, key_id: int | None = None) -> bytes:
    """ChipAuthenticationInfo, version 1 (9303-11 §9.2.5)."""
    return security_info(protocol, der_int(1), None if key_id is None else der_int(key_id))


def ca_public_key_info(spki: bytes, key_id: int | None = None) -> bytes:
    """ChipAuthenticationPublicKeyInfo with id-PK-ECDH (9303-11 §9.2.6)."""
    return security_info(ID_PK_ECDH, spki, None if key_id is None else der_int(key_id))


def aa_info(signature_oid: str) -> bytes:
    """ActiveAuthenticationInfo, version 1, naming the ECDSA hash (9303-11 §9.2.8)."""
    return security_info(ID_AA, der_int(1), der_oid(signature_oid))
