"""Issuance layer: personalise card images; must not log personal data or talk to a card.

Personalise a card image from a member record and a PKI, or from an ICAO dump.

Must not log personal data (only card-independent facts such as algorithms) and must not talk to a
card. Also the knobs tests and demos need: tamper after signing, clone with new chip keys.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path
from typing import Any

from cryptography import x509

from partycard.errors import ConfigError, ParseError
from partycard.issue import lds
from partycard.issue.curves import PACE_CURVES, curve_by_name
from partycard.issue.image import FILE_IDS, PROFILE_ICAO_DUMP, PROFILE_PARTYCARD, CardImage
from partycard.issue.keys import ChipKey, EcKey, RsaKey, generate_ec, generate_rsa, load_private_key
from partycard.issue.member import Member, parse_member
from partycard.issue.mrz import mrz_information_from_text
from partycard.issue.pki import PKIPaths, load_pki, load_signer
from partycard.issue.sod import build_sod

log = logging.getLogger(__name__)

AES_BITS = (128, 192, 256)


def _check_signer_time(cert: x509.Certificate, now: dt.datetime) -> None:
    """Refuse to sign outside the DS certificate's validity or private key usage period (9303-12 §7.1)."""
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ConfigError("the document signer certificate is not valid at the issuing time")
    try:
        period = cert.extensions.get_extension_for_class(x509.PrivateKeyUsagePeriod).value
    except x509.ExtensionNotFound:
        return
    if period.not_after is not None and now > period.not_after.replace(tzinfo=dt.UTC):
        raise ConfigError("the document signer's private key usage period has ended")


def _aa_key(kind: str, curve_name: str) -> ChipKey:
    if kind == "rsa":
        return generate_rsa(2048)
    if kind == "ec":
        return generate_ec(curve_name)
    raise ConfigError(f"unknown Active Authentication key type {kind!r} (ec or rsa)")


def _aa_hash(key: ChipKey | None) -> str:
    return "sha384" if isinstance(key, EcKey) and key.curve.size > 32 else "sha256"


def issue_card(
    member: dict[str, Any] | Member,
    pki: PKIPaths | str | Path,
    *,
    now: dt.datetime,
    signer: str | None = None,
    pace_curve: str = "brainpoolP256r1",
    pace_aes_bits: int = 128,
    can: str | None = None,
    aa: bool = True,
    aa_key_type: str = "ec",
    ca: bool = True,
    bac: bool = True,
    face_image: bytes | None = None,
    hash_alg: str = "sha256",
) -> CardImage:
    """Build and sign every file of a party card (protocol/card-profile.md) for one member."""
    record = member if isinstance(member, Member) else parse_member(member)
    paths = pki if isinstance(pki, PKIPaths) else load_pki(pki)
    if now.tzinfo is None:
        raise ConfigError("issue_card needs a timezone-aware 'now'")
    if pace_curve not in PACE_CURVES:
        raise ConfigError(f"PACE curve must be one of {', '.join(PACE_CURVES)}")
    if pace_aes_bits not in AES_BITS:
        raise ConfigError("PACE AES key length must be 128, 192 or 256")
    if can is None:
        can = f"{secrets.randbelow(10**6):06d}"
    elif not (len(can) == 6 and can.isascii() and can.isdigit()):
        raise ConfigError("the CAN must be six digits")
    ds = load_signer(paths, signer)
    _check_signer_time(ds.cert, now)
    curve = curve_by_name(pace_curve)
    aa_key = _aa_key(aa_key_type, curve.name) if aa else None
    ca_key = generate_ec(curve.name) if ca else None
    mrz = lds.member_td1(record)
    portrait = face_image if face_image is not None else lds.synthetic_jpeg(record.card_number.encode())
    dgs: dict[int, bytes] = {1: lds.dg1(mrz), 2: lds.dg2(portrait), 13: lds.dg13(record)}
    if ca_key is not None or isinstance(aa_key, EcKey):
        dgs[14] = lds.dg14(ca_key, pace_aes_bits, aa_key, _aa_hash(aa_key))
    if aa_key is not None:
        dgs[15] = lds.dg15(aa_key)
    files = {f"DG{n}": data for n, data in dgs.items()}
    files["EF.COM"] = lds.ef_com(sorted(dgs))
    files["EF.SOD"] = build_sod(dgs, ds, hash_alg)
    files["EF.CardAccess"] = lds.ef_card_access(curve, pace_aes_bits, pace_aes_bits if ca_key else None)
    log.info("issued a card image: PACE %s AES-%d, AA %s, CA %s, signer %s",
             curve.name, pace_aes_bits, aa_key_type if aa else "off", "on" if ca else "off", ds.name)
    return CardImage(files=files, can=can, mrz_information=mrz.mrz_information, aa_key=aa_key, ca_key=ca_key,
                     profile=PROFILE_PARTYCARD, bac=bac, uid=b"\x08" + secrets.token_bytes(3),
                     notes={"signer": ds.name, "issuer": ds.issuer})


def tamper_file(image: CardImage, name: str, data: bytes | None = None) -> CardImage:
    """A copy of ``image`` with one file changed after signing (its SOD hash no longer matches).

    Without ``data`` the last byte of the file is changed (+1 mod 256), which keeps the TLV
    structure intact so that only the hash check can catch it.
    """
    if name not in image.files:
        raise ConfigError(f"the image has no file {name}")
    old = image.files[name]
    new = data if data is not None else old[:-1] + bytes([(old[-1] + 1) & 0xFF])
    out = image.copy()
    out.files[name] = new
    return out


def clone_card(image: CardImage) -> CardImage:
    """A clone: every file copied bit for bit, but new AA/CA keys (a cloner cannot read the chip's)."""
    aa: ChipKey | None = None
    if isinstance(image.aa_key, EcKey):
        aa = generate_ec(image.aa_key.curve.name)
    elif isinstance(image.aa_key, RsaKey):
        aa = generate_rsa(image.aa_key.key.key_size)
    ca = generate_ec(image.ca_key.curve.name) if image.ca_key is not None else None
    return image.copy(aa_key=aa, ca_key=ca, uid=b"\x08" + secrets.token_bytes(3))


def _key_arg(value: ChipKey | bytes | str | Path | None) -> ChipKey | None:
    if value is None or isinstance(value, EcKey | RsaKey):
        return value
    if isinstance(value, bytes):
        return load_private_key(value)
    try:
        data = Path(value).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read chip key {value}: {exc}") from exc
    return load_private_key(data)


def _dg1_mrz(dg1: bytes) -> str:
    # 61 L { 5F1F L mrz }: small enough to parse by hand, lengths in short or 81 form.
    def skip_len(b: bytes, i: int) -> tuple[int, int]:
        if b[i] < 0x80:
            return b[i], i + 1
        n = b[i] & 0x7F
        return int.from_bytes(b[i + 1 : i + 1 + n], "big"), i + 1 + n

    try:
        if dg1[0] != 0x61:
            raise ParseError("DG1 does not start with tag 61")
        _, i = skip_len(dg1, 1)
        if dg1[i : i + 2] != b"\x5f\x1f":
            raise ParseError("DG1 lacks the MRZ data object 5F1F")
        n, j = skip_len(dg1, i + 2)
        return dg1[j : j + n].decode("ascii")
    except (IndexError, UnicodeDecodeError) as exc:
        raise ParseError(f"DG1 is malformed: {exc}") from exc


def issue_from_dump(
    dump_dir: str | Path,
    *,
    aa_key: ChipKey | bytes | str | Path | None = None,
    ca_key: ChipKey | bytes | str | Path | None = None,
    can: str | None = None,
) -> CardImage:
    """A card image from an ICAO data set laid out as DIR/EF.COM.bin, EF.SOD.bin, DG1.bin, ….

    The BAC/PACE-MRZ key comes from DG1's MRZ. PACE is offered only when EF.CardAccess.bin is
    present; BAC is always offered (as older ICAO documents do).
    """
    base = Path(dump_dir)
    files: dict[str, bytes] = {}
    for name in FILE_IDS:
        path = base / f"{name}.bin"
        if path.is_file():
            try:
                files[name] = path.read_bytes()
            except OSError as exc:
                raise ParseError(f"cannot read {path}: {exc}") from exc
    for required in ("EF.COM", "EF.SOD", "DG1"):
        if required not in files:
            raise ParseError(f"{base} lacks {required}.bin")
    mrz_info = mrz_information_from_text(_dg1_mrz(files["DG1"]))
    ca = _key_arg(ca_key)
    if ca is not None and not isinstance(ca, EcKey):
        raise ConfigError("the Chip Authentication key must be an EC key")
    return CardImage(files=files, can=can, mrz_information=mrz_info, aa_key=_key_arg(aa_key), ca_key=ca,
                     profile=PROFILE_ICAO_DUMP, bac=True, uid=b"\x08" + secrets.token_bytes(3))
