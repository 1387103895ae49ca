"""Card layer, Basic Access Control (ICAO 9303-11 §9.7, Appendix D): keys from the MRZ and the
mutual authentication. It must not select files or fall back to anything on failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from partycard.card import crypto
from partycard.card.apdu import CommandAPDU
from partycard.card.lds.dg1 import check_digit as mrz_check_digit
from partycard.card.session import CardSession
from partycard.card.sm import KDF_ENC, KDF_MAC, Cipher, SecureMessaging, crypto_equal, kdf
from partycard.errors import AccessControlError, ParseError


def check_digit(field: str) -> str:
    """ICAO 9303-3 §4.9 check digit of a field a caller typed in; bad characters refuse access."""
    try:
        return mrz_check_digit(field)
    except ParseError as e:
        raise AccessControlError(str(e)) from e


@dataclass(frozen=True)
class MRZKey:
    """The MRZ-derived access key: document number and dates as YYMMDD strings."""

    document_number: str
    date_of_birth: str
    date_of_expiry: str

    def information(self) -> str:
        """MRZ_information (ICAO 9303-11 §9.7.2, Appendix D.2): numbers >9 characters kept whole."""
        doc = self.document_number.upper().replace(" ", "")
        doc = doc.ljust(9, "<")
        for label, d in (("date of birth", self.date_of_birth), ("date of expiry", self.date_of_expiry)):
            if len(d) != 6 or not d.isdigit():
                raise AccessControlError(f"{label} must be YYMMDD")
        return (
            doc + check_digit(doc)
            + self.date_of_birth + check_digit(self.date_of_birth)
            + self.date_of_expiry + check_digit(self.date_of_expiry)
        )

    def seed(self) -> bytes:
        """Kseed = first 16 bytes of SHA-1(MRZ_information) (Appendix D.2)."""
        return crypto.sha1(self.information().encode("ascii"))[:16]

    def __repr__(self) -> str:  # personal data stays out of logs and tracebacks
        return "MRZKey(<redacted>)"


def bac_keys(seed: bytes) -> tuple[bytes, bytes]:
    return kdf(seed, KDF_ENC, Cipher.DES3), kdf(seed, KDF_MAC, Cipher.DES3)


def _mac(key: bytes, data: bytes) -> bytes:
    return crypto.retail_mac(key, crypto.pad_iso9797_m2(data, 8))


def perform_bac(
    session: CardSession,
    mrz: MRZKey,
    *,
    random_source: Callable[[int], bytes] = crypto.random_bytes,
) -> SecureMessaging:
    """Run BAC (§9.7.4) and start SM on ``session``. ``random_source`` is for spec replays only."""
    k_enc, k_mac = bac_keys(mrz.seed())
    r = session.send(CommandAPDU(0x00, 0x84, 0x00, 0x00, le=8))
    if r.sw != 0x9000 or len(r.data) != 8:
        raise AccessControlError(f"GET CHALLENGE failed: SW {r.sw:04X}")
    rnd_ic = r.data
    rnd_ifd, k_ifd = random_source(8), random_source(16)
    e_ifd = crypto.des3_cbc(k_enc, rnd_ifd + rnd_ic + k_ifd, encrypt=True)
    m_ifd = _mac(k_mac, e_ifd)
    r = session.send(CommandAPDU(0x00, 0x82, 0x00, 0x00, e_ifd + m_ifd, le=40))
    if r.sw == 0x6300 or (r.sw == 0x9000 and not r.data):
        raise AccessControlError(
            "BAC mutual authentication failed: the card rejected the MRZ key "
            "(check document number and dates)"
        )
    if r.sw != 0x9000 or len(r.data) != 40:
        raise AccessControlError(f"BAC EXTERNAL AUTHENTICATE failed: SW {r.sw:04X}, {len(r.data)} bytes")
    e_ic, m_ic = r.data[:32], r.data[32:]
    if not crypto_equal(_mac(k_mac, e_ic), m_ic):
        raise AccessControlError("BAC mutual authentication failed: card cryptogram MAC does not verify")
    plain = crypto.des3_cbc(k_enc, e_ic, encrypt=False)
    if plain[:8] != rnd_ic or plain[8:16] != rnd_ifd:
        raise AccessControlError("BAC mutual authentication failed: card did not echo our challenge")
    k_ic = plain[16:]
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    ks_enc, ks_mac = bac_keys(seed)
    ssc = int.from_bytes(rnd_ic[4:] + rnd_ifd[4:], "big")  # Appendix D.3
    sm = SecureMessaging(Cipher.DES3, ks_enc, ks_mac, ssc)
    session.start_sm(sm)
    return sm
