"""Card layer, PACE with generic mapping over ECDH (ICAO 9303-11 §4.4; BSI TR-03110-2 §3.2).

It must not choose between PACE and BAC (the reader does, from EF.CardAccess) and never retries a
password: a wrong CAN costs the holder a try on the card's retry counter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from partycard.card import crypto, tlv
from partycard.card.apdu import CommandAPDU
from partycard.card.bac import MRZKey
from partycard.card.lds.asn1 import encode_oid
from partycard.card.lds.securityinfos import ID_PACE, PACEInfo
from partycard.card.session import CardSession
from partycard.card.sm import KDF_ENC, KDF_MAC, KDF_PACE, Cipher, SecureMessaging, crypto_equal, kdf
from partycard.errors import AccessControlError, APDUError, ParseError, SecureMessagingError

#: Standardized domain parameter ids (ICAO 9303-11 §9.5.1 table) that this host supports: the
#: profile's curves (protocol/card-profile.md). Others are refused by name, never guessed.
PARAMETER_CURVES: dict[int, str] = {
    12: "secp256r1",
    13: "brainpoolP256r1",
    15: "secp384r1",
    16: "brainpoolP384r1",
}

ECDH_GM = ID_PACE + ".2"
#: Cipher suffixes of id-PACE-ECDH-GM-* (§9.2.1): AES only; ".1" (3DES) is refused as unsupported.
_CIPHERS = {"2": Cipher.AES128, "3": Cipher.AES192, "4": Cipher.AES256}

PASSWORD_MRZ = 0x01
PASSWORD_CAN = 0x02


@dataclass(frozen=True)
class PACEParams:
    """What PACE ran with; recorded in the read result."""

    oid: str
    parameter_id: int
    curve: str
    cipher: str  #: "AES-128", "AES-192", "AES-256" or "3DES"


def pace_params(info: PACEInfo) -> PACEParams:
    """Map a PACEInfo to supported parameters or raise ``AccessControlError`` saying why not."""
    prefix, _, suffix = info.protocol.rpartition(".")
    if prefix != ECDH_GM or suffix not in _CIPHERS:
        raise AccessControlError(f"PACE {info.protocol} is not supported (ECDH generic mapping only)")
    if info.version != 2:
        raise AccessControlError(f"PACEInfo version {info.version} is not 2 (ICAO 9303-11 §9.2.1)")
    if info.parameter_id is None or info.parameter_id not in PARAMETER_CURVES:
        raise AccessControlError(f"PACE domain parameter id {info.parameter_id} is not supported")
    return PACEParams(info.protocol, info.parameter_id, PARAMETER_CURVES[info.parameter_id],
                      _CIPHERS[suffix].label)


def _cipher(params: PACEParams) -> Cipher:
    return _CIPHERS[params.oid.rpartition(".")[2]]


def password_key(*, can: str | None = None, mrz: MRZKey | None = None) -> tuple[bytes, int]:
    """K for the password (§9.7.3): the CAN's ASCII digits, or SHA-1(MRZ_information)."""
    if can is not None:
        if not can.isdigit() or not 1 <= len(can) <= 12:
            raise AccessControlError("CAN must be the digits printed on the card")
        return can.encode("ascii"), PASSWORD_CAN
    if mrz is not None:
        return crypto.sha1(mrz.information().encode("ascii")), PASSWORD_MRZ
    raise AccessControlError("PACE needs a CAN or an MRZ key")


def _dyn(tag: int, value: bytes) -> bytes:
    return tlv.encode(0x7C, tlv.encode(tag, value) if value or tag else b"")


def _ga(session: CardSession, data: bytes, *, last: bool, step: str) -> bytes:
    """GENERAL AUTHENTICATE with command chaining except on the last step (§4.4.4)."""
    cla = 0x00 if last else 0x10
    r = session.send(CommandAPDU(cla, 0x86, 0x00, 0x00, data, le=256))
    if r.sw != 0x9000:
        if last:
            # §4.4.4: the card answers the token step with an error when the password was wrong.
            raise AccessControlError(
                "PACE mutual authentication failed: the card rejected the password "
                f"(wrong CAN or MRZ), SW {r.sw:04X}; not retried, the card counts failed tries"
            )
        raise AccessControlError(f"PACE {step} failed: SW {r.sw:04X}")
    try:
        return tlv.parse_single(r.data, 0x7C).value
    except ParseError as e:
        raise AccessControlError(f"PACE {step}: malformed dynamic authentication data: {e}") from e


def _inner(data: bytes, tag: int, step: str) -> bytes:
    try:
        for item in tlv.parse_all(data):
            if item.tag == tag:
                return item.value
    except ParseError as e:
        raise AccessControlError(f"PACE {step}: {e}") from e
    raise AccessControlError(f"PACE {step}: response lacks tag {tag:02X}")


def auth_token(ks_mac: bytes, oid: str, point: bytes) -> bytes:
    """T = MAC(KSMAC, 7F49{06 OID, 86 point}) (ICAO 9303-11 §4.4.3.4, §9.4.4)."""
    body = tlv.encode(0x7F49, tlv.encode(0x06, encode_oid(oid)) + tlv.encode(0x86, point))
    return crypto.aes_cmac(ks_mac, body)[:8]


def perform_pace(
    session: CardSession,
    info: PACEInfo,
    *,
    can: str | None = None,
    mrz: MRZKey | None = None,
    send_parameter_id: bool = False,
    scalar_source: Callable[[crypto.Curve], int] | None = None,
) -> SecureMessaging:
    """Run PACE-ECDH-GM and start SM on ``session`` (SSC 0). ``scalar_source`` is for replays."""
    params = pace_params(info)
    cipher = _cipher(params)
    curve = crypto.Curve(params.curve)
    rand = scalar_source or (lambda c: c.random_scalar())
    key, pw_ref = password_key(can=can, mrz=mrz)
    k_pi = kdf(key, KDF_PACE, cipher)

    # MSE:Set AT without Le (AndyQ#153 interop), parameter id only when several are offered.
    mse = tlv.encode(0x80, encode_oid(params.oid)) + tlv.encode(0x83, bytes([pw_ref]))
    if send_parameter_id:
        mse += tlv.encode(0x84, bytes([params.parameter_id]))
    r = session.send(CommandAPDU(0x00, 0x22, 0xC1, 0xA4, mse))
    if r.sw != 0x9000:
        raise AccessControlError(f"PACE MSE:Set AT refused: SW {r.sw:04X}")

    z = _inner(_ga(session, _dyn(0, b""), last=False, step="encrypted nonce"), 0x80, "encrypted nonce")
    try:
        s = crypto.aes_cbc(k_pi, z, encrypt=False)
    except SecureMessagingError as e:
        raise AccessControlError(f"PACE nonce cannot be decrypted: {e}") from e

    # Generic mapping (§4.4.3.3.1): G^ = s·G + H, H = ECDH(mapping keys).
    sk_map = rand(curve)
    pk_map = curve.mul(sk_map, curve.generator)
    chip_map = curve.decode(_inner(
        _ga(session, _dyn(0x81, curve.encode(pk_map)), last=False, step="map nonce"), 0x82, "map nonce"))
    if chip_map == pk_map:
        raise AccessControlError("PACE: card mapping key equals ours (TR-03110-2 §3.2 check)")
    h = curve.mul(sk_map, chip_map)
    g_hat = curve.add(curve.mul(int.from_bytes(s, "big"), curve.generator), h)

    sk_eph = rand(curve)
    pk_eph = curve.mul(sk_eph, g_hat)
    chip_eph_raw = _inner(
        _ga(session, _dyn(0x83, curve.encode(pk_eph)), last=False, step="key agreement"),
        0x84, "key agreement")
    chip_eph = curve.decode(chip_eph_raw)
    if chip_eph == pk_eph:
        raise AccessControlError("PACE: card ephemeral key equals ours (ICAO 9303-11 §4.4.3.4 check)")
    shared = curve.x_bytes(curve.mul(sk_eph, chip_eph))
    ks_enc, ks_mac = kdf(shared, KDF_ENC, cipher), kdf(shared, KDF_MAC, cipher)

    t_ifd = auth_token(ks_mac, params.oid, curve.encode(chip_eph))
    try:
        t_ic = _inner(_ga(session, _dyn(0x85, t_ifd), last=True, step="mutual authentication"),
                      0x86, "mutual authentication")
    except APDUError as e:
        raise AccessControlError(f"PACE mutual authentication failed: {e}") from e
    if not crypto_equal(t_ic, auth_token(ks_mac, params.oid, curve.encode(pk_eph))):
        raise AccessControlError("PACE mutual authentication failed: card token T_IC does not verify")
    sm = SecureMessaging(cipher, ks_enc, ks_mac, 0)
    session.start_sm(sm)
    return sm
