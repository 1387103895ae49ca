"""ICAO 9303-11 worked examples (Appendix D, F, G.1) and the AES-256 SM example, byte-exact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from partycard.card.apdu import decode_command
from partycard.card.auth import internal_authenticate
from partycard.card.bac import MRZKey, bac_keys, check_digit, perform_bac
from partycard.card.channel import DirectChannel
from partycard.card.crypto import Curve
from partycard.card.lds.cardaccess import parse_card_access
from partycard.card.pace import perform_pace
from partycard.card.session import CardSession
from partycard.card.sm import KDF_ENC, KDF_MAC, KDF_PACE, Cipher, SecureMessaging, kdf
from partycard.errors import AccessControlError, SecureMessagingError

VEC = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "icao-worked-examples"
     / "icao-9303-11-worked-examples.json").read_text()
)
H = bytes.fromhex


class Replay:
    """A card that answers the published transcript and fails on any byte difference."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = list(pairs)

    def transmit(self, apdu: bytes) -> bytes:
        assert self.pairs, "more commands than in the transcript"
        cmd, resp = self.pairs.pop(0)
        assert apdu.hex().upper() == cmd
        return H(resp)


def test_d1_key_derivation() -> None:
    v = VEC["bac"]["D1_key_derivation_from_kseed"]
    k_enc, k_mac = bac_keys(H(v["Kseed"]))
    assert k_enc.hex().upper() == v["enc"]["KEnc"]
    assert k_mac.hex().upper() == v["mac"]["KMAC"]


@pytest.mark.parametrize("ex", VEC["bac"]["D2_mrz_to_kseed"]["examples"][:2], ids=lambda e: e["name"])
def test_d2_mrz_information_and_seed(ex: dict[str, Any]) -> None:
    key = MRZKey(ex["document_number"], ex["date_of_birth"], ex["date_of_expiry"])
    assert key.information() == ex["MRZ_information"]
    assert key.seed().hex().upper() == ex["Kseed"]
    assert check_digit(ex["date_of_birth"]) == ex["date_of_birth_check_digit"]
    assert "L898" not in repr(key) and "D231" not in repr(key)


def _d3_session(resp_override: str | None = None) -> tuple[CardSession, Iterator[bytes]]:
    d = VEC["bac"]["D3_mutual_authentication"]
    ext = d["external_authenticate"]
    pairs = [(d["get_challenge"]["command"], d["get_challenge"]["response"]),
             (ext["command"], resp_override or ext["response"])]
    randoms = iter([H(d["RND_IFD"]), H(d["K_IFD"])])
    return CardSession(DirectChannel(Replay(pairs))), randoms


def test_d3_bac_mutual_authentication() -> None:
    d = VEC["bac"]["D3_mutual_authentication"]
    session, randoms = _d3_session()
    sm = perform_bac(session, MRZKey("L898902C", "690806", "940623"), random_source=lambda n: next(randoms))
    assert sm.ssc == int(d["SSC"], 16)
    # The session keys are checked through D.4, which uses them: wrap must match byte for byte.
    d4 = VEC["secure_messaging_3des_D4"]["steps"][0]
    assert sm.wrap(decode_command(H(d4["unprotected_command"]))).hex().upper() == d4["protected_command"]


def test_d3_bad_card_mac_is_rejected() -> None:
    resp = VEC["bac"]["D3_mutual_authentication"]["external_authenticate"]["response"]
    bad = resp[:-6] + ("%02X" % (int(resp[-6:-4], 16) ^ 1)) + "9000"
    session, randoms = _d3_session(bad)
    with pytest.raises(AccessControlError, match="MAC"):
        perform_bac(session, MRZKey("L898902C", "690806", "940623"), random_source=lambda n: next(randoms))
    assert session.sm is None


def test_d3_wrong_mrz_reports_mutual_authentication_failure() -> None:
    session, randoms = _d3_session("6300")
    with pytest.raises(AccessControlError, match="mutual authentication failed"):
        perform_bac(session, MRZKey("L898902C", "690806", "940623"), random_source=lambda n: next(randoms))


def _d4() -> tuple[dict[str, Any], SecureMessaging]:
    v = VEC["secure_messaging_3des_D4"]
    return v, SecureMessaging(Cipher.DES3, H(v["KSEnc"]), H(v["KSMAC"]), int(v["SSC_initial"], 16))


def test_d4_secure_messaging_3des() -> None:
    v, sm = _d4()
    data = b""
    for step in v["steps"]:
        wrapped = sm.wrap(decode_command(H(step["unprotected_command"])))
        assert wrapped.hex().upper() == step["protected_command"]
        assert sm.ssc == int(step["SSC_command"], 16)
        out = sm.unwrap(H(step["protected_response"]))
        assert out.authenticated
        assert out.response.encode().hex().upper() == step["unprotected_response"]
        assert sm.ssc == int(step["SSC_response"], 16)
        data += out.data
    assert data.hex().upper() == v["EF_COM"]


def test_d4_bad_mac_rejected_before_status_is_believed() -> None:
    v, sm = _d4()
    step = v["steps"][1]
    sm.wrap(decode_command(H(step["unprotected_command"])))
    ssc = sm.ssc
    resp = bytearray(H(step["protected_response"]))
    resp[-3] ^= 0x01  # last MAC byte
    with pytest.raises(SecureMessagingError, match="MAC"):
        sm.unwrap(bytes(resp))
    assert sm.ssc == ssc


def test_d4_missing_mac_object_is_rejected() -> None:
    v, sm = _d4()
    step = v["steps"][0]
    sm.wrap(decode_command(H(step["unprotected_command"])))
    with pytest.raises(SecureMessagingError, match="8E"):
        sm.unwrap(H("990290009000"))
    with pytest.raises(SecureMessagingError, match="without secure messaging"):
        sm.unwrap(H("9000"))


def test_d4_wrong_ssc_fails_mac() -> None:
    v, sm = _d4()
    step = v["steps"][1]
    sm.wrap(decode_command(H(step["unprotected_command"])))
    with pytest.raises(SecureMessagingError, match="MAC"):
        sm.unwrap_at(H(step["protected_response"]), sm.ssc + 2)


def test_d4_plain_error_status_is_not_authenticated() -> None:
    _, sm = _d4()
    out = sm.unwrap_at(H("6700"), sm.ssc + 1)
    assert not out.authenticated and out.sw == 0x6700


def test_aes256_secure_messaging_example() -> None:
    v = VEC["secure_messaging_aes256_gmrtd_example"]
    sm = SecureMessaging(Cipher.AES256, H(v["KSEnc"]), H(v["KSMAC"]), int(v["SSC_initial"], 16))
    data = b""
    for step in v["steps"]:
        wrapped = sm.wrap(decode_command(H(step["unprotected_command"])))
        assert wrapped.hex().upper() == step["protected_command"]
        data += sm.unwrap(H(step["protected_response"])).data
    assert data.hex().upper() == v["EF_COM"]
    assert sm.ssc == int(v["SSC_final"], 16)


def _g1_session(last_response: str | None = None) -> tuple[CardSession, Any]:
    g = VEC["pace_gm_ecdh_G1"]
    pairs = [(a["command"], a["response"]) for a in g["apdus"]]
    if last_response is not None:
        pairs[-1] = (pairs[-1][0], last_response)
    keys = iter([int(g["mapping"]["terminal_private"], 16), int(g["key_agreement"]["terminal_private"], 16)])
    info = parse_card_access(H(g["EF_CardAccess"])).pace[0]
    return CardSession(DirectChannel(Replay(pairs))), (info, keys)


def test_g1_pace_generic_mapping_ecdh() -> None:
    g = VEC["pace_gm_ecdh_G1"]
    key = MRZKey(g["document_number"], g["date_of_birth"], g["date_of_expiry"])
    assert key.information() == g["MRZ_information"]
    assert kdf(H(g["K_SHA1_MRZ_information"]), KDF_PACE, Cipher.AES128).hex().upper() == g["K_pi"]
    session, (info, keys) = _g1_session()
    sm = perform_pace(session, info, mrz=key, scalar_source=lambda c: next(keys))
    shared = H(g["key_agreement"]["shared_secret_x"])
    assert kdf(shared, KDF_ENC, Cipher.AES128).hex().upper() == g["KSEnc"]
    assert kdf(shared, KDF_MAC, Cipher.AES128).hex().upper() == g["KSMAC"]
    assert sm.ssc == 0 and sm.cipher is Cipher.AES128
    assert session.sm is sm


def test_g1_mapped_generator_from_ecdsa_point_math() -> None:
    m = VEC["pace_gm_ecdh_G1"]["mapping"]
    c = Curve("brainpoolP256r1")
    h = c.mul(int(m["terminal_private"], 16), c.decode(H("04" + m["chip_public_x"] + m["chip_public_y"])))
    assert (h.x, h.y) == (int(m["shared_secret_H_x"], 16), int(m["shared_secret_H_y"], 16))
    g_hat = c.add(c.mul(int(VEC["pace_gm_ecdh_G1"]["nonce_s"], 16), c.generator), h)
    assert (g_hat.x, g_hat.y) == (int(m["mapped_generator_x"], 16), int(m["mapped_generator_y"], 16))


def test_g1_bad_chip_token_is_rejected() -> None:
    g = VEC["pace_gm_ecdh_G1"]
    session, (info, keys) = _g1_session("7C0A86083ABB9674BCE93C099000")
    key = MRZKey(g["document_number"], g["date_of_birth"], g["date_of_expiry"])
    with pytest.raises(AccessControlError, match="T_IC"):
        perform_pace(session, info, mrz=key, scalar_source=lambda c: next(keys))
    assert session.sm is None


def test_g1_wrong_password_is_one_clear_error() -> None:
    g = VEC["pace_gm_ecdh_G1"]
    session, (info, keys) = _g1_session("6300")
    key = MRZKey(g["document_number"], g["date_of_birth"], g["date_of_expiry"])
    with pytest.raises(AccessControlError, match="mutual authentication failed"):
        perform_pace(session, info, mrz=key, scalar_source=lambda c: next(keys))


def test_f_internal_authenticate_command() -> None:
    f = VEC["active_authentication_F"]
    session = CardSession(DirectChannel(Replay([(f["command"], f["S"] + "9000")])))
    aa = internal_authenticate(session, H(f["RND_IFD"]))
    assert aa.signature == H(f["S"]) and aa.challenge == H(f["RND_IFD"])
