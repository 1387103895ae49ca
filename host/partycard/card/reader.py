"""Card layer, the read flow: access control, Chip Authentication, files, Active Authentication.

It must not verify signatures or hashes (verify does), must not log personal data, and never
falls back silently: the result records which access control ran and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from partycard.card import tlv
from partycard.card.apdu import CommandAPDU
from partycard.card.auth import AAExchange, internal_authenticate
from partycard.card.bac import MRZKey, perform_bac
from partycard.card.ca import CAOutcome, perform_ca
from partycard.card.channel import APDUChannel
from partycard.card.files import FileAccessDenied, FileNotOnCard, FileReader, SelectRefused
from partycard.card.lds.cardaccess import parse_card_access
from partycard.card.lds.com import parse_com
from partycard.card.lds.dg14 import parse_dg14
from partycard.card.lds.securityinfos import PACEInfo, SecurityInfos
from partycard.card.pace import PACEParams, pace_params, perform_pace
from partycard.card.profile import FILES, LDS1_AID, ReadPolicy
from partycard.card.session import CardSession
from partycard.errors import AccessControlError, APDUError, ConfigError, CredentialsRequired, ParseError

__all__ = ["AAExchange", "CAOutcome", "DocumentRead", "MRZKey", "PACEParams", "ReadStats", "read_document"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadStats:
    commands: int
    batches: int


@dataclass(frozen=True)
class DocumentRead:
    files: dict[str, bytes]
    access_control: str  #: "PACE-CAN", "PACE-MRZ" or "BAC"
    access_reason: str  #: why that access control ran
    pace_params: PACEParams | None
    aa: AAExchange | None
    ca: CAOutcome | None
    skipped: dict[str, str] = field(default_factory=dict)  #: file → why it is absent
    stats: ReadStats = ReadStats(0, 0)


def _read_card_access(reader: FileReader) -> tuple[bytes | None, str]:
    """EF.CardAccess from the MF by file id; VN cards refuse SELECT MF (AndyQ#219), so no MF select."""
    try:
        return reader.read("EF.CardAccess"), "present"
    except FileNotOnCard:
        return None, "EF.CardAccess absent"
    except SelectRefused as e:
        # Some cards answer SELECT by file id with 6D00/6A86 but allow READ BINARY by SFI.
        r = reader.session.send(CommandAPDU(0x00, 0xB0, 0x80 | FILES["EF.CardAccess"][1], 0x00, le=0xDF))
        if r.sw not in (0x9000, 0x6282) or not r.data:
            return None, f"EF.CardAccess not readable ({e}; by short EF id: SW {r.sw:04X})"
        if tlv.total_size(r.data) != len(r.data):
            raise ParseError("EF.CardAccess read by short EF id is incomplete or has trailing bytes") from e
        return r.data, "present (read by short EF id after SELECT was refused)"


def _pick_pace(infos: SecurityInfos) -> tuple[PACEInfo | None, list[str]]:
    rejected: list[str] = []
    for info in infos.pace:
        try:
            pace_params(info)
            return info, rejected
        except AccessControlError as e:
            rejected.append(str(e))
    return None, rejected


def _access(
    session: CardSession,
    reader: FileReader,
    can: str | None,
    mrz: MRZKey | None,
    card_access: tuple[bytes | None, str] | None = None,
) -> tuple[str, str, PACEParams | None, bytes | None]:
    raw, status = card_access if card_access is not None else _read_card_access(reader)
    infos: SecurityInfos | None = None
    if raw is not None:
        try:
            infos = parse_card_access(raw)
        except ParseError as e:
            raise AccessControlError(f"EF.CardAccess does not parse, refusing to guess: {e}") from e
    if infos is not None and infos.pace:
        info, rejected = _pick_pace(infos)
        if info is not None:
            if can is None and mrz is None:
                raise CredentialsRequired(
                    "the card offers PACE: give the CAN printed on the card or the MRZ", "can"
                )
            several = len(infos.pace) > 1
            perform_pace(session, info, can=can, mrz=mrz if can is None else None, send_parameter_id=several)
            method = "PACE-CAN" if can is not None else "PACE-MRZ"
            reason = f"EF.CardAccess offers {info.protocol} (parameter id {info.parameter_id})"
            _select_lds(session)
            return method, reason, pace_params(info), raw
        reason = "EF.CardAccess offers PACE only with unsupported parameters (" + "; ".join(rejected) + ")"
    elif infos is not None:
        reason = "EF.CardAccess lists no PACEInfo"
    else:
        reason = status
    if mrz is None:
        raise CredentialsRequired(
            f"BAC needs the MRZ key ({reason}); a CAN alone cannot open this card", "mrz"
        )
    _select_lds(session)
    perform_bac(session, mrz)
    return "BAC", reason + "; BAC used", None, raw


def _select_lds(session: CardSession) -> None:
    r = session.send(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, LDS1_AID))
    if r.sw != 0x9000:
        raise APDUError(r.sw, "SELECT of the LDS1 application failed")


def _chip_authentication(
    session: CardSession, reader: FileReader, listed: bool, out: dict[str, bytes],
    progress: Callable[[str, int, int], None] | None,
) -> CAOutcome | None:
    """Read DG14 and run CA v1 when it offers it; None when the card has no DG14 at all."""
    ca: CAOutcome | None = None
    try:
        out["DG14"] = reader.read("DG14", progress)
        ca = perform_ca(session, parse_dg14(out["DG14"]))
    except ParseError as e:
        ca = CAOutcome(False, None, f"DG14 does not parse: {e}")
    except FileAccessDenied as e:
        ca = CAOutcome(False, None, f"DG14 not readable: {e}")
    except FileNotOnCard as e:
        if listed:
            ca = CAOutcome(False, None, f"DG14 listed in EF.COM but not on the card: {e}")
    if ca is not None:
        log.info("chip authentication: ran=%s oid=%s error=%s", ca.ran, ca.oid, ca.error)
    return ca


def _check_arguments(can: object, files: Sequence[str] | None, aa_challenge: object) -> None:
    """Refuse wrong arguments before the card is touched (a read costs the card a PACE try)."""
    for name in files or ():
        if name not in FILES:
            raise ConfigError(f"unknown file name {name!r}; known: {', '.join(FILES)}")
    if aa_challenge is not None and (not isinstance(aa_challenge, bytes | bytearray) or len(aa_challenge) != 8):
        raise ConfigError("the Active Authentication challenge must be 8 bytes (ICAO 9303-11 §6.1)")
    if can is not None and not isinstance(can, str):
        raise ConfigError("the CAN is text (the digits printed on the card), not a number")


def read_document(
    channel: APDUChannel,
    *,
    can: str | None = None,
    mrz: MRZKey | None = None,
    files: Sequence[str] | None = None,
    aa_challenge: bytes | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    policy: ReadPolicy | None = None,
) -> DocumentRead:
    """Open the card (PACE when EF.CardAccess offers it, else BAC) and read its files whole."""
    _check_arguments(can, files, aa_challenge)
    claim = getattr(channel, "claim_card", None)
    if callable(claim):
        claim()  # a reader's card session serves one read (ReaderClient.claim_card)
    session = CardSession(channel)
    reader = FileReader(session, policy)
    method, reason, params, card_access = _access(session, reader, can, mrz)
    log.info("access control %s: %s", method, reason)
    out: dict[str, bytes] = {}
    skipped: dict[str, str] = {}
    if card_access is not None:
        out["EF.CardAccess"] = card_access
    out["EF.COM"] = reader.read("EF.COM", progress)
    present = parse_com(out["EF.COM"]).data_groups
    wanted = list(files) if files is not None else ["EF.SOD", *present]

    # DG14 and DG15 are looked for even when EF.COM (which no signature covers) omits them, so a
    # doctored EF.COM cannot switch Chip or Active Authentication off.
    ca = _chip_authentication(session, reader, "DG14" in present, out, progress)
    if ca is not None and ca.failed and session.sm is None:
        # The failed proof ended secure messaging. Open the card again with the same credentials to
        # read the rest: the verdict judges the failed CA, the reader only reports it.
        log.info("chip authentication failed; opening the card again to finish the read")
        _access(session, reader, can, mrz, card_access=(card_access, "present"))
    order = sorted(set(wanted) - set(out), key=lambda n: FILES[n][0])
    if aa_challenge is not None and "DG15" not in order:
        order.append("DG15")
    for name in order:
        try:
            out[name] = reader.read(name, progress)
        except (FileNotOnCard, FileAccessDenied) as e:
            if name in wanted:
                skipped[name] = str(e)
    aa: AAExchange | None = None
    if aa_challenge is not None and "DG15" in out:
        aa = internal_authenticate(session, aa_challenge)
    stats = ReadStats(reader.commands, reader.batches)
    return DocumentRead(out, method, reason, params, aa, ca, skipped, stats)
