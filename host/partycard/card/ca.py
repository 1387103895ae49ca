"""Card layer, Chip Authentication version 1 over ECDH (ICAO 9303-11 §6.2; BSI TR-03110-3 §B.1).

It runs the key agreement and restarts secure messaging with the new keys. It never decides
whether the chip is genuine: that is passive authentication of DG14 (verify's job); the outcome
here is data with a reason, never a bare bool.
"""

from __future__ import annotations

from dataclasses import dataclass

from partycard.card import crypto, tlv
from partycard.card.apdu import CommandAPDU
from partycard.card.lds.asn1 import decode_oid, decode_uint, encode_oid
from partycard.card.lds.securityinfos import (
    ID_CA,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    SecurityInfos,
)
from partycard.card.session import CardSession
from partycard.card.sm import KDF_ENC, KDF_MAC, Cipher, SecureMessaging, kdf
from partycard.errors import AccessControlError, ParseError, SecureMessagingError

CA_ECDH = ID_CA + ".2"
_CIPHERS = {"1": Cipher.DES3, "2": Cipher.AES128, "3": Cipher.AES192, "4": Cipher.AES256}
_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_ID_PK_ECDH = "0.4.0.127.0.7.2.2.1.2"
_NAMED = {
    "1.3.36.3.3.2.8.1.1.7": "brainpoolP256r1",
    "1.3.36.3.3.2.8.1.1.5": "brainpoolP224r1",
    "1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1",
    "1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1",
    "1.2.840.10045.3.1.7": "secp256r1",
    "1.3.132.0.33": "secp224r1",
    "1.3.132.0.34": "secp384r1",
    "1.3.132.0.35": "secp521r1",
}


@dataclass(frozen=True)
class CAOutcome:
    """What Chip Authentication did. ``ran``: the chip proved its DG14 key. ``failed``: CA was
    attempted and the chip did not prove the key (refused it, or could not speak under the new
    keys) — evidence of a cloned chip. Neither: CA was not possible (no DG14, unsupported suite)."""

    ran: bool
    oid: str | None
    error: str | None = None
    key_id: int | None = None
    curve: str | None = None
    failed: bool = False


@dataclass(frozen=True)
class ChipKey:
    curve: str
    point: bytes  #: uncompressed encoding


def parse_ec_spki(spki: bytes) -> ChipKey:
    """Curve and point of an EC SubjectPublicKeyInfo with named or explicit parameters.

    Explicit parameters (ICAO 9303-12 §4.1.6.3 mandates them for CSCAs; DG14 often has them) are
    matched against the known curves by prime and generator.
    """
    seq = tlv.parse_single(spki, 0x30).children()
    if len(seq) != 2 or seq[0].tag != 0x30 or seq[1].tag != 0x03:
        raise ParseError("not a SubjectPublicKeyInfo")
    alg = seq[0].children()
    oid = decode_oid(alg[0].value)
    if oid not in (_EC_PUBLIC_KEY, _ID_PK_ECDH) or len(alg) < 2:
        raise ParseError(f"public key algorithm {oid} is not EC")
    point = seq[1].value[1:]  # skip the unused-bits byte
    params = alg[1]
    if params.tag == 0x06:
        name = _NAMED.get(decode_oid(params.value))
        if name is None:
            raise ParseError(f"named curve {decode_oid(params.value)} is not supported")
        return ChipKey(name, point)
    if params.tag != 0x30:
        raise ParseError("EC parameters are neither a named curve nor explicit")
    # ECParameters (RFC 3279 §2.3.5): version, fieldID {fieldType, prime}, curve, base, order, ...
    parts = params.children()
    field_id = parts[1].children() if len(parts) >= 4 and parts[1].tag == 0x30 else []
    if len(field_id) < 2 or field_id[1].tag != 0x02 or parts[3].tag != 0x04:
        raise ParseError("explicit EC parameters are not ECParameters")
    prime = decode_uint(field_id[1].value)
    gen = parts[3].value
    for name in _NAMED.values():
        curve = crypto.Curve(name)
        g = curve.encode(curve.generator)
        if curve.prime == prime and g == gen:
            return ChipKey(name, point)
    raise ParseError("explicit EC parameters match no supported curve")


def choose(infos: SecurityInfos) -> tuple[ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo] | None:
    """First ECDH CA info with a matching public key (by key id when present), else None."""
    for info in infos.ca:
        if not info.protocol.startswith(CA_ECDH + "."):
            continue
        for key in infos.ca_public_keys:
            if info.key_id is None or key.key_id is None or key.key_id == info.key_id:
                return info, key
    return None


def perform_ca(session: CardSession, infos: SecurityInfos) -> CAOutcome:
    """Run CA v1 if DG14 offers ECDH; on success SM restarts with the new keys (SSC 0)."""
    picked = choose(infos)
    if picked is None:
        offered = ", ".join(i.protocol for i in infos.ca) or "none"
        return CAOutcome(False, None, f"no supported ECDH Chip Authentication in DG14 (offered: {offered})")
    info, key = picked
    suffix = info.protocol.rpartition(".")[2]
    if suffix not in _CIPHERS:
        return CAOutcome(False, info.protocol, f"CA cipher suite {info.protocol} is not supported")
    cipher = _CIPHERS[suffix]
    try:
        chip = parse_ec_spki(key.public_key)
        curve = crypto.Curve(chip.curve)
        chip_pk = curve.decode(chip.point)
    except (ParseError, AccessControlError) as e:
        return CAOutcome(False, info.protocol, f"chip public key unusable: {e}", info.key_id)
    sk = curve.random_scalar()
    pk = curve.encode(curve.mul(sk, curve.generator))
    key_ref = b""
    if info.key_id is not None:
        key_ref = tlv.encode(0x84, info.key_id.to_bytes(max(1, (info.key_id.bit_length() + 7) // 8), "big"))
    if cipher is Cipher.DES3:
        # MSE:Set KAT (ICAO 9303-11 §6.2.4.1, 3DES variant).
        r = session.send(CommandAPDU(0x00, 0x22, 0x41, 0xA6, tlv.encode(0x91, pk) + key_ref))
        step = "MSE:Set KAT"
    else:
        mse = tlv.encode(0x80, encode_oid(info.protocol)) + key_ref
        r = session.send(CommandAPDU(0x00, 0x22, 0x41, 0xA4, mse))
        step = "MSE:Set AT"
        if r.sw == 0x9000:
            ga = tlv.encode(0x7C, tlv.encode(0x80, pk))
            r = session.send(CommandAPDU(0x00, 0x86, 0x00, 0x00, ga, le=256))
            step = "GENERAL AUTHENTICATE"
    if r.sw != 0x9000:
        # The card answered under the old keys; the session is still usable for reading.
        why = f"card refused CA at {step}: SW {r.sw:04X}"
        return CAOutcome(False, info.protocol, why, info.key_id, chip.curve, failed=True)
    shared = curve.x_bytes(curve.mul(sk, chip_pk))
    session.start_sm(SecureMessaging(cipher, kdf(shared, KDF_ENC, cipher), kdf(shared, KDF_MAC, cipher), 0))
    return _confirm(session, info, chip)


def _confirm(session: CardSession, info: ChipAuthenticationInfo, chip: ChipKey) -> CAOutcome:
    """Prove the new keys at once: CA v1 authenticates the chip only implicitly (ICAO 9303-11
    §6.2), as a chip without the private key cannot derive them. A harmless SELECT of EF.COM makes a
    failed proof show as such instead of surfacing later as a broken read."""
    try:
        confirm = session.send(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1e"))
    except SecureMessagingError as e:
        why = f"the chip did not prove its Chip Authentication key: {e}"
    else:
        if confirm.authenticated:
            return CAOutcome(True, info.protocol, None, info.key_id, chip.curve)
        why = f"the chip answered SW {confirm.sw:04X} without secure messaging under the CA keys"
    session.sm = None
    return CAOutcome(False, info.protocol, why, info.key_id, chip.curve, failed=True)
