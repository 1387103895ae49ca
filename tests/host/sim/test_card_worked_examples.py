"""The virtual card's side of the ICAO 9303-11 worked examples (Appendix D, F, G.1).

Each test runs the card with the example's card-side randoms (RND.IC, K.IC, nonce s, the chip's
private keys) and checks every byte the card computes against the published values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from partycard.issue.image import CardImage
from partycard.issue.keys import RsaKey
from partycard.sim.card import VirtualCard
from partycard.sim.card.apdu import parse_command
from partycard.sim.card.bac import bac_keys
from partycard.sim.card.chipauth import iso9796_2_sign
from partycard.sim.card.sm import SMSession

from .test_card_terminal import WORKED, h

D3 = WORKED["bac"]["D3_mutual_authentication"]
D4 = WORKED["secure_messaging_3des_D4"]
G1 = WORKED["pace_gm_ecdh_G1"]
AES = WORKED["secure_messaging_aes256_gmrtd_example"]
SELECT_LDS1 = h("00A4040C07A0000002471001")


def scripted(*chunks: str) -> Callable[[int], bytes]:
    """A random source that yields exactly the given values, in order, and checks their sizes."""
    queue = [h(c) for c in chunks]

    def rng(n: int) -> bytes:
        value = queue.pop(0)
        assert len(value) == n, f"card asked for {n} random bytes, the example has {len(value)}"
        return value

    return rng


def bac_card() -> VirtualCard:
    image = CardImage(files={"EF.COM": h(D4["EF_COM"])}, mrz_information="L898902C<369080619406236")
    card = VirtualCard(image, rng=scripted(D3["RND_IC"], D3["K_IC"]))
    card.activate()
    assert card.transmit(SELECT_LDS1) == h("9000")
    return card


def test_bac_keys_from_mrz_are_appendix_d2() -> None:
    k_enc, k_mac = bac_keys(WORKED["bac"]["D2_mrz_to_kseed"]["examples"][1]["MRZ_information"])
    assert (k_enc.hex().upper(), k_mac.hex().upper()) == (D3["KEnc"], D3["KMAC"])


def test_bac_card_answers_appendix_d3_and_derives_its_session_keys() -> None:
    card = bac_card()
    assert card.transmit(h(D3["get_challenge"]["command"])).hex().upper() == D3["get_challenge"]["response"]
    answer = card.transmit(h(D3["external_authenticate"]["command"]))
    assert answer.hex().upper() == D3["external_authenticate"]["response"]
    assert card.sm is not None and card.access == "BAC"
    assert card.sm.ks_enc.hex().upper() == D3["KSEnc"]
    assert card.sm.ks_mac.hex().upper() == D3["KSMAC"]
    assert card.sm.ssc.to_bytes(8, "big").hex().upper() == D3["SSC"]


@pytest.mark.parametrize("flip", [0, 35])  # a byte of E.IFD, a byte of M.IFD
def test_bac_card_refuses_a_damaged_cryptogram(flip: int) -> None:
    card = bac_card()
    card.transmit(h(D3["get_challenge"]["command"]))
    cmd = bytearray(h(D3["external_authenticate"]["command"]))
    cmd[5 + flip] ^= 0x01
    assert card.transmit(bytes(cmd)) == h("6300")
    assert card.sm is None
    # The challenge was used up: a replay of the genuine command is refused too.
    assert card.transmit(h(D3["external_authenticate"]["command"])) == h("6985")


def test_bac_card_refuses_a_wrong_rnd_ic_echo() -> None:
    image = CardImage(files={}, mrz_information="L898902C<369080619406236")
    card = VirtualCard(image, rng=scripted("0000000000000001", D3["K_IC"]))  # not the example's RND.IC
    card.activate()
    card.transmit(h("0084000008"))
    assert card.transmit(h(D3["external_authenticate"]["command"])) == h("6300")


def test_card_secure_messaging_reproduces_appendix_d4() -> None:
    card = bac_card()
    card.transmit(h(D3["get_challenge"]["command"]))
    card.transmit(h(D3["external_authenticate"]["command"]))
    for step in D4["steps"]:
        answer = card.transmit(h(step["protected_command"]))
        assert answer.hex().upper() == step["protected_response"], step["name"]
    assert card.sm is not None
    assert card.sm.ssc.to_bytes(8, "big").hex().upper() == D4["SSC_final"]


@pytest.mark.parametrize(("vector", "cipher", "ssc_len"), [(D4, "3DES", 8), (AES, "AES", 16)])
def test_card_sm_unwrap_and_wrap(vector: dict, cipher: str, ssc_len: int) -> None:
    """Card-side SM primitives alone: D.4 (3DES) and the AES-256 example."""
    session = SMSession(cipher, h(vector["KSEnc"]), h(vector["KSMAC"]), h(vector["SSC_initial"]))
    assert session.ssc_len == ssc_len
    for step in vector["steps"]:
        plain = session.unwrap(parse_command(h(step["protected_command"])))
        expected = parse_command(h(step["unprotected_command"]))
        assert (plain.cla, plain.ins, plain.p1, plain.p2, plain.data) == (
            expected.cla, expected.ins, expected.p1, expected.p2, expected.data)
        assert plain.le == expected.le
        data = h(step.get("decrypted_data", ""))
        assert session.wrap(data, 0x9000).hex().upper() == step["protected_response"]
    assert session.ssc.to_bytes(ssc_len, "big").hex().upper() == vector["SSC_final"]


def test_wrong_command_mac_gives_6988_and_ends_the_session() -> None:
    card = bac_card()
    card.transmit(h(D3["get_challenge"]["command"]))
    card.transmit(h(D3["external_authenticate"]["command"]))
    cmd = bytearray(h(D4["steps"][0]["protected_command"]))
    cmd[-2] ^= 0x01  # last MAC byte (before Le)
    assert card.transmit(bytes(cmd)) == h("6988")
    assert card.sm is None and card.access is None
    # The genuine protected command cannot be used any more: no session.
    assert card.transmit(h(D4["steps"][0]["protected_command"])) == h("6988")


def pace_card() -> VirtualCard:
    image = CardImage(files={"EF.CardAccess": h(G1["EF_CardAccess"])}, mrz_information=G1["MRZ_information"])
    card = VirtualCard(image, rng=scripted(G1["nonce_s"], G1["mapping"]["chip_private"],
                                           G1["key_agreement"]["chip_private"]))
    card.activate()
    return card


def test_pace_card_reproduces_g1() -> None:
    card = pace_card()
    for apdu in G1["apdus"]:
        assert card.transmit(h(apdu["command"])).hex().upper() == apdu["response"], apdu["step"]
    assert card.access == "PACE" and card.sm is not None
    assert card.sm.ks_enc.hex().upper() == G1["KSEnc"]
    assert card.sm.ks_mac.hex().upper() == G1["KSMAC"]
    assert card.sm.ssc == 0 and card.sm.ssc_len == 16


def test_pace_card_accepts_the_parameter_id_form_of_mse() -> None:
    card = pace_card()
    assert card.transmit(h("0022C1A412800A04007F0007020204020283010184010D")) == h("9000")
    for apdu in G1["apdus"][1:]:
        assert card.transmit(h(apdu["command"])).hex().upper() == apdu["response"]


def test_pace_card_refuses_a_wrong_terminal_token() -> None:
    card = pace_card()
    for apdu in G1["apdus"][:-1]:
        card.transmit(h(apdu["command"]))
    bad = bytearray(h(G1["apdus"][-1]["command"]))
    bad[9] ^= 0x80  # first byte of T_IFD (00 86 00 00 0C 7C 0A 85 08 T…)
    assert card.transmit(bytes(bad)) == h("6300")
    assert card.sm is None and card.access is None


def test_pace_card_refuses_a_point_off_the_curve() -> None:
    card = pace_card()
    card.transmit(h(G1["apdus"][0]["command"]))
    card.transmit(h(G1["apdus"][1]["command"]))
    bad = bytearray(h(G1["apdus"][2]["command"]))
    bad[-2] ^= 0x01  # last byte of y: the point leaves the curve
    assert card.transmit(bytes(bad)) == h("6A80")


def test_rsa_active_authentication_builds_the_appendix_f_message() -> None:
    """With the example's M1 and challenge, the card's signature opens to the example's F."""
    f = WORKED["active_authentication_F"]
    key = RsaKey(rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505 - as Appendix F
    signature = iso9796_2_sign(key, h(f["M2"]), scripted(f["M1"]))
    numbers = key.key.public_key().public_numbers()
    recovered = pow(int.from_bytes(signature, "big"), numbers.e, numbers.n).to_bytes(128, "big")
    assert recovered.hex().upper() == f["F"]
    assert hashlib.sha1(h(f["M1"]) + h(f["M2"])).hexdigest().upper() == f["H_SHA1_M1_M2"]  # noqa: S324
