"""Simulator layer, virtual card: the card OS (RF, APDU dispatch, state); must not import partycard.card.

The card operating system — RF activation, APDU dispatch, state.

Must not import ``partycard.card``: this is the card side, written independently of the reader
side so the two cannot share a bug unnoticed. Implements the profile of protocol/card-profile.md
as a contactless ICAO 9303 chip: SELECT/READ BINARY over the MF and the LDS1 application, BAC,
PACE-GM, secure messaging, Active and Chip Authentication, with quirk and fault knobs.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from partycard.issue.curves import curve_by_param_id
from partycard.issue.image import CardImage
from partycard.issue.keys import RsaKey
from partycard.sim.card import apdu as sw
from partycard.sim.card.apdu import CardStatus, Command, parse_command
from partycard.sim.card.bac import BACFailure, bac_keys, external_authenticate
from partycard.sim.card.chipauth import ChipAuthFailure, chip_authentication, internal_authenticate
from partycard.sim.card.files import FileHandler
from partycard.sim.card.fs import build_fs, read_config
from partycard.sim.card.knobs import (
    DEFAULT_PROCESSING_S,
    EC_MULT_S,
    RSA_SIGN_S,
    SM_OVERHEAD_S,
    CardFaults,
    CardQuirks,
    CardRemovedFromField,
)
from partycard.sim.card.pace import PASSWORD_CAN, PASSWORD_MRZ, PACEChip, PACEFailure, password_key
from partycard.sim.card.sm import SMFailure, SMSession
from partycard.sim.card.tlv import TLVError, find, parse_all, tlv

Response = tuple[bytes, int]


class VirtualCard(FileHandler):
    """A personalised chip in a virtual RF field: ``activate()`` then ``transmit(apdu)``."""

    def __init__(self, image: CardImage, quirks: CardQuirks | None = None, faults: CardFaults | None = None,
                 *, rng: Callable[[int], bytes] | None = None) -> None:
        self.image = image
        self.quirks = quirks or CardQuirks()
        self.faults = faults or CardFaults()
        self.rng: Callable[[int], bytes] = rng or secrets.token_bytes
        self.mf, self.app = build_fs(image.files)
        self.config = read_config(image.files.get("EF.CardAccess"), image.files.get("DG14"))
        self.apdu_count = 0
        self.last_processing_s = 0.0
        self.can_tries_left = self.quirks.can_retries
        self.in_field = False
        self._reset()

    def __repr__(self) -> str:
        return f"VirtualCard({self.image!r}, in_field={self.in_field})"

    # --- RF ----------------------------------------------------------------------------

    def _reset(self) -> None:
        """Power-on state: MF selected, no session, no pending protocol (ISO/IEC 7816-4 §7.1)."""
        self.current_df = self.mf
        self.current_ef = None
        self.sm: SMSession | None = None
        self.access: str | None = None  # "BAC" or "PACE" once a session is up
        self.challenge: bytes | None = None
        self.pace: PACEChip | None = None
        self.pace_password = 0
        self.ca_oid: bytes | None = None
        self._next_sm: SMSession | None = None
        self._cost_s = 0.0

    def activate(self) -> dict[str, object]:
        """ISO/IEC 14443-4 activation (type A): the card powers up with a fresh state."""
        self.in_field = True
        self._reset()
        uid = b"\x08" + self.rng(3) if self.quirks.random_uid else self.image.uid
        return {"type": "A", "uid": uid, "ats": self.image.ats, "atqb": None}

    def remove(self) -> None:
        """Take the card out of the field (state is lost, as on power loss)."""
        self.in_field = False

    def transmit(self, apdu: bytes) -> bytes:
        """Process one command APDU; return response data ‖ SW1 SW2."""
        self.apdu_count += 1
        if not self.in_field:
            raise CardRemovedFromField("the card is not in the field")
        if self.faults.tear_at_apdu == self.apdu_count:
            self.in_field = False
            raise CardRemovedFromField(f"card torn away at APDU {self.apdu_count}")
        self._cost_s = 0.0
        ins = apdu[1] if len(apdu) > 1 else 0
        response, protected = self._process(bytes(apdu))
        base = self.quirks.processing_s.get(ins, DEFAULT_PROCESSING_S.get(ins, 0.003))
        total = base + self._cost_s + (SM_OVERHEAD_S if protected else 0.0)
        self.last_processing_s = total * self.quirks.slow_factor + self.quirks.extra_processing_s
        if self.faults.corrupt_mac_at_apdu == self.apdu_count:
            response = _corrupt(response, protected)
        return response

    # --- dispatch ----------------------------------------------------------------------

    def _end_session(self) -> None:
        self.sm = None
        self.access = None
        self.pace = None
        self.ca_oid = None

    def _process(self, raw: bytes) -> tuple[bytes, bool]:
        try:
            cmd = parse_command(raw)
        except CardStatus as exc:
            return sw.sw_bytes(exc.sw), False
        if cmd.extended and not self.quirks.extended_length:
            return sw.sw_bytes(sw.SW_WRONG_LENGTH), False
        if cmd.cla & ~0x1C & 0xFF:
            return sw.sw_bytes(sw.SW_CLA_NOT_SUPPORTED), False
        if cmd.cla & 0x0C:
            return self._process_protected(cmd), True
        if self.sm is not None:
            self._end_session()  # an unprotected command ends the SM session (9303-11 §9.8.4)
        data, status = self._execute(cmd, protected=False)
        self._activate_next_session()
        return data + sw.sw_bytes(status), False

    def _process_protected(self, cmd: Command) -> bytes:
        session = self.sm
        if session is None or cmd.cla & 0x0C != 0x0C:
            return sw.sw_bytes(sw.SW_SM_BAD_DO)
        try:
            inner = session.unwrap(cmd)
        except SMFailure as exc:
            self._end_session()
            return sw.sw_bytes(exc.sw)
        data, status = self._execute(inner, protected=True)
        if self.quirks.sm_plain_errors and status >> 8 not in (0x90, 0x62, 0x63):
            return sw.sw_bytes(status)
        out = session.wrap(data, status)  # CA answers under the old keys, then switches
        self._activate_next_session()
        return out

    def _activate_next_session(self) -> None:
        if self._next_sm is not None:
            self.sm, self._next_sm = self._next_sm, None

    def _execute(self, cmd: Command, *, protected: bool) -> Response:
        handlers: dict[int, Callable[[Command, bool], Response]] = {
            0xA4: self._select,
            0xB0: self._read_binary,
            0x84: self._get_challenge,
            0x82: self._external_authenticate,
            0x22: self._mse,
            0x86: self._general_authenticate,
            0x88: self._internal_authenticate,
        }
        handler = handlers.get(cmd.ins)
        if handler is None:
            return b"", sw.SW_INS_NOT_SUPPORTED
        try:
            return handler(cmd, protected)
        except CardStatus as exc:
            return b"", exc.sw
        except TLVError:  # malformed data objects anywhere in the command data
            return b"", sw.SW_WRONG_DATA

    # --- BAC ---------------------------------------------------------------------------

    def _get_challenge(self, cmd: Command, protected: bool) -> Response:
        if cmd.p1 or cmd.p2:
            raise CardStatus(sw.SW_INCORRECT_P1P2)
        if cmd.le != 8:
            raise CardStatus(sw.SW_WRONG_LENGTH)
        self.challenge = self.rng(8)
        return self.challenge, sw.SW_OK

    def _external_authenticate(self, cmd: Command, protected: bool) -> Response:
        if not self.image.bac or not self.image.mrz_information:
            raise CardStatus(sw.SW_INS_NOT_SUPPORTED)
        if self.challenge is None:
            raise CardStatus(sw.SW_CONDITIONS)
        challenge, self.challenge = self.challenge, None  # one try per challenge
        k_enc, k_mac = bac_keys(self.image.mrz_information)
        try:
            out, session = external_authenticate(k_enc, k_mac, challenge, cmd.data, self.rng(16))
        except BACFailure as exc:
            raise CardStatus(sw.SW_AUTH_FAILED) from exc
        self._next_sm, self.access = session, "BAC"
        return out, sw.SW_OK

    # --- PACE --------------------------------------------------------------------------

    def _mse(self, cmd: Command, protected: bool) -> Response:
        try:
            dos = dict(parse_all(cmd.data))
        except TLVError as exc:
            raise CardStatus(sw.SW_WRONG_DATA) from exc
        p1p2 = (cmd.p1 << 8) | cmd.p2
        if p1p2 == 0xC1A4:
            return self._mse_pace(dos)
        if p1p2 in (0x41A4, 0x41A6):
            if self.sm is None or self.image.ca_key is None:
                raise CardStatus(sw.SW_SECURITY if self.sm is None else sw.SW_REF_NOT_FOUND)
            if p1p2 == 0x41A4:  # MSE:Set AT for CA; GENERAL AUTHENTICATE follows (9303-11 §6.2.4.2)
                if dos.get(0x80) != self.config.ca_oid:
                    raise CardStatus(sw.SW_WRONG_DATA)
                self.ca_oid = dos[0x80]
                return b"", sw.SW_OK
            return self._chip_authenticate(dos.get(0x91))  # MSE:Set KAT (9303-11 §6.2.4.1)
        raise CardStatus(sw.SW_INCORRECT_P1P2)

    def _mse_pace(self, dos: dict[int, bytes]) -> Response:
        oid, ref = dos.get(0x80), dos.get(0x83)
        options = [o for o in self.config.pace if o.oid == oid]
        if 0x84 in dos:
            options = [o for o in options if o.parameter_id == int.from_bytes(dos[0x84], "big")]
        if not options or ref is None:
            raise CardStatus(sw.SW_WRONG_DATA)
        password_ref = ref[0] if len(ref) == 1 else 0
        if password_ref == PASSWORD_CAN and self.image.can:
            if self.can_tries_left == 0:
                raise CardStatus(sw.SW_BLOCKED)
            secret = self.image.can
        elif password_ref == PASSWORD_MRZ and self.image.mrz_information:
            secret = self.image.mrz_information
        else:
            raise CardStatus(sw.SW_REF_NOT_FOUND)
        option = options[0]
        self.pace = PACEChip(option, curve_by_param_id(option.parameter_id),
                             password_key(password_ref, secret), self.rng)
        self.pace_password = password_ref
        return b"", sw.SW_OK

    def _general_authenticate(self, cmd: Command, protected: bool) -> Response:
        if self.ca_oid is not None and protected:
            self.ca_oid = None
            try:
                inner = find(find(cmd.data, 0x7C) or b"", 0x80)
            except TLVError as exc:
                raise CardStatus(sw.SW_WRONG_DATA) from exc
            self._chip_authenticate(inner)
            return tlv(0x7C, b""), sw.SW_OK
        pace = self.pace
        if pace is None or cmd.p1 or cmd.p2:
            raise CardStatus(sw.SW_CONDITIONS if pace is None else sw.SW_INCORRECT_P1P2)
        self._cost_s += EC_MULT_S * {1: 0, 2: 3, 3: 2, 4: 0}.get(pace.step_no + 1, 0)
        try:
            out = pace.step(cmd.data)
        except PACEFailure as exc:
            self.pace = None
            if exc.auth_failed:
                raise CardStatus(self._pace_failed()) from exc
            raise CardStatus(sw.SW_WRONG_DATA) from exc
        if pace.done:
            self._end_session()
            self._next_sm, self.access = pace.session(), "PACE"
            if self.pace_password == PASSWORD_CAN:
                self.can_tries_left = self.quirks.can_retries  # a session that succeeds costs nothing
        return out, sw.SW_OK

    def _pace_failed(self) -> int:
        if self.pace_password != PASSWORD_CAN or self.can_tries_left is None:
            return sw.SW_AUTH_FAILED
        self.can_tries_left = max(0, self.can_tries_left - 1)
        return 0x63C0 | min(self.can_tries_left, 0xF)

    # --- AA and CA ---------------------------------------------------------------------

    def _chip_authenticate(self, terminal_point: bytes | None) -> Response:
        key, cipher = self.image.ca_key, self.config.ca_cipher
        if key is None or cipher is None or terminal_point is None:
            raise CardStatus(sw.SW_WRONG_DATA if terminal_point is None else sw.SW_REF_NOT_FOUND)
        self._cost_s += EC_MULT_S
        try:
            self._next_sm = chip_authentication(key, terminal_point, cipher)
        except ChipAuthFailure as exc:
            raise CardStatus(sw.SW_WRONG_DATA) from exc
        return b"", sw.SW_OK

    def _internal_authenticate(self, cmd: Command, protected: bool) -> Response:
        if self.image.aa_key is None:
            raise CardStatus(sw.SW_INS_NOT_SUPPORTED)
        if not protected:
            raise CardStatus(sw.SW_SECURITY)
        if cmd.p1 or cmd.p2:
            raise CardStatus(sw.SW_INCORRECT_P1P2)
        if len(cmd.data) != 8:
            raise CardStatus(sw.SW_WRONG_LENGTH)
        self._cost_s += RSA_SIGN_S if isinstance(self.image.aa_key, RsaKey) else EC_MULT_S
        try:
            return internal_authenticate(self.image.aa_key, cmd.data, self.config.aa_hash, self.rng), sw.SW_OK
        except ChipAuthFailure as exc:
            raise CardStatus(sw.SW_CONDITIONS) from exc


def _corrupt(response: bytes, protected: bool) -> bytes:
    """Flip one bit: in the DO8E MAC (just before the SW) when protected, else the last byte before SW."""
    out = bytearray(response)
    if protected and len(out) >= 12 and out[-12:-10] == b"\x8e\x08":
        out[-3] ^= 0x01
    elif len(out) > 2:
        out[-3] ^= 0x01
    else:
        out[-1] ^= 0x01
    return bytes(out)
