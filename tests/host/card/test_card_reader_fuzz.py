"""Robustness: arbitrary bytes into the TLV codec, SM unwrap and the LDS parsers only ever raise
the typed errors. A short bounded smoke runs by default; ``-m fuzz`` runs the long version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partycard.card import tlv
from partycard.card.lds.cardaccess import parse_card_access
from partycard.card.lds.com import parse_com
from partycard.card.lds.dg1 import parse_dg1
from partycard.card.lds.dg2 import parse_dg2
from partycard.card.lds.dg13 import parse_dg13
from partycard.card.lds.dg14 import parse_dg14
from partycard.card.lds.dg15 import parse_dg15
from partycard.card.sm import Cipher, SecureMessaging
from partycard.errors import ParseError, SecureMessagingError

from . import images

BSI = Path(__file__).resolve().parents[2] / "vectors" / "bsi-reference-dataset"
SEEDS: list[tuple[Callable[[bytes], object], bytes]] = [
    (parse_dg1, (BSI / "Datagroup1.bin").read_bytes()),
    (parse_dg14, (BSI / "Datagroup14.bin").read_bytes()),
    (parse_dg15, (BSI / "Datagroup15.bin").read_bytes()),
    (parse_com, (BSI / "EF_COM.bin").read_bytes()),
    (parse_dg13, images.dg13()),
    (parse_card_access, images.card_access()),
    (parse_dg2, (BSI / "Datagroup2.bin").read_bytes()[:600]),
]
SM = SecureMessaging(Cipher.AES128, bytes(16), bytes(range(16)), 5)


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    b = bytearray(data)
    for pos, val in edits:
        if b:
            b[pos % len(b)] = val
    return bytes(b)


def _check_tlv(data: bytes) -> None:
    try:
        for item in tlv.parse_all(data):
            if item.constructed:
                item.children()
    except ParseError:
        pass


def _check_parsers(idx: int, edits: list[tuple[int, int]], cut: int) -> None:
    parse, seed = SEEDS[idx % len(SEEDS)]
    data = _mutate(seed, edits)[: max(0, len(seed) - cut)]
    try:
        parse(data)
    except ParseError:
        pass


def _check_sm(data: bytes) -> None:
    try:
        SM.unwrap_at(data + b"\x90\x00", 6)
    except SecureMessagingError:
        pass


edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_tlv_smoke(data: bytes) -> None:
    _check_tlv(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 100), edits, st.integers(0, 40))
def test_lds_parsers_smoke(idx: int, e: list[tuple[int, int]], cut: int) -> None:
    _check_parsers(idx, e, cut)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_sm_unwrap_smoke(data: bytes) -> None:
    _check_sm(data)


@pytest.mark.fuzz
@settings(max_examples=20_000, deadline=None)
@given(st.integers(0, 100), edits, st.integers(0, 200), st.binary(max_size=400))
def test_long_fuzz(idx: int, e: list[tuple[int, int]], cut: int, data: bytes) -> None:
    _check_parsers(idx, e, cut)
    _check_tlv(data)
    _check_sm(data)
