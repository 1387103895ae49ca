"""The virtual card with issued images: PACE on every curve, BAC, AA, CA, retry counter, faults.

Driven by the test terminal in ``test_card_terminal`` (written from ICAO 9303-11, independent of
the card), with keys and files made by ``partycard issue``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from partycard.issue import CardImage, PKIPaths, clone_card, init_pki, issue_card
from partycard.issue.image import FILE_IDS
from partycard.sim.card import CardFaults, CardQuirks, CardRemovedFromField, VirtualCard

from .test_card_terminal import CardSaid, Terminal, h, tlv_items

NOW = dt.datetime(2025, 8, 18, 9, 0, tzinfo=dt.UTC)
EXAMPLE = Path(__file__).resolve().parents[3] / "host/partycard/issue/examples/member.json"
MEMBER = json.loads(EXAMPLE.read_text("utf-8"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKIPaths:
    return init_pki(tmp_path_factory.mktemp("pki"), now=NOW - dt.timedelta(days=1))


@pytest.fixture(scope="module")
def image(pki: PKIPaths) -> CardImage:
    return issue_card(MEMBER, pki, now=NOW, can="123456")


def fresh(image: CardImage, **knobs: object) -> tuple[VirtualCard, Terminal]:
    quirks = knobs.pop("quirks", None)
    faults = knobs.pop("faults", None)
    card = VirtualCard(image, quirks, faults)  # type: ignore[arg-type]
    info = card.activate()
    assert info["type"] == "A" and info["uid"] == image.uid and info["atqb"] is None
    return card, Terminal(card)


def read_everything(t: Terminal, image: CardImage) -> None:
    t.select_app()
    for name, data in image.files.items():
        if name != "EF.CardAccess":
            assert t.read_file(FILE_IDS[name]) == data, name


@pytest.mark.parametrize(("curve", "bits"), [
    ("brainpoolP256r1", 128), ("P-256", 128), ("brainpoolP384r1", 192), ("P-384", 256),
])
def test_pace_can_on_each_curve_then_read_every_file(pki: PKIPaths, curve: str, bits: int) -> None:
    img = issue_card(MEMBER, pki, now=NOW, can="654321", pace_curve=curve, pace_aes_bits=bits)
    card, t = fresh(img)
    t.pace("654321", can=True, curve=curve, bits=bits)
    assert card.access == "PACE"
    read_everything(t, img)


def test_pace_with_the_mrz(image: CardImage) -> None:
    _, t = fresh(image)
    assert image.mrz_information is not None
    t.pace(image.mrz_information, can=False)
    read_everything(t, image)


def test_bac_on_an_issued_card(image: CardImage) -> None:
    card, t = fresh(image)
    t.select_app()
    assert image.mrz_information is not None
    t.bac(image.mrz_information)
    assert card.access == "BAC"
    assert t.read_file(0x010D) == image.files["DG13"]


def test_pace_only_card_refuses_bac(pki: PKIPaths) -> None:
    img = issue_card(MEMBER, pki, now=NOW, can="123456", bac=False)
    _, t = fresh(img)
    t.select_app()
    with pytest.raises(CardSaid) as err:
        t.bac(img.mrz_information or "")
    assert err.value.sw == 0x6D00


def test_lds_files_need_an_access_control_session(image: CardImage) -> None:
    _, t = fresh(image)
    assert t.raw(h("00B09C0004")) == (image.files["EF.CardAccess"][:4], 0x9000)  # SFI 1C: free
    t.select_app()
    assert t.raw(h("00A4020C02010D")) == (b"", 0x9000)
    assert t.raw(h("00B0000004")) == (b"", 0x6982)
    assert t.raw(h("00B08D0004")) == (b"", 0x6982)  # by short EF id 0D too


def test_a_plain_command_ends_the_session(image: CardImage) -> None:
    card, t = fresh(image)
    t.pace("123456", can=True)
    t.select_app()
    t.sm = None
    assert t.raw(h("00A4020C02010D")) == (b"", 0x9000)
    assert card.sm is None
    assert t.raw(h("00B0000004")) == (b"", 0x6982)


def test_can_retry_counter_blocks_and_success_does_not_spend_a_try(image: CardImage) -> None:
    card, t = fresh(image, quirks=CardQuirks(can_retries=3))
    with pytest.raises(CardSaid) as err:
        t.pace("123456", can=True, wrong_token=True)
    assert err.value.sw == 0x63C2
    t.pace("123456", can=True)  # a good session restores the counter
    assert card.can_tries_left == 3
    for left in (2, 1, 0):
        t.sm = None
        with pytest.raises(CardSaid) as err:
            t.pace("000000", can=True)
        assert err.value.sw == 0x63C0 | left
    with pytest.raises(CardSaid) as err:
        t.pace("123456", can=True)
    assert err.value.sw == 0x6983  # blocked, even with the right CAN
    card.activate()  # a power cycle does not reset the counter
    assert card.can_tries_left == 0


def test_ecdsa_active_authentication_verifies_with_dg15(image: CardImage) -> None:
    _, t = fresh(image)
    t.pace("123456", can=True)
    t.select_app()
    dg15 = t.read_file(0x010F)
    public = serialization.load_der_public_key(tlv_items(dg15)[0x6F])
    assert isinstance(public, ec.EllipticCurvePublicKey)
    challenge = bytes.fromhex("0123456789ABCDEF")
    signature = t.ok(h("00880000"), challenge, le=256)
    half = len(signature) // 2
    r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    der = encode_dss_signature(r, s)
    public.verify(der, challenge, ec.ECDSA(hashes.SHA256()))  # DG14 names ecdsa-plain-SHA256


def test_a_clone_fails_active_authentication(image: CardImage) -> None:
    clone = clone_card(image)
    assert clone.files == image.files
    _, t = fresh(clone)
    t.pace("123456", can=True)
    t.select_app()
    public = serialization.load_der_public_key(tlv_items(t.read_file(0x010F))[0x6F])
    assert isinstance(public, ec.EllipticCurvePublicKey)
    signature = t.ok(h("00880000"), b"\x11" * 8, le=256)
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    with pytest.raises(InvalidSignature):
        public.verify(der, b"\x11" * 8, ec.ECDSA(hashes.SHA256()))


def test_rsa_active_authentication_is_iso9796_2(pki: PKIPaths) -> None:
    img = issue_card(MEMBER, pki, now=NOW, can="123456", aa_key_type="rsa")
    card, t = fresh(img)
    t.pace("123456", can=True)
    t.select_app()
    public = serialization.load_der_public_key(tlv_items(t.read_file(0x010F))[0x6F])
    assert isinstance(public, rsa.RSAPublicKey)
    challenge = b"\x42" * 8
    signature = t.ok(h("00880000"), challenge, le=256)
    n, e = public.public_numbers().n, public.public_numbers().e
    f = pow(int.from_bytes(signature, "big"), e, n).to_bytes(256, "big")
    assert f[0] == 0x6A and f[-1] == 0xBC
    assert hashlib.sha1(f[1:-21] + challenge).digest() == f[-21:-1]  # noqa: S324 - ISO 9796-2 as ICAO uses it
    assert card.last_processing_s > 0.2  # an RSA signature is modelled as slow


def test_active_authentication_needs_secure_messaging(image: CardImage) -> None:
    _, t = fresh(image)
    assert t.raw(h("008800000801020304050607" + "0800")) == (b"", 0x6982)


@pytest.mark.parametrize("via_ga", [False, True])
def test_chip_authentication_restarts_sm_with_new_keys(image: CardImage, via_ga: bool) -> None:
    card, t = fresh(image)
    t.pace("123456", can=True)
    t.select_app()
    dg14 = t.read_file(0x010E)
    assert image.ca_key is not None
    point = image.ca_key.public_bytes()
    assert point in dg14  # the public key the reader would take from DG14
    t.chip_authenticate(point, "brainpoolP256r1", "AES", 128, via_general_authenticate=via_ga,
                        oid=h("04007F00070202030202"))
    assert card.sm is not None and card.sm.ssc == 0  # new keys, counter restarted (9303-11 §6.2)
    assert t.read_file(0x010D) == image.files["DG13"]


def test_chip_authentication_with_a_clone_breaks_the_session(image: CardImage) -> None:
    clone = clone_card(image)
    card, t = fresh(clone)
    t.pace("123456", can=True)
    assert image.ca_key is not None
    t.chip_authenticate(image.ca_key.public_bytes(), "brainpoolP256r1", "AES", 128,
                        via_general_authenticate=False)
    with pytest.raises(CardSaid) as err:  # the two sides derived different keys
        t.select_app()
    assert err.value.sw == 0x6988 and card.sm is None


def test_tearing_at_apdu_k(image: CardImage) -> None:
    card, t = fresh(image, faults=CardFaults(tear_at_apdu=3))
    t.select_app()  # APDU 1
    t.raw(h("00A4020C02011E"))  # APDU 2
    with pytest.raises(CardRemovedFromField):
        t.raw(h("00A4020C02011D"))  # APDU 3: gone
    with pytest.raises(CardRemovedFromField):
        t.raw(h("00A4020C02011D"))
    card.activate()  # back in the field: power-on state, nothing remembered
    assert card.current_df is card.mf and card.sm is None
    t.pace("123456", can=True)
    read_everything(t, image)


def test_corrupted_mac_on_response_k(image: CardImage) -> None:
    _, t = fresh(image, faults=CardFaults(corrupt_mac_at_apdu=7))
    t.pace("123456", can=True)  # APDUs 1-5
    t.select_app()  # 6
    with pytest.raises(AssertionError, match="MAC"):
        t.select_app()  # 7: the card's MAC is damaged on the way


def test_processing_time_model_and_slow_quirk(image: CardImage) -> None:
    card, t = fresh(image)
    t.select_app()
    fast = card.last_processing_s
    card2, t2 = fresh(image, quirks=CardQuirks(slow_factor=4.0, extra_processing_s=0.01))
    t2.select_app()
    assert card2.last_processing_s == pytest.approx(fast * 4 + 0.01)
    t.pace("123456", can=True)
    assert card.last_processing_s < 0.05  # the token step does no EC arithmetic
