"""Robustness: arbitrary bytes as APDUs never crash the virtual card or leak data without a session.

A short bounded smoke runs by default; ``-m fuzz`` runs the long version.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partycard.issue.image import CardImage
from partycard.sim.card import VirtualCard

from .test_card_terminal import WORKED, Terminal, h

G1 = WORKED["pace_gm_ecdh_G1"]
SECRET = b"DG13 secret bytes " * 4
IMAGE = CardImage(files={"EF.CardAccess": h(G1["EF_CardAccess"]), "DG13": b"\x6d\x48" + SECRET},
                  can="123456", mrz_information=G1["MRZ_information"])

INTERESTING = st.sampled_from([0x00, 0x0C, 0x10, 0x1C, 0x80, 0xFF])
INS = st.sampled_from([0xA4, 0xB0, 0x84, 0x82, 0x22, 0x86, 0x88, 0xCA, 0x00])
APDU = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda cla, ins, p, body: bytes([cla, ins]) + p + body,
              INTERESTING, INS, st.binary(min_size=2, max_size=2), st.binary(max_size=270)),
)


def check(card: VirtualCard, apdus: list[bytes]) -> None:
    for apdu in apdus:
        response = card.transmit(apdu)
        assert len(response) >= 2
        assert response[-2] in (0x90, 0x61, 0x62, 0x63, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6D, 0x6E)
        if card.access is None:
            assert SECRET[:16] not in response  # nothing from the LDS1 files without a session
        assert card.last_processing_s >= 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(APDU, max_size=8))
def test_random_apdus_without_a_session(apdus: list[bytes]) -> None:
    card = VirtualCard(IMAGE)
    card.activate()
    check(card, [h("00A4040C07A0000002471001"), *apdus])


@settings(max_examples=3_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(APDU, max_size=16))
def _long_run(apdus: list[bytes]) -> None:
    card = VirtualCard(IMAGE)
    card.activate()
    check(card, [h("00A4040C07A0000002471001"), *apdus])


@pytest.mark.fuzz
@pytest.mark.timeout(1800)
def test_random_apdus_without_a_session_long(request: pytest.FixtureRequest) -> None:
    if "fuzz" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("long fuzz run: opt in with -m fuzz")
    _long_run()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(APDU, min_size=1, max_size=4))
def test_random_apdus_inside_a_pace_session(apdus: list[bytes]) -> None:
    card = VirtualCard(IMAGE)
    card.activate()
    Terminal(card).pace("123456", can=True)
    for apdu in apdus:
        response = card.transmit(apdu)
        assert len(response) >= 2
    # Garbage ends the session unless it happened to be a well-formed protected command,
    # which random bytes cannot be (the MAC): either way the card still answers.
    assert card.transmit(h("00A4040C07A0000002471001")) == h("9000")
